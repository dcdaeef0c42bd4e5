"""Exactly one job run per logical event, however often and however concurrently it is delivered."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from gluetrigger.handler import RetryableEventError

from .conftest import Emulator
from .helpers import counter, custom_event, example, failed_ids, invoke, sqs_batch

pytestmark = pytest.mark.integration


def test_same_event_five_times_in_a_row_starts_one_run(aws: Emulator) -> None:
    event = example("s3-notification")

    responses = [invoke(event) for _ in range(5)]

    first = {run["trigger"]: run["JobRunId"] for run in responses[0]["runs"]}
    assert not any(run["duplicate"] for run in responses[0]["runs"])
    for later in responses[1:]:
        assert {run["trigger"]: run["JobRunId"] for run in later["runs"]} == first
        assert all(run["duplicate"] for run in later["runs"])
    assert [r["Id"] for r in aws.job_runs("it-sales-etl")] == [first["sales-arrival"]]
    assert [r["Id"] for r in aws.job_runs("it-partner-ingest")] == [first["partner-drop"]]


def test_same_event_from_eight_threads_at_once_starts_one_run(
    aws: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    event = custom_event("Single Slot")
    barrier = threading.Barrier(8)
    results: list[Any] = []
    lock = threading.Lock()

    def deliver() -> None:
        barrier.wait()
        try:
            outcome: Any = invoke(event)
        except Exception as error:
            outcome = error
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    [run] = aws.job_runs("it-single-slot")
    responses = [r for r in results if isinstance(r, dict)]
    errors = [r for r in results if not isinstance(r, dict)]
    assert len(results) == 8
    assert responses  # the delivery that got the key started the run
    assert all(isinstance(error, RetryableEventError) for error in errors), errors
    assert [r["runs"][0]["JobRunId"] for r in responses] == [run["Id"]] * len(responses)
    assert [r["runs"][0]["duplicate"] for r in responses].count(False) <= 1
    # Deliveries held back by the in-progress record never reached Glue: no StartJobRun error.
    assert counter(capsys.readouterr().out, "StartJobRunErrors") == 0
    # A redelivery of a delivery that failed retryably finds the run started.
    assert invoke(event)["runs"][0] == {
        "trigger": "single-slot",
        "idempotency_key": f"single-slot:{event['id']}",
        "job_name": "it-single-slot",
        "JobRunId": run["Id"],
        "duplicate": True,
    }


def test_duplicate_messages_in_one_sqs_batch_start_one_run(aws: Emulator) -> None:
    body = example("eventbridge-custom-event")

    response = invoke(sqs_batch(body, body, body))

    assert response == {"batchItemFailures": []}
    assert len(aws.job_runs("it-orders-load")) == 1


def test_record_expires_after_the_triggers_ttl(aws: Emulator) -> None:
    invoke(example("s3-notification"))  # sales-arrival: default 24 h; partner-drop: 600 s

    now = time.time()
    expiries = sorted(int(item["expiration"]["N"]) - now for item in aws.idempotency_records())
    assert [item["status"]["S"] for item in aws.idempotency_records()] == ["COMPLETED", "COMPLETED"]
    assert expiries[0] == pytest.approx(600, abs=30)
    assert expiries[1] == pytest.approx(86400, abs=30)


def test_record_keys_carry_the_service_prefix_and_trigger_not_the_function_name(aws: Emulator) -> None:
    invoke(custom_event("Single Slot"))

    [record] = aws.idempotency_records()
    # Per trigger, so each function's role can be limited to its own trigger's records.
    assert record["id"]["S"].startswith("gluetrigger#single-slot#")
    assert record["data"]["S"].startswith('{"JobRunId": "jr_')


def test_failed_start_is_not_remembered_and_a_redelivery_starts_the_run(aws: Emulator) -> None:
    event = custom_event("Missing Job")
    with pytest.raises(Exception, match="EntityNotFoundException"):
        invoke(event)
    assert aws.idempotency_records() == []

    aws.create_job("it-missing-job")
    response = invoke(event)

    assert response["runs"][0]["duplicate"] is False
    assert [r["Id"] for r in aws.job_runs("it-missing-job")] == [response["runs"][0]["JobRunId"]]


def test_redelivered_batch_skips_what_started_and_retries_what_failed(aws: Emulator) -> None:
    batch = sqs_batch(custom_event("Single Slot"), custom_event("Missing Job"))
    assert failed_ids(invoke(batch)) == [batch["Records"][1]["messageId"]]

    aws.create_job("it-missing-job")
    assert invoke(batch) == {"batchItemFailures": []}

    assert len(aws.job_runs("it-single-slot")) == 1
    assert len(aws.job_runs("it-missing-job")) == 1
