"""Retries: a trigger's failed runs started again, by Glue's own retry (JobRunId), up to max_attempts.

The handler runs as the stack configures a queued trigger (its own queue, the DLQ) against moto's
server through the fault proxy. moto's job runs never fail on their own (its state manager only
moves them to SUCCEEDED), so the tests play Glue's side: for a run that exists in moto they deliver
the "Glue Job State Change" event Glue would put on the bus (AWS's documented shape) with state
FAILED, as the stack's rule puts it in the trigger's queue. moto's StartJobRun takes ``JobRunId``
and records it as the new run's ``PreviousRunId``, as Glue does.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from gluetrigger.core.config import compile_config, parse_config
from gluetrigger.core.run_key import DEFAULT_RUN_KEY_ARGUMENT
from gluetrigger.runtime.composition import build_service
from gluetrigger.runtime.environment import (
    CONFIG_JSON_ENV,
    DEAD_LETTER_QUEUE_URL_ENV,
    QUEUE_URL_ENV,
    HandlerEnvironment,
)
from gluetrigger.runtime.lambda_context import LocalLambdaContext
from gluetrigger.runtime.outcomes import EventIgnored, RetriesExhausted, RetryDelayed, RetryFailed, RunRetried
from gluetrigger.runtime.retrying import RETRY_DELAYED_ATTRIBUTE

from .fault_proxy import Fault
from .helpers import custom_event, example, failed_ids, sqs_batch, sqs_event_from

if TYPE_CHECKING:
    from gluetrigger.runtime.outcomes import Outcome
    from gluetrigger.runtime.service import Service

    from .conftest import Emulator

pytestmark = pytest.mark.integration

JOB, LATER_JOB = "it-retried", "it-retried-later"
START, GET_RUN, SEND = "AWSGlue.StartJobRun", "AWSGlue.GetJobRun", "AmazonSQS.SendMessage"
CONFIG = {
    "triggers": [
        {
            "name": "retried",
            "source": {"type": "event", "pattern": {"source": ["com.example.retry"]}},
            "job": {"name": JOB, "arguments": {"--day": "${event:detail.day}"}},
            "retry": {"max_attempts": 2, "on": ["FAILED", "ERROR"], "delay_seconds": 0},
        },
        {
            "name": "retried-later",
            "source": {"type": "event", "pattern": {"source": ["com.example.retry-later"]}},
            "job": {"name": LATER_JOB},
            "retry": {"max_attempts": 1, "delay_seconds": 1},
        },
    ]
}


@dataclass
class Recorder:
    """Every outcome the handler reports, in order."""

    outcomes: list[Outcome] = field(default_factory=list)

    def observe(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)

    def of(self, kind: type[Any]) -> list[Any]:
        return [outcome for outcome in self.outcomes if isinstance(outcome, kind)]


@dataclass(frozen=True)
class Handler:
    service: Service
    recorder: Recorder
    queue_url: str
    queue_arn: str

    def deliver(self, *bodies: Any) -> list[str]:
        """The bodies as one SQS batch of the trigger's queue; the ids of the messages reported failed."""
        return failed_ids(self.service(sqs_batch(*bodies), LocalLambdaContext()))


@pytest.fixture
def handler(aws: Emulator, monkeypatch: pytest.MonkeyPatch) -> Handler:
    aws.create_job(JOB)
    aws.create_job(LATER_JOB)
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="it-retried")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    monkeypatch.setenv(CONFIG_JSON_ENV, json.dumps(compile_config(parse_config(CONFIG))))
    monkeypatch.setenv(QUEUE_URL_ENV, url)
    monkeypatch.setenv(DEAD_LETTER_QUEUE_URL_ENV, sqs.create_queue(QueueName="it-retried-dlq")["QueueUrl"])
    recorder = Recorder()
    return Handler(build_service(HandlerEnvironment.from_env(), [recorder]), recorder, url, arn)


def state_change(run_id: str, state: str = "FAILED", job: str = JOB) -> dict[str, Any]:
    """The Glue Job State Change event Glue puts on the default bus when a run ends (a new event id)."""
    event = example("glue-job-state-change")
    event["id"] = str(uuid.uuid4())
    event["detail"].update(jobName=job, state=state, jobRunId=run_id)
    return event


def runs(aws: Emulator, job: str = JOB) -> dict[str, dict[str, Any]]:
    """The job's runs by id, read with GetJobRuns."""
    return {run["Id"]: run for run in aws.job_runs(job)}


def first_run(aws: Emulator, handler: Handler, source: str = "com.example.retry", job: str = JOB) -> str:
    """The trigger starts its run for an event; its id."""
    assert handler.deliver(custom_event("nightly export", {"day": "2026-03-14"}, source=source)) == []
    [run_id] = runs(aws, job)
    return run_id


def test_a_run_the_trigger_did_not_start_is_left_alone(aws: Emulator, handler: Handler) -> None:
    foreign = aws.client("glue").start_job_run(JobName=JOB, Arguments={"--day": "2026-03-14"})["JobRunId"]

    assert handler.deliver(state_change(foreign)) == []

    assert list(runs(aws)) == [foreign]
    assert aws.proxy.count(START) == 0
    [ignored] = handler.recorder.of(EventIgnored)
    assert ignored.skip.reason == (
        f"run {foreign} of job {JOB} (FAILED) carries no run key of trigger retried: it did not start it"
    )


def test_a_state_that_retry_on_does_not_list_is_ignored(aws: Emulator, handler: Handler) -> None:
    run_id = first_run(aws, handler)

    assert handler.deliver(state_change(run_id, "TIMEOUT")) == []

    assert list(runs(aws)) == [run_id]
    assert aws.proxy.count(GET_RUN) == 0  # decided from the event alone
    [ignored] = handler.recorder.of(EventIgnored)
    assert "(TIMEOUT) is not a state its retry.on lists" in ignored.skip.reason


def test_a_get_job_run_that_fails_retryably_leaves_the_state_event_for_redelivery(
    aws: Emulator, handler: Handler
) -> None:
    run_id = first_run(aws, handler)
    aws.proxy.inject(GET_RUN, Fault(500, "InternalServiceException"))  # every time
    batch = sqs_batch(state_change(run_id))

    assert failed_ids(handler.service(batch, LocalLambdaContext())) == [batch["Records"][0]["messageId"]]
    assert list(runs(aws)) == [run_id]
    [failed] = handler.recorder.of(RetryFailed)
    assert (failed.trigger, failed.failure.code, failed.failure.retryable) == (
        "retried",
        "InternalServiceException",
        True,
    )


def test_a_redelivered_state_event_starts_one_retry(aws: Emulator, handler: Handler) -> None:
    run_id = first_run(aws, handler)
    event = state_change(run_id)

    assert handler.deliver(event) == []
    assert handler.deliver(event) == []  # SQS delivers at least once

    assert len(runs(aws)) == 2
    first, again = handler.recorder.of(RunRetried)
    assert (first.duplicate, again.duplicate) == (False, True)
    assert first.chain == again.chain


def test_a_chain_of_failed_runs_is_retried_until_max_attempts_then_given_up(aws: Emulator, handler: Handler) -> None:
    first = first_run(aws, handler)
    key = runs(aws)[first]["Arguments"][DEFAULT_RUN_KEY_ARGUMENT]
    chain = [first]
    for attempt in (1, 2):
        assert handler.deliver(state_change(chain[-1])) == []
        [retry] = [run for run_id, run in runs(aws).items() if run_id not in chain]
        # Glue's retry of the failed run, with its arguments and the attempt's run key.
        assert retry["PreviousRunId"] == chain[-1]
        assert retry["Arguments"] == {"--day": "2026-03-14", DEFAULT_RUN_KEY_ARGUMENT: f"{key}-{attempt}"}
        chain.append(retry["Id"])
        assert handler.recorder.of(RunRetried)[-1].chain == tuple(chain)

    assert handler.deliver(state_change(chain[-1], "ERROR")) == []  # the second retry failed too

    assert len(runs(aws)) == 3  # the first run and max_attempts retries, no more
    [request] = aws.proxy.requests(START)[-1:]
    assert request.json()["JobRunId"] == chain[1]
    [exhausted] = handler.recorder.of(RetriesExhausted)
    assert (exhausted.trigger, exhausted.attempts, exhausted.chain) == ("retried", 2, tuple(chain))
    assert [(r.attempt, r.max_attempts) for r in handler.recorder.of(RunRetried)] == [(1, 2), (2, 2)]
    # One GetJobRun per state event, and one per older link of the chain logged: 1 + 1 + (1 + 1).
    assert aws.proxy.count(GET_RUN) == 4


def test_delay_seconds_holds_the_state_event_back_on_the_queue_then_retries(aws: Emulator, handler: Handler) -> None:
    run_id = first_run(aws, handler, "com.example.retry-later", LATER_JOB)

    assert handler.deliver(state_change(run_id, job=LATER_JOB)) == []

    assert list(runs(aws, LATER_JOB)) == [run_id]  # not yet
    [delayed] = handler.recorder.of(RetryDelayed)
    assert (delayed.job_run_id, delayed.delay_seconds) == (run_id, 1)
    sent = aws.proxy.requests(SEND)[-1].json()
    assert sent["DelaySeconds"] == 1
    assert RETRY_DELAYED_ATTRIBUTE in sent["MessageAttributes"]

    time.sleep(1.2)
    messages = aws.client("sqs").receive_message(
        QueueUrl=handler.queue_url, WaitTimeSeconds=5, MessageAttributeNames=["All"], AttributeNames=["All"]
    )["Messages"]
    response = handler.service(sqs_event_from(messages, handler.queue_arn), LocalLambdaContext())

    assert failed_ids(response) == []
    [retry] = [run for run_id_, run in runs(aws, LATER_JOB).items() if run_id_ != run_id]
    assert retry["PreviousRunId"] == run_id
    assert [r.chain for r in handler.recorder.of(RunRetried)] == [(run_id, retry["Id"])]


def test_when_the_queue_does_not_take_the_delayed_copy_the_state_event_is_redelivered_not_lost(
    aws: Emulator, handler: Handler
) -> None:
    run_id = first_run(aws, handler, "com.example.retry-later", LATER_JOB)
    aws.proxy.inject(SEND, Fault(500, "InternalError"))
    batch = sqs_batch(state_change(run_id, job=LATER_JOB))

    assert failed_ids(handler.service(batch, LocalLambdaContext())) == [batch["Records"][0]["messageId"]]

    assert list(runs(aws, LATER_JOB)) == [run_id]
    [failed] = handler.recorder.of(RetryFailed)
    assert (failed.trigger, failed.failure.retryable) == ("retried-later", True)
    assert handler.recorder.of(RetryDelayed) == []
