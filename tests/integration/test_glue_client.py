"""The Glue adapter on its own, for timeouts: the handler's client waits 5 s for an answer, too long
for a test, so these use a client with a short read timeout through the same proxy."""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.config import Config

from gluetrigger.runtime.glue_client import GlueJobStarter, RetryPolicy, StartJobRunError

from .conftest import REGION, Emulator
from .fault_proxy import Fault

pytestmark = pytest.mark.integration

START = "AWSGlue.StartJobRun"
READ_TIMEOUT = 0.3


def starter(aws: Emulator) -> GlueJobStarter:
    client = boto3.session.Session().client(
        "glue",
        region_name=REGION,
        endpoint_url=aws.proxy.url,
        config=Config(
            read_timeout=READ_TIMEOUT, connect_timeout=1, retries={"mode": "standard", "total_max_attempts": 1}
        ),
    )
    policy = RetryPolicy(attempt_budget_ms=int((READ_TIMEOUT + 1) * 1000))
    return GlueJobStarter(client, policy)


def test_read_timeout_is_retried_and_the_retry_is_told(aws: Emulator) -> None:
    aws.proxy.inject(START, Fault(drop=True, delay_seconds=1.0, times=1))
    retries: list[tuple[str, int]] = []

    run_id = (
        starter(aws)
        .start_job_run(
            {"JobName": "it-single-slot"},
            remaining_ms=lambda: 60_000,
            on_retry=lambda failure, attempt, _delay: retries.append((failure.code, attempt)),
        )
        .job_run_id
    )

    assert aws.proxy.count(START) == 2
    assert [r["Id"] for r in aws.job_runs("it-single-slot")] == [run_id]
    assert retries == [("ReadTimeoutError", 1)]


def test_timeouts_until_the_deadline_end_in_a_retryable_error(aws: Emulator) -> None:
    aws.proxy.inject(START, Fault(drop=True, delay_seconds=1.0))
    deadline = time.monotonic() + 5.0

    def remaining_ms() -> int:
        return int((deadline - time.monotonic()) * 1000)

    with pytest.raises(StartJobRunError) as raised:
        starter(aws).start_job_run({"JobName": "it-single-slot"}, remaining_ms)

    assert raised.value.failure.code == "ReadTimeoutError"
    assert raised.value.failure.retryable
    assert raised.value.attempts == aws.proxy.count(START) < RetryPolicy().max_attempts + 1
    assert remaining_ms() >= RetryPolicy().safety_margin_ms
