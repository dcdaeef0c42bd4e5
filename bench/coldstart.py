"""Cold start: import + init + one S3 file via SQS, in fresh interpreters, the three handlers interleaved.

A sample is one fresh interpreter that imports a handler module (gluetrigger's init runs at
import, as on Lambda), builds a context and handles one SQS message carrying one S3
notification against moto's server, timed from the interpreter's first line to the handler's
return: interpreter start-up is the same for all three and left out. Rounds rotate the order
(ABC, BCA, CAB, ...) so no handler always runs first after a pause; each sample's file is new,
so every one starts a run (a duplicate would skip StartJobRun).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

from bench.common import HANDLERS, JOB, TABLE, function_environment, sqs_s3_event, summary

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["SAMPLE", "cold_starts", "prepare_account"]

SAMPLE = """
import time
from context import Context
started = time.perf_counter()
import importlib, json, sys
module = importlib.import_module(sys.argv[1])
result = module.handler(json.loads(sys.argv[2]), Context())
elapsed = time.perf_counter() - started
print(json.dumps({"ms": elapsed * 1000, "result": result}))
"""


def prepare_account(endpoint: str) -> None:
    """The Glue job and the idempotency table every handler uses, in the emulator at ``endpoint``."""
    import boto3

    from gluetrigger.core.idempotency_record import key_schema

    options: dict[str, Any] = {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "bench",
        "aws_secret_access_key": "bench",
    }
    boto3.client("glue", **options).create_job(
        Name=JOB, Role="arn:aws:iam::123456789012:role/glue", Command={"Name": "glueetl"}
    )
    boto3.client("dynamodb", **options).create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST", **key_schema())


def _sample(module: str, key: str, environment: dict[str, str]) -> float:
    result = subprocess.run(
        [sys.executable, "-c", SAMPLE, module, json.dumps(sqs_s3_event(key))],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    reply = json.loads(result.stdout.strip().splitlines()[-1])
    if reply["result"] != {"batchItemFailures": []}:
        raise RuntimeError(f"{module} failed the cold-start event: {reply['result']}\n{result.stdout[-2000:]}")
    return float(reply["ms"])


def cold_starts(asset: Path, endpoint: str, rounds: int) -> dict[str, dict[str, float]]:
    """Milliseconds per handler (median, min, max over ``rounds`` interleaved rounds)."""
    environment = {**_base_environment(), **function_environment(asset, endpoint)}
    names = list(HANDLERS)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(_sample(HANDLERS[name], f"cold-{index}-{name.replace(' ', '-')}.csv", environment))
    return {name: summary(values) for name, values in samples.items()}


def _base_environment() -> dict[str, str]:
    """This process's environment without anything that would change how a handler runs."""
    import os

    prefixes = ("AWS_", "GLUETRIGGER_", "POWERTOOLS_", "PYTHON", "LAMBDA_", "BENCH_")
    return {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
