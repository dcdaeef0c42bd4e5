"""StartJobRun failures: retryable ones are retried within bounds, then handed back to the platform;
permanent ones fail at once. Faults moto cannot produce come from the fault proxy."""

from __future__ import annotations

import pytest

from gluetrigger.handler import PermanentEventError, RetryableEventError

from .conftest import Emulator
from .fault_proxy import Fault
from .helpers import captured_logs, counter, custom_event, invoke

pytestmark = pytest.mark.integration

START = "AWSGlue.StartJobRun"
PUT_ITEM = "DynamoDB_20120810.PutItem"
MAX_ATTEMPTS = 4  # RetryPolicy's default

RETRYABLE = [
    (400, "ThrottlingException"),
    (400, "TooManyRequestsException"),
    (400, "OperationTimeoutException"),
    (500, "InternalServiceException"),
    (503, "ServiceUnavailable"),
    (502, "BadGateway"),
]
PERMANENT = [(400, "InvalidInputException"), (400, "AccessDeniedException"), (400, "ValidationException")]


@pytest.mark.parametrize(("status", "code"), RETRYABLE)
def test_retryable_error_is_retried_in_process(aws: Emulator, status: int, code: str) -> None:
    aws.proxy.inject(START, Fault(status, code, times=2))

    with captured_logs() as logs:
        response = invoke(custom_event("Single Slot"))

    assert aws.proxy.count(START) == 3
    assert [r["Id"] for r in aws.job_runs("it-single-slot")] == [response["runs"][0]["JobRunId"]]
    retries = [line for line in logs if line["message"] == "StartJobRun failed, retrying"]
    assert [(line["error_code"], line["attempt"]) for line in retries] == [(code, 1), (code, 2)]


@pytest.mark.parametrize("code", ["ConcurrentRunsExceededException", "ResourceNumberLimitExceededException"])
def test_a_full_job_or_quota_is_not_retried_in_process_a_slot_frees_only_when_a_run_ends(
    aws: Emulator, code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    aws.proxy.inject(START, Fault(400, code))

    with pytest.raises(RetryableEventError, match=code):
        invoke(custom_event("Single Slot"))

    assert aws.proxy.count(START) == 1
    out = capsys.readouterr().out
    assert (counter(out, "RunsHeldBack"), counter(out, "StartJobRunErrors")) == (1, 0)  # backpressure, not failure


def test_persistent_throttling_gives_up_after_bounded_attempts_and_nothing_is_remembered(
    aws: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    event = custom_event("Single Slot")
    aws.proxy.inject(START, Fault(400, "ThrottlingException"))

    with pytest.raises(RetryableEventError, match="ThrottlingException"):
        invoke(event)

    assert aws.proxy.count(START) == MAX_ATTEMPTS
    assert aws.job_runs("it-single-slot") == []
    assert aws.idempotency_records() == []
    # Throttling is capacity: it waits, it does not count as an error (nor trip that alarm).
    out = capsys.readouterr().out
    assert (counter(out, "RunsHeldBack"), counter(out, "StartJobRunErrors")) == (1, 0)

    aws.proxy.reset()
    assert invoke(event)["runs"][0]["duplicate"] is False
    assert len(aws.job_runs("it-single-slot")) == 1


def test_intermittent_throttling_each_event_starts_once_or_fails_retryably(aws: Emulator) -> None:
    aws.proxy.inject(START, Fault(400, "ThrottlingException", rate=0.5))
    outcomes: list[str] = []

    for _ in range(8):
        calls_before = aws.proxy.count(START)
        try:
            outcomes.append(invoke(custom_event("Legacy Capacity"))["runs"][0]["JobRunId"])
        except RetryableEventError:
            outcomes.append("retry")
        assert aws.proxy.count(START) - calls_before <= MAX_ATTEMPTS

    started = [outcome for outcome in outcomes if outcome != "retry"]
    assert sorted(r["Id"] for r in aws.job_runs("it-legacy-capacity")) == sorted(started)
    sent = aws.proxy.requests(START)
    assert 0 < sum(r.faulted for r in sent) < len(sent)
    assert len(sent) - sum(r.faulted for r in sent) == len(started)


def test_no_retry_when_the_invocation_is_about_to_time_out(aws: Emulator) -> None:
    aws.proxy.inject(START, Fault(400, "ThrottlingException", delay_seconds=1.0))

    with pytest.raises(RetryableEventError):
        # An attempt may take 7 s plus 2 s to record it: one fits in 10 s; after the first
        # answer, a second no longer does.
        invoke(custom_event("Single Slot"), timeout_seconds=10)

    assert aws.proxy.count(START) == 1


def test_no_attempt_begins_that_cannot_finish_before_the_deadline(aws: Emulator) -> None:
    with pytest.raises(RetryableEventError, match="InvocationDeadline"):
        invoke(custom_event("Single Slot"), timeout_seconds=5)

    assert aws.proxy.count(START) == 0
    assert aws.job_runs("it-single-slot") == []
    assert aws.idempotency_records() == []  # nothing was sent: the redelivery starts afresh


def test_connection_closed_without_an_answer_is_retried(aws: Emulator) -> None:
    aws.proxy.inject(START, Fault(drop=True, times=1))

    response = invoke(custom_event("Single Slot"))

    assert aws.proxy.count(START) == 2
    assert [r["Id"] for r in aws.job_runs("it-single-slot")] == [response["runs"][0]["JobRunId"]]


@pytest.mark.parametrize(("status", "code"), PERMANENT)
def test_permanent_error_is_not_retried(aws: Emulator, status: int, code: str) -> None:
    aws.proxy.inject(START, Fault(status, code))

    with captured_logs() as logs, pytest.raises(PermanentEventError, match=code):
        invoke(custom_event("Single Slot"))

    assert aws.proxy.count(START) == 1
    assert aws.idempotency_records() == []
    [error] = [line for line in logs if line["level"] == "ERROR"]
    assert code in error["reasons"][0]


def test_job_that_does_not_exist_fails_permanently_without_a_retry_loop(
    aws: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(PermanentEventError, match="missing-job: EntityNotFoundException"):
        invoke(custom_event("Missing Job"))

    assert aws.proxy.count(START) == 1
    assert counter(capsys.readouterr().out, "StartJobRunErrors", ErrorCode="EntityNotFoundException") == 1


def test_concurrent_runs_exceeded_is_retryable_at_once_and_a_redelivery_after_the_run_starts_one(aws: Emulator) -> None:
    glue = aws.client("glue")
    event = custom_event("Single Slot")
    with aws.job_runs_held():
        blocker = glue.start_job_run(JobName="it-single-slot")["JobRunId"]

        with pytest.raises(RetryableEventError, match="ConcurrentRunsExceededException"):
            invoke(event)
        assert aws.proxy.count(START) == 1  # a slot frees only when a run ends: never retried in-process
        assert aws.idempotency_records() == []

        states = [glue.get_job_run(JobName="it-single-slot", RunId=blocker)["JobRun"]["JobRunState"] for _ in range(2)]
        assert states == ["RUNNING", "SUCCEEDED"]
        redelivered = invoke(event)
        again = invoke(event)

    started = redelivered["runs"][0]
    assert started["duplicate"] is False
    assert again["runs"][0] == {**started, "duplicate": True}
    assert sorted(r["Id"] for r in aws.job_runs("it-single-slot")) == sorted([blocker, started["JobRunId"]])


def test_idempotency_store_unavailable_is_retryable_and_glue_is_not_called(aws: Emulator) -> None:
    aws.proxy.inject(PUT_ITEM, Fault(500, "InternalServerError"))

    with pytest.raises(RetryableEventError, match="IdempotencyPersistenceLayerError"):
        invoke(custom_event("Single Slot"))

    assert aws.proxy.count(START) == 0
    assert aws.proxy.count(PUT_ITEM) == 3  # botocore's retries for DynamoDB: 3 attempts in all
