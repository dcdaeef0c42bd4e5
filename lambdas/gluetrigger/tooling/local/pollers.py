"""Feed each trigger's queue to the handler the way Lambda's SQS event source mapping does.

One thread per queue long-polls for up to ten messages, turns them into the event Lambda would
pass (``Records`` with ``messageId``, ``body``, ``attributes``, ``eventSourceARN``...), invokes
the handler and honours ReportBatchItemFailures: the messages it lists stay in the queue and come
back after the visibility timeout (and reach the DLQ after maxReceiveCount receives), the others
are deleted. A handler that raises, or returns a response naming unknown messages, fails the
whole batch, as Lambda does. An optional observer sees each message as it is received (the demo
uses it to deliver one a second time, as SQS's at-least-once delivery may).

A message sent with ``DelaySeconds`` (one held back for Glue capacity, a batch window's flush)
stays with SQS until it is due: the poller only receives, so it gets such a message when Lambda
would, never sooner.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gluetrigger.tooling.local.endpoint import Endpoint
    from gluetrigger.tooling.local.provision import Queue

__all__ = ["Consumer", "Invoke", "Observe", "OnFailure", "QueuePoller", "failed_message_ids", "sqs_event"]

# Short long-polls keep shutdown prompt (a poller notices the stop event within this).
WAIT_TIME_SECONDS = 1
BATCH_SIZE = 10
ERROR_BACKOFF_SECONDS = 1.0

# invoke(event, trigger) -> the handler's response; raises what the handler raises.
Invoke = Callable[[dict[str, Any], str], Any]
# on_failure(trigger, the batch's messages (none when receiving failed), the error).
OnFailure = Callable[[str, list[Mapping[str, Any]], BaseException], None]
# observe(trigger, a message as received).
Observe = Callable[[str, Mapping[str, Any]], None]


def sqs_event(messages: list[Mapping[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The Lambda event for a batch of SQS ReceiveMessage results."""
    return {"Records": [_record(m, queue_arn, region) for m in messages]}


def _record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType"),
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def failed_message_ids(response: object, message_ids: set[str]) -> set[str]:
    """The messages to keep per ReportBatchItemFailures; all of them when the response is invalid."""
    if not isinstance(response, Mapping):
        return message_ids  # None (or anything else) from an SQS-fed function: Lambda retries all
    failures = response.get("batchItemFailures", [])
    if not isinstance(failures, list):
        return message_ids
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not isinstance(identifier, str) or identifier not in message_ids:
            return message_ids
        failed.add(identifier)
    return failed


@dataclass(frozen=True)
class Consumer:
    """What a poller hands its batches to, as Lambda hands them to the function behind a mapping.

    ``invoke`` runs the handler; ``on_failure`` hears of a batch whose invocation raised (or of a
    receive that failed: no messages); ``observe``, when given, sees each message as it arrives.
    """

    invoke: Invoke
    on_failure: OnFailure
    observe: Observe | None = None


class QueuePoller(threading.Thread):
    """Polls one trigger's queue and hands each batch to ``consumer``, until ``halt`` is set."""

    def __init__(
        self, trigger: str, queue: Queue, endpoint: Endpoint, consumer: Consumer, halt: threading.Event
    ) -> None:
        super().__init__(name=f"poller-{trigger}", daemon=True)
        self._trigger = trigger
        self._queue = queue
        self._sqs = endpoint.client("sqs")
        self._region = endpoint.region
        self._consumer = consumer
        self._halt = halt

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self._poll_once()
            except Exception as exc:
                if self._halt.is_set():
                    return
                self._consumer.on_failure(self._trigger, [], exc)
                self._halt.wait(ERROR_BACKOFF_SECONDS)

    def _poll_once(self) -> None:
        received = self._sqs.receive_message(
            QueueUrl=self._queue.url,
            MaxNumberOfMessages=BATCH_SIZE,
            WaitTimeSeconds=WAIT_TIME_SECONDS,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[Mapping[str, Any]] = received.get("Messages", [])
        if not messages:
            return
        ids = {m["MessageId"] for m in messages}
        if self._consumer.observe is not None:
            for message in messages:
                self._consumer.observe(self._trigger, message)
        try:
            response = self._consumer.invoke(sqs_event(messages, self._queue.arn, self._region), self._trigger)
        except Exception as exc:
            # Lambda: an invocation error returns the whole batch to the queue.
            self._consumer.on_failure(self._trigger, messages, exc)
            return
        failed = failed_message_ids(response, ids)
        done = [
            {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]}
            for index, m in enumerate(messages)
            if m["MessageId"] not in failed
        ]
        if done:
            self._sqs.delete_message_batch(QueueUrl=self._queue.url, Entries=done)
