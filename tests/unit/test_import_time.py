"""Cold-start budget: what the handler imports, by module (not by time, which varies by machine).

Pydantic (Powertools' parser) adds about 45% to a cold start, Powertools' batch processing
about 15% (the handler builds partial batch responses itself), the X-Ray SDK a lot when tracing
is off, and the handler never reads YAML. A fresh interpreter runs ``python -X importtime`` and
reports every module it imported, on the direct-invocation path and on the SQS path; as a
control, importing batch processing on purpose is seen. The invocations use events that start
nothing, so no AWS endpoint is contacted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gluetrigger.core.config import compile_config, parse_config

EXAMPLES = Path(__file__).parents[2] / "examples" / "events"
BATCH = "aws_lambda_powertools.utilities.batch"
NEVER = ("pydantic", "aws_lambda_powertools.utilities.parser", "aws_xray_sdk", "yaml")
# What only some triggers use, which a plain S3 trigger's function never loads: schedules and
# timezones (zoneinfo), batching and retrying. Each frozen dataclass costs about 1 ms to create.
UNUSED_BY_S3 = (
    "gluetrigger.core.schedule",
    "gluetrigger.runtime.batching",
    "gluetrigger.runtime.batch_store",
    "gluetrigger.runtime.retrying",
)
CONFIG = {"triggers": [{"name": "t", "source": {"type": "s3", "bucket": "landing"}, "job": {"name": "j"}}]}
INVOKE = """
import json, sys
from gluetrigger.handler import handler
from gluetrigger.runtime.lambda_context import LocalLambdaContext
handler(json.loads(sys.argv[1]), LocalLambdaContext())
"""


def imported_modules(code: str, *args: str) -> set[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GLUETRIGGER_", "POWERTOOLS_"))},
        "GLUETRIGGER_CONFIG": json.dumps(compile_config(parse_config(CONFIG))),
        "GLUETRIGGER_IDEMPOTENCY_TABLE": "unused",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # never contacted: nothing is started
    }
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    # Lines look like "import time:  self [us] | cumulative | imported package".
    return {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


def loaded(modules: set[str], name: str) -> bool:
    return any(module == name or module.startswith(f"{name}.") for module in modules)


def example(name: str) -> str:
    return (EXAMPLES / f"{name}.json").read_text()


def test_importing_the_handler_loads_nothing_heavy() -> None:
    modules = imported_modules("import gluetrigger.handler")
    assert "gluetrigger.handler" in modules
    assert [name for name in (*NEVER, BATCH) if loaded(modules, name)] == []


@pytest.mark.parametrize("event", ["s3-test-event", "s3-object-removed"])
def test_direct_invocation_loads_nothing_heavy(event: str) -> None:
    modules = imported_modules(INVOKE, example(event))
    assert "gluetrigger.core.planner" in modules
    assert [name for name in (*NEVER, BATCH) if loaded(modules, name)] == []


def test_sqs_invocation_loads_nothing_heavy() -> None:
    batch = json.loads(example("sqs-s3-notifications"))
    batch["Records"] = batch["Records"][:1]
    batch["Records"][0]["body"] = example("s3-test-event")

    modules = imported_modules(INVOKE, json.dumps(batch))

    assert "gluetrigger.core.planner" in modules
    assert [name for name in (*NEVER, BATCH, *UNUSED_BY_S3) if loaded(modules, name)] == []


def test_the_check_sees_batch_processing_when_it_is_loaded() -> None:
    assert loaded(imported_modules(f"import {BATCH}"), BATCH)
