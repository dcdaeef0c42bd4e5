"""Backpressure: at Glue's concurrency limit nothing is dropped, and few calls are wasted.

The handler runs as the stack configures a queued trigger: with its own queue's URL, where a
message waiting for Glue capacity is sent again with a delay, and a dead-letter queue. The
queue is a real SQS queue in moto; the tests drive it as Lambda's event source mapping would:
receive, invoke the handler with the batch, delete what it handled. moto's state manager keeps
job runs going for a while, and StartJobRun then enforces the job's MaxConcurrentRuns.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from gluetrigger.core.run_key import DEFAULT_RUN_KEY_ARGUMENT
from gluetrigger.runtime import backpressure
from gluetrigger.runtime.backpressure import DEFERRALS_ATTRIBUTE, WAITING_SINCE_ATTRIBUTE, HoldBackPolicy
from gluetrigger.runtime.composition import build_service
from gluetrigger.runtime.environment import DEAD_LETTER_QUEUE_URL_ENV, QUEUE_URL_ENV, HandlerEnvironment
from gluetrigger.runtime.lambda_context import LocalLambdaContext

from .fault_proxy import Fault
from .helpers import example, failed_ids, sqs_event_from

if TYPE_CHECKING:
    from collections.abc import Iterator

    from gluetrigger.runtime.service import Service

    from .conftest import Emulator

pytestmark = pytest.mark.integration

START = "AWSGlue.StartJobRun"
SEND = "AmazonSQS.SendMessage"
JOB = "it-single-slot"
# 20 in `make test`; GLUETRIGGER_BURST_FILES=100 for the figure (about 2 minutes).
BURST_FILES = int(os.environ.get("GLUETRIGGER_BURST_FILES", "20"))
# moto advances a run one state (STARTING, RUNNING, SUCCEEDED) per read at least this many seconds
# after the last: with the queue read every second or so, a run lasts about 2 s.
RUN_STEP_SECONDS = 0.5
# A safety net, not a goal: the drain waits on growing delays, and is slower on a loaded machine.
DRAIN_LIMIT_SECONDS = 150 + 20 * BURST_FILES


@dataclass(frozen=True)
class QuickPolicy(HoldBackPolicy):
    """The production policy scaled to runs of a second (production's base suits runs of minutes)."""

    base_seconds: int = 1


@dataclass(frozen=True)
class Queues:
    """The trigger's queue (``url``, ``arn``) and the dead-letter queue."""

    url: str
    arn: str
    dlq: str


@pytest.fixture
def queues(aws: Emulator) -> Queues:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="it-burst")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return Queues(url, arn, sqs.create_queue(QueueName="it-burst-dlq")["QueueUrl"])


@pytest.fixture
def service(aws: Emulator, queues: Queues, monkeypatch: pytest.MonkeyPatch) -> Service:
    """The handler as the stack configures a queued trigger: its own queue and the DLQ."""
    monkeypatch.setenv(QUEUE_URL_ENV, queues.url)
    monkeypatch.setenv(DEAD_LETTER_QUEUE_URL_ENV, queues.dlq)
    return build_service(HandlerEnvironment.from_env())


@pytest.fixture
def timed_runs(aws: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Job runs last about a second (two steps of moto's time progression), then succeed."""
    monkeypatch.setattr(backpressure, "HoldBackPolicy", QuickPolicy)
    transition = {"progression": "time", "seconds": RUN_STEP_SECONDS}
    aws.moto_api("state-manager/set-transition", {"model_name": "glue::job_run", "transition": transition})
    yield
    aws.moto_api("state-manager/unset-transition", {"model_name": "glue::job_run"})


def file_event(key: str) -> str:
    """The EventBridge Object Created event of a new file, as its rule puts it in the queue."""
    event = example("eventbridge-s3-object-created")
    event["id"] = str(uuid.uuid4())
    event["detail"]["object"].update(key=key, sequencer=uuid.uuid4().hex[:16])
    return json.dumps(event)


def land(aws: Emulator, queues: Queues, prefix: str, count: int) -> list[str]:
    """``count`` files land at once: their events are in the trigger's queue."""
    keys = [f"{prefix}/{index:03d}.csv" for index in range(count)]
    for key in keys:
        aws.client("sqs").send_message(QueueUrl=queues.url, MessageBody=file_event(key))
    return keys


def receive(aws: Emulator, url: str, wait_seconds: int = 1) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = (
        aws.client("sqs")
        .receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=30,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        .get("Messages", [])
    )
    return messages


def queue_is_empty(aws: Emulator, url: str) -> bool:
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible",
    ]
    counts = aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return all(int(counts[name]) == 0 for name in names)


def deliver(aws: Emulator, queues: Queues, service: Service, messages: list[dict[str, Any]]) -> list[str]:
    """What Lambda's event source mapping does with a batch: invoke, delete what was handled."""
    response = service(sqs_event_from(messages, queues.arn), LocalLambdaContext())
    failed = failed_ids(response)
    for message in messages:
        if message["MessageId"] not in failed:
            aws.client("sqs").delete_message(QueueUrl=queues.url, ReceiptHandle=message["ReceiptHandle"])
    return failed


def drain(aws: Emulator, queues: Queues, service: Service) -> float:
    """Deliver the queue's messages until none is left, visible or delayed; the seconds it took."""
    began = time.monotonic()
    while time.monotonic() - began < DRAIN_LIMIT_SECONDS:
        # moto moves a run on only when it is read: read them as Glue's clock would move them.
        aws.job_runs(JOB)
        messages = receive(aws, queues.url)
        if messages:
            deliver(aws, queues, service, messages)
        elif queue_is_empty(aws, queues.url):
            return time.monotonic() - began
    raise AssertionError(f"the queue did not drain in {DRAIN_LIMIT_SECONDS} s")


def run_keys(aws: Emulator) -> list[str]:
    return [run["Arguments"][DEFAULT_RUN_KEY_ARGUMENT] for run in aws.job_runs(JOB)]


def attributes(message: dict[str, Any]) -> dict[str, str]:
    return {name: value["StringValue"] for name, value in message.get("MessageAttributes", {}).items()}


def test_when_the_queue_does_not_take_the_copy_the_message_is_reported_failed_not_lost(
    aws: Emulator, queues: Queues, service: Service
) -> None:
    land(aws, queues, "burst", 1)
    aws.proxy.inject(SEND, Fault(500, "InternalError"))
    with aws.job_runs_held():
        aws.client("glue").start_job_run(JobName=JOB)  # takes the job's only slot
        [message] = receive(aws, queues.url)
        failed = deliver(aws, queues, service, [message])

    assert failed == [message["MessageId"]]  # SQS redelivers it
    assert aws.proxy.count(SEND) == 3  # botocore's retries for SQS, then the handler gave up
    assert receive(aws, queues.dlq, wait_seconds=0) == []
    assert aws.proxy.count(START) == 1  # refused once, never retried in-process


def test_a_run_refused_for_a_slot_is_sent_again_delayed_with_its_wait_and_the_original_handled(
    aws: Emulator, queues: Queues, service: Service
) -> None:
    land(aws, queues, "burst", 1)
    with aws.job_runs_held():
        aws.client("glue").start_job_run(JobName=JOB)
        [message] = receive(aws, queues.url)
        before = datetime.now(UTC).replace(microsecond=0)
        failed = deliver(aws, queues, service, [message])

        assert failed == []
        assert aws.proxy.count(START) == 1
        [copy] = aws.proxy.requests(SEND)
        sent = copy.json()
        assert sent["MessageBody"] == message["Body"]  # untouched
        assert 5 <= sent["DelaySeconds"] <= 10
        assert sent["MessageAttributes"][DEFERRALS_ATTRIBUTE] == {"DataType": "Number", "StringValue": "1"}
        since = datetime.fromisoformat(sent["MessageAttributes"][WAITING_SINCE_ATTRIBUTE]["StringValue"])
        assert before <= since <= datetime.now(UTC)
        assert receive(aws, queues.url, wait_seconds=0) == []  # delayed


def test_past_max_wait_the_message_goes_to_the_dlq_with_the_reason(
    aws: Emulator, queues: Queues, service: Service
) -> None:
    since = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="seconds")
    waiting = {
        DEFERRALS_ATTRIBUTE: {"DataType": "Number", "StringValue": "9"},
        WAITING_SINCE_ATTRIBUTE: {"DataType": "String", "StringValue": since},
    }
    aws.client("sqs").send_message(
        QueueUrl=queues.url, MessageBody=file_event("burst/late.csv"), MessageAttributes=waiting
    )
    with aws.job_runs_held():
        aws.client("glue").start_job_run(JobName=JOB)
        failed = deliver(aws, queues, service, receive(aws, queues.url))

    assert failed == []
    [letter] = receive(aws, queues.dlq)
    reason = attributes(letter)["gluetrigger-reason"]
    assert re.fullmatch(
        r"waited 720\d s for Glue capacity \(burst: ConcurrentRunsAtLimit: 1 run\(s\) of job it-single-slot are "
        r"active, its limit is 1: held back before StartJobRun\), over max_wait 3600 s",
        reason,
    )
    assert attributes(letter)["gluetrigger-trigger"] == "burst"
    assert aws.proxy.count(START) == 0  # a message that waited before asks for a slot before calling
    assert aws.proxy.count(SEND) == 1  # the dead letter only


def test_a_crash_between_sending_the_copy_and_deleting_the_original_still_starts_one_run(
    aws: Emulator, queues: Queues, service: Service
) -> None:
    land(aws, queues, "burst", 1)
    with aws.job_runs_held():
        blocker = aws.client("glue").start_job_run(JobName=JOB)["JobRunId"]
        [original] = receive(aws, queues.url)
        service(sqs_event_from([original], queues.arn), LocalLambdaContext())  # copy sent; never deleted
    # Runs now finish at once: the blocker is over.

    aws.client("sqs").change_message_visibility(
        QueueUrl=queues.url, ReceiptHandle=original["ReceiptHandle"], VisibilityTimeout=0
    )
    drain(aws, queues, service)

    # The blocker's run and the file's, once, from two copies of its event: the second was a duplicate.
    assert len([run for run in aws.job_runs(JOB) if run["Id"] != blocker]) == 1
    assert aws.proxy.count(START) == 2  # refused once, then started once
    assert receive(aws, queues.dlq, wait_seconds=0) == []


def test_max_concurrent_runs_holds_a_run_back_before_glue_refuses(
    aws: Emulator, queues: Queues, service: Service
) -> None:
    land(aws, queues, "held", 1)
    with aws.job_runs_held():
        aws.client("glue").start_job_run(JobName="it-held")  # 1 of Glue's 10 slots; the trigger allows 1
        failed = deliver(aws, queues, service, receive(aws, queues.url))

    assert failed == []
    assert aws.proxy.count(START) == 0
    assert aws.proxy.count("AWSGlue.GetJobRuns") == 1
    [copy] = aws.proxy.requests(SEND)
    assert copy.json()["MessageAttributes"][DEFERRALS_ATTRIBUTE]["StringValue"] == "1"


def test_a_burst_for_a_job_with_one_slot_starts_every_file_once_and_dead_letters_nothing(
    aws: Emulator, queues: Queues, timed_runs: None, service: Service
) -> None:
    land(aws, queues, "burst", BURST_FILES)

    seconds = drain(aws, queues, service)

    keys = run_keys(aws)
    assert len(keys) == len(set(keys)) == BURST_FILES
    assert receive(aws, queues.dlq, wait_seconds=0) == []
    calls = aws.proxy.count(START)
    print(f"\n{BURST_FILES} files: {calls / BURST_FILES:.2f} StartJobRun calls per file, drained in {seconds:.0f} s")
    assert calls <= 3 * BURST_FILES
