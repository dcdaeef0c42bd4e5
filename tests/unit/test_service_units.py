"""The handler's stages on their own: settlement decisions, what observers are told, Lambda's answers.

Nothing here reaches AWS: the dead-letter queue's client is a real botocore client behind a
Stubber, and the Glue and DynamoDB clients the service is built with point at a closed port and
are never called (the events used start nothing, or fail before a request is sent). The
integration tests drive the same code over HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Logger
from botocore.stub import Stubber

from gluetrigger.core.config import parse_config
from gluetrigger.core.events import normalize_message
from gluetrigger.core.planner import PlannedRun, Planner, Rejection, Skip
from gluetrigger.runtime.dead_letters import DeadLetterQueue
from gluetrigger.runtime.delivery import (
    Delivery,
    PermanentEventError,
    RetryableEventError,
    batch_response,
    direct_response,
)
from gluetrigger.runtime.failures import Failure
from gluetrigger.runtime.glue_client import GlueJobStarter
from gluetrigger.runtime.inbound import InboundValidator
from gluetrigger.runtime.lambda_context import LocalLambdaContext
from gluetrigger.runtime.logs import LogObserver
from gluetrigger.runtime.outcomes import (
    DeadLettered,
    DeadLetterRefused,
    EventIgnored,
    EventRejected,
    InvocationEnded,
    MessageFailed,
    MessageReceived,
    Outcome,
    RunDuplicate,
    RunFailed,
    RunRequested,
    RunStarted,
    Settlement,
)
from gluetrigger.runtime.planning import Planning
from gluetrigger.runtime.service import Service, Stages
from gluetrigger.runtime.settling import Settler, should_dead_letter
from gluetrigger.runtime.starting import RunStarter
from gluetrigger.runtime.telemetry import MetricsPublisher, Tally, Telemetry

EXAMPLES = Path(__file__).parents[2] / "examples" / "events"
CONFIG = parse_config(
    {
        "triggers": [
            {
                "name": "sales",
                "source": {"type": "s3", "bucket": "landing-bucket", "prefix": "sales/"},
                "job": {"name": "sales-etl"},
            }
        ]
    }
)
DLQ_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/dlq"
NOWHERE = "http://127.0.0.1:9"  # a closed port: a client pointed here is never meant to be called
LOGGER = "gluetrigger-unit"


def example(name: str) -> str:
    return (EXAMPLES / f"{name}.json").read_text()


def offline_client(service: str) -> Any:
    session = boto3.session.Session(aws_access_key_id="unit", aws_secret_access_key="unit", region_name="us-east-1")
    return session.client(service, endpoint_url=NOWHERE)


class Recorder:
    """An observer that keeps what it is told."""

    def __init__(self) -> None:
        self.told: list[Outcome] = []

    def observe(self, outcome: Outcome) -> None:
        self.told.append(outcome)

    def kinds(self) -> list[str]:
        return [type(outcome).__name__ for outcome in self.told]


@pytest.fixture
def message() -> Delivery:
    return Delivery.message({"messageId": "m1", "body": example("s3-notification"), "eventSourceARN": "arn:q"})


@pytest.fixture
def run(message: Delivery) -> PlannedRun:
    [planned] = Planner(CONFIG).plan(normalize_message(message.body(), "m1")).runs
    return planned


def failed(delivery: Delivery, run: PlannedRun, code: str, *, retryable: bool) -> RunFailed:
    return RunFailed(delivery, run, Failure(code, f"{code} says no", retryable=retryable))


MAPPING = Rejection("sales", "variable ${day} is missing", "event/sqs:m1", "m1")


# Settlement decisions.


def test_a_delivery_whose_runs_started_or_were_found_started_is_handled(message: Delivery, run: PlannedRun) -> None:
    settlement = Settlement(message, runs=(RunStarted(message, run, "jr_1"), RunDuplicate(message, run, "jr_1")))

    assert (settlement.handled, settlement.retry, settlement.permanent) == (True, False, [])
    assert not should_dead_letter(settlement)


def test_a_permanent_failure_alone_is_dead_lettered_and_handled_only_once_in_the_dlq(
    message: Delivery, run: PlannedRun
) -> None:
    settlement = Settlement(message, runs=(failed(message, run, "EntityNotFoundException", retryable=False),))

    assert (settlement.handled, settlement.retry) == (False, False)
    assert should_dead_letter(settlement)
    assert settlement.permanent == ["sales: EntityNotFoundException: EntityNotFoundException says no"]
    assert settlement.permanent_triggers == {"sales"}
    dead = DeadLettered(message, "; ".join(settlement.permanent), "sales")
    assert Settlement(message, runs=settlement.runs, dead_lettered=dead).handled


def test_any_retryable_failure_retries_the_whole_delivery_and_nothing_is_dead_lettered(
    message: Delivery, run: PlannedRun
) -> None:
    throttled = failed(message, run, "ThrottlingException", retryable=True)
    settlement = Settlement(message, runs=(RunStarted(message, run, "jr_1"), throttled), rejected=(MAPPING,))

    assert (settlement.handled, settlement.retry) == (False, True)
    assert not should_dead_letter(settlement)
    assert settlement.retryable == ["sales: ThrottlingException: ThrottlingException says no"]
    assert settlement.permanent == ["sales: variable ${day} is missing"]


def test_an_unreadable_event_fails_permanently_and_names_no_trigger(message: Delivery) -> None:
    settlement = Settlement(message, unreadable="message body is not JSON")

    assert (settlement.handled, settlement.retry) == (False, False)
    assert settlement.permanent == settlement.rejected_reasons == ["message body is not JSON"]
    assert settlement.permanent_triggers == set()
    assert should_dead_letter(settlement)


def test_a_malformed_record_is_reported_under_its_origin(message: Delivery) -> None:
    malformed = Rejection(None, "not an S3 record", "event/sqs:m1/Records[0]", "m1")

    assert Settlement(message, rejected=(malformed,)).permanent == ["event/sqs:m1/Records[0]: not an S3 record"]


# Settling: the dead-letter queue.


@pytest.fixture
def sqs() -> Iterator[Stubber]:
    stubber = Stubber(offline_client("sqs"))
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


def dead_letter_queue(sqs: Stubber) -> DeadLetterQueue:
    return DeadLetterQueue(DLQ_URL, lambda: sqs.client)


def test_without_a_dlq_a_settlement_is_told_as_it_is(message: Delivery) -> None:
    recorder = Recorder()
    settlement = Settlement(message, unreadable="message body is not JSON")

    assert Settler(None, "sales").settle(settlement, recorder) is settlement
    assert recorder.told == [settlement]


def test_a_permanent_failure_goes_to_the_dlq_body_untouched_under_the_functions_trigger(
    message: Delivery, sqs: Stubber
) -> None:
    recorder = Recorder()
    attributes = {
        "gluetrigger-reason": {"DataType": "String", "StringValue": "message body is not JSON"},
        "gluetrigger-trigger": {"DataType": "String", "StringValue": "sales"},
        "gluetrigger-source": {"DataType": "String", "StringValue": "m1"},
    }
    expected = {"QueueUrl": DLQ_URL, "MessageBody": message.body(), "MessageAttributes": attributes}
    sqs.add_response("send_message", {"MessageId": "d1"}, expected)

    settled = Settler(dead_letter_queue(sqs), "sales").settle(
        Settlement(message, unreadable="message body is not JSON"), recorder
    )

    assert settled.dead_lettered == DeadLettered(message, "message body is not JSON", "sales")
    assert settled.handled
    assert recorder.told == [settled.dead_lettered, settled]


def test_a_failure_is_dead_lettered_under_the_triggers_its_reasons_name(
    message: Delivery, run: PlannedRun, sqs: Stubber
) -> None:
    sqs.add_response("send_message", {"MessageId": "d1"})
    settlement = Settlement(message, runs=(failed(message, run, "AccessDeniedException", retryable=False),))

    settled = Settler(dead_letter_queue(sqs), None).settle(settlement, Recorder())

    assert settled.dead_lettered is not None
    assert settled.dead_lettered.trigger == "sales"
    assert settled.dead_lettered.reason == "sales: AccessDeniedException: AccessDeniedException says no"


def test_when_the_dlq_refuses_the_delivery_is_not_handled(message: Delivery, sqs: Stubber) -> None:
    recorder = Recorder()
    sqs.add_client_error("send_message", "AWS.SimpleQueueService.NonExistentQueue", "no such queue", 400)

    settled = Settler(dead_letter_queue(sqs), "sales").settle(Settlement(message, unreadable="bad"), recorder)

    assert (settled.dead_lettered, settled.handled) == (None, False)
    [refused, told] = recorder.told
    assert isinstance(refused, DeadLetterRefused)
    assert "NonExistentQueue" in refused.error
    assert told is settled


def test_a_retryable_failure_is_never_sent_to_the_dlq(message: Delivery, run: PlannedRun, sqs: Stubber) -> None:
    # The stubber has no response queued: a send would fail the test.
    throttled = failed(message, run, "ThrottlingException", retryable=True)
    settlement = Settlement(message, runs=(throttled,), rejected=(MAPPING,))

    assert Settler(dead_letter_queue(sqs), "sales").settle(settlement, Recorder()) is settlement


# Lambda's answers.


def test_a_direct_invocation_raises_what_the_platform_must_do(message: Delivery, run: PlannedRun) -> None:
    throttled = failed(message, run, "ThrottlingException", retryable=True)
    with pytest.raises(RetryableEventError) as retry:
        direct_response(Settlement(message, runs=(throttled,), rejected=(MAPPING,)))
    assert retry.value.reasons == [
        "sales: ThrottlingException: ThrottlingException says no",
        "sales: variable ${day} is missing",
    ]
    with pytest.raises(PermanentEventError, match=r"sales: variable \$\{day\} is missing"):
        direct_response(Settlement(message, rejected=(MAPPING,)))


def test_a_direct_invocation_returns_its_runs_ignored_events_and_what_the_dlq_took(
    message: Delivery, run: PlannedRun
) -> None:
    skip = Skip("S3 test event", "event")
    dead = DeadLettered(message, "sales: variable ${day} is missing", "sales")
    settlement = Settlement(
        message, runs=(RunDuplicate(message, run, "jr_1"),), ignored=(skip,), rejected=(MAPPING,), dead_lettered=dead
    )

    assert direct_response(settlement) == {
        "runs": [
            {
                "trigger": "sales",
                "idempotency_key": run.idempotency_key,
                "job_name": "sales-etl",
                "JobRunId": "jr_1",
                "duplicate": True,
            }
        ],
        "ignored": [{"reason": "S3 test event", "event": "event"}],
        "dead_lettered": [{"reason": "sales: variable ${day} is missing", "trigger": "sales"}],
    }


def test_the_partial_batch_response_lists_every_message_not_handled(message: Delivery) -> None:
    deliveries = [Delivery.message({"messageId": f"m{n}", "body": "{}"}) for n in range(4)]
    results = [
        Settlement(deliveries[0]),
        Settlement(deliveries[1], unreadable="bad"),
        MessageFailed(deliveries[2], RuntimeError("a defect")),
        Settlement(deliveries[3], unreadable="bad", dead_lettered=DeadLettered(deliveries[3], "bad", None)),
    ]

    assert batch_response(results) == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}
    assert batch_response([]) == {"batchItemFailures": []}


def test_a_message_delivery_keeps_its_body_untouched_and_its_receive_count() -> None:
    record = {"messageId": "m1", "body": " {not json ", "attributes": {"ApproximateReceiveCount": "3"}}
    delivery = Delivery.message(record)

    assert (delivery.source, delivery.message_id, delivery.receive_count, delivery.body()) == (
        "m1",
        "m1",
        3,
        " {not json ",
    )
    assert Delivery.message({**record, "attributes": {"ApproximateReceiveCount": "?"}}).receive_count is None


def test_a_direct_delivery_is_the_event_as_json_under_its_id_or_the_request_id() -> None:
    context = LocalLambdaContext()

    assert Delivery.invocation({"id": "e1", "x": 1}, context).source == "e1"
    unnamed = Delivery.invocation([{"id": "e1"}], context)
    assert (unnamed.source, unnamed.message_id, unnamed.body()) == (context.aws_request_id, None, '[{"id": "e1"}]')


# Metrics from outcomes.


def test_the_tally_counts_outcomes_and_only_glues_errors_and_capacity_apart(message: Delivery, run: PlannedRun) -> None:
    in_progress = RunFailed(message, run, Failure("IdempotencyAlreadyInProgressError", "wait", True, from_glue=False))
    refused = RunFailed(message, run, Failure("ConcurrentRunsExceededException", "full", True, capacity=True))
    gated = RunFailed(message, run, Failure("ConcurrentRunsAtLimit", "full", True, from_glue=False, capacity=True))
    outcomes: list[Outcome] = [
        MessageReceived(message),
        RunRequested(message, run),
        RunStarted(message, run, "jr_1"),
        RunDuplicate(message, run, "jr_1"),
        failed(message, run, "InternalServiceException", retryable=True),
        in_progress,
        refused,
        gated,
        EventIgnored(message, Skip("S3 test event", "event")),
        EventRejected(message, "bad"),
        EventRejected(message, "sales: variable ${day} is missing", "sales"),
        DeadLettered(message, "bad", None),
    ]

    tally = Tally.of(outcomes)

    assert tally.counters() == {
        "JobRunsStarted": 1,
        "DuplicatesSuppressed": 1,
        "EventsIgnored": 1,
        "EventsRejected": 2,
        "EventsDeadLettered": 1,
        "RunsHeldBack": 2,
        "RunsRetried": 0,
        "RetriesExhausted": 0,
    }
    # Capacity is backpressure, not failure: it stays out of StartJobRunErrors and its alarm.
    assert dict(tally.errors) == {"InternalServiceException": 1}


# The service: what observers are told, and the batch's answer.


class FailsOnRequest:
    """An observer with a defect: it raises when told that a run is requested."""

    def observe(self, outcome: Outcome) -> None:
        if isinstance(outcome, RunRequested):
            raise RuntimeError("observer defect")


@pytest.fixture
def service_parts(monkeypatch: pytest.MonkeyPatch) -> tuple[Recorder, Stages, Logger]:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    stages = Stages(
        planning=Planning(InboundValidator(), Planner(CONFIG, "sales")),
        starting=RunStarter(
            GlueJobStarter(offline_client("glue")), "table", offline_client("dynamodb"), CONFIG.triggers
        ),
        settling=Settler(None, "sales"),
    )
    return Recorder(), stages, Logger(service=LOGGER)


def json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Callable[[], list[dict[str, Any]]]:
    """The handler logger's records so far, each as its fields (the ``extra`` of the call)."""

    def read() -> list[dict[str, Any]]:
        records = [r for r in caplog.records if r.name == LOGGER]
        return [{**r.__dict__, "level": r.levelname, "message": r.getMessage()} for r in records]

    return read


def test_a_defect_in_one_message_fails_that_message_only_and_is_logged_with_its_traceback(
    service_parts: tuple[Recorder, Stages, Logger], logs: Callable[[], list[dict[str, Any]]]
) -> None:
    recorder, stages, logger = service_parts
    service = Service(stages, [LogObserver(logger), recorder, FailsOnRequest()], logger)
    bodies = [example("s3-test-event"), "{not json", example("s3-notification"), example("s3-object-removed")]
    batch = sqs_records(*bodies)

    response = service(batch, LocalLambdaContext())

    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}
    [defect] = [outcome for outcome in recorder.told if isinstance(outcome, MessageFailed)]
    assert (defect.delivery.message_id, str(defect.error)) == ("m2", "observer defect")
    # Each message begins afresh, and the one after the defect is processed to its end.
    assert [o.delivery.message_id for o in recorder.told if isinstance(o, MessageReceived)] == ["m0", "m1", "m2", "m3"]
    last, end = recorder.told[-2:]
    assert isinstance(last, Settlement)
    assert (last.delivery.message_id, last.handled) == ("m3", True)
    assert isinstance(end, InvocationEnded)
    [line] = [line for line in logs() if line["message"] == "message processing failed"]
    assert (line["level"], line["message_id"], line["exc_info"][1]) == ("ERROR", "m2", defect.error)


def test_observers_are_told_every_outcome_then_the_invocation_end_even_when_it_raises(
    service_parts: tuple[Recorder, Stages, Logger], capsys: pytest.CaptureFixture[str]
) -> None:
    recorder, stages, logger = service_parts
    service = Service(stages, [recorder, Telemetry(MetricsPublisher("Unit", "unit"))], logger)

    with pytest.raises(PermanentEventError, match="not an event shape gluetrigger knows"):
        service({"hello": "world"}, LocalLambdaContext())

    assert recorder.kinds() == ["EventRejected", "Settlement", "InvocationEnded"]
    end = recorder.told[-1]
    assert isinstance(end, InvocationEnded)
    assert list(end.outcomes) == recorder.told[:-1]
    # The metrics are published once, from those outcomes, although the invocation raised.
    [document] = [line for line in json_lines(capsys.readouterr().out) if "_aws" in line]
    assert (document["EventsRejected"], document["JobRunsStarted"]) == ([1.0], [0.0])


def test_concurrent_invocations_each_end_with_their_own_outcomes(
    service_parts: tuple[Recorder, Stages, Logger],
) -> None:
    recorder, stages, logger = service_parts
    service = Service(stages, [recorder], logger)
    event = json.loads(example("s3-test-event"))  # no id: each delivery is its request's
    contexts = [LocalLambdaContext() for _ in range(8)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda context: service(event, context), contexts))

    ends = [outcome for outcome in recorder.told if isinstance(outcome, InvocationEnded)]
    sources = [{outcome.delivery.source for outcome in end.outcomes} for end in ends]
    assert sorted(source for [source] in sources) == sorted(context.aws_request_id for context in contexts)
    assert [len(end.outcomes) for end in ends] == [2] * 8  # EventIgnored, Settlement


def test_an_ignored_event_is_logged_and_returned(
    service_parts: tuple[Recorder, Stages, Logger], logs: Callable[[], list[dict[str, Any]]]
) -> None:
    recorder, stages, logger = service_parts
    service = Service(stages, [LogObserver(logger), recorder], logger)

    response = service(json.loads(example("s3-test-event")), LocalLambdaContext())

    assert response["runs"] == []
    [ignored] = response["ignored"]
    assert recorder.kinds() == ["EventIgnored", "Settlement", "InvocationEnded"]
    [line] = [line for line in logs() if line["message"] == "event ignored"]
    assert (line["level"], line["reason"]) == ("INFO", ignored["reason"])


# The log: one line per delivery that did not succeed.


@pytest.mark.parametrize(
    ("settlement", "expected"),
    [
        pytest.param(Settlement(Delivery.message({"messageId": "m1", "body": "x"})), [], id="handled"),
        pytest.param(
            Settlement(Delivery.message({"messageId": "m1", "body": "x"}), unreadable="bad"),
            [("ERROR", "event rejected", "bad")],
            id="unreadable",
        ),
        pytest.param(
            Settlement(Delivery.message({"messageId": "m1", "body": "x"}), rejected=(MAPPING,)),
            [("ERROR", "event failed permanently", ["sales: variable ${day} is missing"])],
            id="permanent",
        ),
        pytest.param(
            Settlement(
                Delivery.message({"messageId": "m1", "body": "x"}),
                unreadable="bad",
                dead_lettered=DeadLettered(Delivery.message({"messageId": "m1", "body": "x"}), "bad", None),
            ),
            [],
            id="dead-lettered: logged as DeadLettered",
        ),
    ],
)
def test_a_settlement_is_logged_once_by_what_became_of_it(
    settlement: Settlement, expected: list[tuple[str, str, Any]], logs: Callable[[], list[dict[str, Any]]]
) -> None:
    LogObserver(Logger(service=LOGGER)).observe(settlement)

    lines = logs()
    assert [(line["level"], line["message"], line.get("reason", line.get("reasons"))) for line in lines] == expected
    assert all(line["message_id"] == "m1" for line in lines)


def test_a_settlement_to_retry_logs_its_permanent_and_retryable_reasons_apart(
    message: Delivery, run: PlannedRun, logs: Callable[[], list[dict[str, Any]]]
) -> None:
    throttled = failed(message, run, "ThrottlingException", retryable=True)

    LogObserver(Logger(service=LOGGER)).observe(Settlement(message, runs=(throttled,), rejected=(MAPPING,)))

    assert [(line["level"], line["message"], line["reasons"]) for line in logs()] == [
        ("ERROR", "event failed permanently", ["sales: variable ${day} is missing"]),
        ("WARNING", "event will be retried", ["sales: ThrottlingException: ThrottlingException says no"]),
    ]


def sqs_records(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{n}",
                "body": body,
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
            }
            for n, body in enumerate(bodies)
        ]
    }


def test_a_batch_takes_on_no_message_it_cannot_finish_before_the_deadline(
    service_parts: tuple[Recorder, Stages, Logger], logs: Callable[[], list[dict[str, Any]]]
) -> None:
    recorder, stages, logger = service_parts
    service = Service(stages, [LogObserver(logger), recorder], logger)
    # 5 s left: an attempt may take 7 s and its recording 2 s more. The offline clients would
    # fail any call: none is made.
    response = service(
        sqs_records(example("s3-notification"), example("s3-notification")), LocalLambdaContext(timeout_seconds=5)
    )

    assert response == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}
    assert [type(o).__name__ for o in recorder.told] == ["MessageDeferred", "MessageDeferred", "InvocationEnded"]
    assert [line["message_id"] for line in logs() if line["message"].startswith("message left for redelivery")] == [
        "m0",
        "m1",
    ]


def test_a_defect_on_the_last_receive_goes_to_the_dlq_with_the_exception_as_reason(
    message: Delivery, sqs: Stubber
) -> None:
    settler = Settler(dead_letter_queue(sqs), "sales", max_receive_count=3)
    last = replace(message, receive_count=3)
    sqs.add_response("send_message", {"MessageId": "dlq-1"})

    settled = settler.settle_failure(MessageFailed(last, KeyError("eventSourceARN")), Recorder())

    assert settled.handled
    assert settled.dead_lettered is not None
    assert (
        settled.dead_lettered.reason
        == "given up after 3 receives: message processing failed: KeyError: 'eventSourceARN'"
    )
    assert not settler.settle_failure(
        MessageFailed(replace(message, receive_count=2), KeyError("x")), Recorder()
    ).handled


def test_starters_sharing_a_dynamodb_client_hook_its_writes_once() -> None:
    dynamodb = offline_client("dynamodb")
    for _ in range(3):  # local mode: one starter per trigger, one client per process
        RunStarter(GlueJobStarter(offline_client("glue")), "table", dynamodb, CONFIG.triggers)
    model = dynamodb.meta.service_model.operation_model("PutItem")
    params: dict[str, Any] = {}
    asked = dynamodb.meta.events.emit("before-parameter-build.dynamodb.PutItem", params=params, model=model)
    kept = dynamodb.meta.events.emit(
        "after-call.dynamodb.PutItem", parsed={"Attributes": {}}, model=model, context={}, http_response=None
    )

    def ours(responses: list[tuple[Any, Any]]) -> list[str]:
        return [handler.__name__ for handler, _ in responses if handler.__name__.endswith("_old_item")]

    assert params["ReturnValues"] == "ALL_OLD"
    assert (ours(asked), ours(kept)) == (["_ask_for_old_item"], ["_keep_old_item"])
