"""Fuzzing the deployed handler: hostile and malformed payloads, direct and in SQS batches, on moto.

The core's and the CLI's fuzz tests (tests/unit/test_fuzz_*) drive the pure parts; this one drives
the whole handler as Lambda calls it, with the AWS calls real (moto's server through the proxy)
and a dead-letter queue configured, as the stack deploys it. For every payload: no exception
escapes that is not the handler's contract, no message ends as an unclassified defect
(MessageFailed), nothing is retryable (there is no AWS fault here: malformed input is permanent),
a payload the formats refuse starts no run, and whatever failed is in the DLQ with a reason.
`make chaos` runs it with 10,000 examples.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings

from gluetrigger.core.config import compile_config, parse_config
from gluetrigger.handler import PermanentEventError
from gluetrigger.runtime.composition import build_service
from gluetrigger.runtime.environment import HandlerEnvironment
from gluetrigger.runtime.lambda_context import LocalLambdaContext
from gluetrigger.runtime.outcomes import DeadLettered, MessageFailed, RunFailed, RunStarted
from tests.unit.fuzzing import FUZZ_CONFIG, payloads, qualifies

from .conftest import TABLE, Emulator

if TYPE_CHECKING:
    from gluetrigger.runtime.outcomes import Outcome
    from gluetrigger.runtime.service import Service
    from tests.unit.fuzzing import Payload

pytestmark = pytest.mark.integration


class Recorder:
    def __init__(self) -> None:
        self.told: list[Outcome] = []

    def observe(self, outcome: Outcome) -> None:
        self.told.append(outcome)


@pytest.fixture
def fuzzed(aws: Emulator) -> tuple[Service, Recorder]:
    for job in sorted({trigger["job"]["name"] for trigger in FUZZ_CONFIG["triggers"]}):
        aws.create_job(job, max_concurrent_runs=1000)
    dlq = aws.client("sqs").create_queue(QueueName="fuzz-dead-letters")["QueueUrl"]
    environment = HandlerEnvironment(
        idempotency_table=TABLE,
        config_json=json.dumps(compile_config(parse_config(FUZZ_CONFIG))),
        dead_letter_queue_url=dlq,
        max_receive_count=5,
    )
    recorder = Recorder()
    return build_service(environment, observers=[recorder]), recorder


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(payload=payloads())
def test_fuzz_every_payload_ends_classified_and_malformed_ones_start_nothing(
    fuzzed: tuple[Service, Recorder], payload: Payload
) -> None:
    service, recorder = fuzzed
    recorder.told.clear()
    event: Any = payload.decoded()

    try:
        service(event, LocalLambdaContext())
    except PermanentEventError:
        pytest.fail(f"a permanent failure was not dead-lettered: {payload.how}")

    told = recorder.told
    assert [o for o in told if isinstance(o, MessageFailed)] == [], payload.how
    assert [o.failure for o in told if isinstance(o, RunFailed) and o.failure.retryable] == [], payload.how
    if not qualifies(event):
        assert [o for o in told if isinstance(o, RunStarted)] == [], payload.how
    for dead in (o for o in told if isinstance(o, DeadLettered)):
        assert dead.reason.strip(), payload.how
        assert "\n" not in dead.reason, payload.how
