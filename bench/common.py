"""What the bench's sections share: the trigger, its staged code asset, its environment and its events.

Every comparison runs the deployed path: the code asset as ``infra.code_asset.stage`` builds it
(bytecode included when this interpreter matches the runtime), first on ``PYTHONPATH``, the
config read from the asset's file, and the environment the stack gives a function. The three
handlers compared (gluetrigger's, :mod:`bare_handler`, :mod:`powertools_handler`) all read an
SQS batch whose one message carries one S3 notification.
"""

from __future__ import annotations

import json
import statistics
import sys
import zlib
from pathlib import Path
from typing import Any

__all__ = [
    "BENCH_DIR",
    "FUNCTION",
    "HANDLERS",
    "JOB",
    "ROOT",
    "TABLE",
    "function_environment",
    "sqs_s3_event",
    "stage_asset",
    "summary",
]

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
JOB = "bench-etl"
TABLE = "bench-idempotency"
FUNCTION = "bench"
# Handler modules by variant, as Lambda's handler string names them (module.handler).
HANDLERS = {"gluetrigger": "gluetrigger.handler", "bare boto3": "bare_handler", "powertools": "powertools_handler"}
CONFIG = {
    "triggers": [
        {
            "name": FUNCTION,
            "source": {"type": "s3", "bucket": "landing", "prefix": "in/"},
            "job": {"name": JOB, "arguments": {"--input": "s3://${bucket}/${key}"}},
        }
    ]
}
_EXAMPLE = ROOT / "examples" / "events" / "sqs-s3-notifications.json"


def stage_asset(directory: Path) -> Path:
    """The function's code asset, staged into ``directory`` as the stack stages it.

    For the runtime of this interpreter, which runs the handlers: the asset carries the
    bytecode a deployed function loads (compiled for Lambda's runtime, which this machine may lack).
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # infra/ is a package of the root, which `python bench/run.py` does not add
    from gluetrigger.core.config import parse_config
    from infra.code_asset import stage

    stage(
        directory,
        parse_config(CONFIG),
        {FUNCTION: [FUNCTION]},
        runtime=f"python{sys.version_info[0]}.{sys.version_info[1]}",
    )
    return directory


def function_environment(asset: Path, endpoint: str | None) -> dict[str, str]:
    """The deployed function's environment (see infra/trigger_function.py), for the staged ``asset``."""
    from gluetrigger.core.idempotency_record import KEY_ATTRIBUTE
    from infra.code_asset import config_file

    assert KEY_ATTRIBUTE == "id"  # the baselines write the same table layout
    environment = {
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
        "LAMBDA_TASK_ROOT": str(asset),
        "GLUETRIGGER_CONFIG_FILE": config_file(FUNCTION),
        "GLUETRIGGER_IDEMPOTENCY_TABLE": TABLE,
        "GLUETRIGGER_DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/bench-dlq",
        "GLUETRIGGER_MAX_RECEIVE_COUNT": "5",
        "GLUETRIGGER_TRACING": "false",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": FUNCTION,
        "POWERTOOLS_METRICS_NAMESPACE": "GlueTrigger",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "BENCH_JOB": JOB,
        # /var/task is read-only on Lambda: nothing is compiled on the fly and kept.
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": f"{asset}:{BENCH_DIR}",
    }
    if endpoint is not None:
        environment["AWS_ENDPOINT_URL"] = endpoint
    return environment


def sqs_s3_event(key: str) -> dict[str, Any]:
    """An SQS batch of one message carrying the S3 notification of ``key`` in the bench's bucket."""
    event: dict[str, Any] = json.loads(_EXAMPLE.read_text(encoding="utf-8"))
    message = event["Records"][0]
    notification = json.loads(message["body"])
    record = notification["Records"][0]
    record["awsRegion"] = "us-east-1"
    record["s3"]["bucket"]["name"] = "landing"
    record["s3"]["object"]["key"] = f"in/{key}"
    record["s3"]["object"]["sequencer"] = f"{zlib.crc32(key.encode()):016X}"
    notification["Records"] = [record]
    message["body"] = json.dumps(notification)
    event["Records"] = [message]
    return event


def summary(samples: list[float]) -> dict[str, float]:
    """Median, min and max of ``samples``."""
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples), "n": len(samples)}
