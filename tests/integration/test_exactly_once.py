"""Exactly one run per event when StartJobRun's outcome is unknown or its recording fails.

Each test puts the handler in one of the windows where, without the run key, a second run would
start: an answer that never came, a lookup that cannot answer, a function that died between
StartJobRun and recording the result, a record that could not be completed. The faults come
from the proxy in front of moto (and, for a dead function, from the record such a death
leaves: in progress, past its deadline). Runs are counted in Glue, by the job's GetJobRuns.
"""

from __future__ import annotations

import time

import pytest

from gluetrigger.core.idempotency_record import IN_PROGRESS_EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE, STATUS_ATTRIBUTE
from gluetrigger.core.run_key import DEFAULT_RUN_KEY_ARGUMENT
from gluetrigger.handler import RetryableEventError

from .conftest import TABLE, Emulator
from .fault_proxy import Fault
from .helpers import custom_event, invoke

pytestmark = pytest.mark.integration

START = "AWSGlue.StartJobRun"
LOOKUP = "AWSGlue.GetJobRuns"
SAVE_SUCCESS = "DynamoDB_20120810.UpdateItem"
JOB = "it-single-slot"


def runs(aws: Emulator) -> list[str]:
    return [run["Id"] for run in aws.job_runs(JOB)]


def expire_in_progress_records(aws: Emulator) -> int:
    """What a dead function leaves once its deadline has passed: its in-progress records, expired."""
    dynamodb = aws.client("dynamodb")
    expired = 0
    for item in aws.idempotency_records():
        if item[STATUS_ATTRIBUTE]["S"] == "INPROGRESS":
            dynamodb.update_item(
                TableName=TABLE,
                Key={KEY_ATTRIBUTE: item[KEY_ATTRIBUTE]},
                UpdateExpression="SET #deadline = :past",
                ExpressionAttributeNames={"#deadline": IN_PROGRESS_EXPIRY_ATTRIBUTE},
                ExpressionAttributeValues={":past": {"N": str(int(time.time() * 1000) - 1000)}},
            )
            expired += 1
    return expired


def test_a_5xx_before_glue_acted_is_looked_up_then_sent_again(aws: Emulator) -> None:
    aws.proxy.inject(START, Fault(500, "InternalServiceException", times=1))

    response = invoke(custom_event("Single Slot"))

    assert runs(aws) == [response["runs"][0]["JobRunId"]]
    assert aws.proxy.count(LOOKUP) == 1  # asked before sending again
    assert aws.proxy.count(START) == 2


def test_when_the_lookup_cannot_answer_the_run_stays_marked_and_nothing_is_sent_again(aws: Emulator) -> None:
    event = custom_event("Single Slot")
    aws.proxy.inject(START, Fault(500, "InternalServiceException", times=1))
    aws.proxy.inject(LOOKUP, Fault(500, "InternalServiceException"))

    with pytest.raises(RetryableEventError, match="may have started"):
        invoke(event)

    assert aws.proxy.count(START) == 1
    [record] = aws.idempotency_records()
    assert record[STATUS_ATTRIBUTE]["S"] == "INPROGRESS"  # kept, not deleted: the run may exist
    aws.proxy.reset()
    with pytest.raises(RetryableEventError, match="another delivery"):
        invoke(event)  # before the first invocation's deadline: wait
    assert aws.proxy.count(START) == 0

    assert expire_in_progress_records(aws) == 1
    response = invoke(event)  # after it: look, find nothing, start
    assert runs(aws) == [response["runs"][0]["JobRunId"]]


def test_a_function_that_died_after_starting_the_run_leaves_it_to_be_adopted(aws: Emulator) -> None:
    event = custom_event("Single Slot")
    # The run starts, and every attempt to record it fails, as if the function had died there.
    aws.proxy.inject(SAVE_SUCCESS, Fault(500, "InternalServerError"))
    first = invoke(event)["runs"][0]["JobRunId"]
    assert runs(aws) == [first]
    assert [r[STATUS_ATTRIBUTE]["S"] for r in aws.idempotency_records()] == ["INPROGRESS"]
    aws.proxy.reset()

    assert expire_in_progress_records(aws) == 1
    again = invoke(event)["runs"][0]

    assert runs(aws) == [first]
    assert again["JobRunId"] == first
    assert aws.proxy.count(START) == 0
    assert aws.proxy.count(LOOKUP) == 1
    # Adopted and now recorded: a third delivery is a plain duplicate.
    assert invoke(event)["runs"][0]["duplicate"] is True


def test_an_adopted_run_is_found_by_its_run_key_among_others(aws: Emulator) -> None:
    glue = aws.client("glue")
    for n in range(5):  # runs of the same job started by other events
        glue.start_job_run(JobName=JOB, Arguments={DEFAULT_RUN_KEY_ARGUMENT: f"other-{n}"})
    event = custom_event("Single Slot")
    aws.proxy.inject(SAVE_SUCCESS, Fault(500, "InternalServerError"))
    first = invoke(event)["runs"][0]["JobRunId"]
    aws.proxy.reset()
    expire_in_progress_records(aws)

    assert invoke(event)["runs"][0]["JobRunId"] == first
    assert len(runs(aws)) == 6


def test_a_failed_save_reports_the_run_started_and_completes_the_record(aws: Emulator) -> None:
    event = custom_event("Single Slot")
    aws.proxy.inject(SAVE_SUCCESS, Fault(500, "InternalServerError", times=3))  # the client's own 3 attempts

    first = invoke(event)["runs"][0]

    assert first["duplicate"] is False
    assert [r[STATUS_ATTRIBUTE]["S"] for r in aws.idempotency_records()] == ["COMPLETED"]
    assert invoke(event)["runs"][0] == {**first, "duplicate": True}
    assert runs(aws) == [first["JobRunId"]]
