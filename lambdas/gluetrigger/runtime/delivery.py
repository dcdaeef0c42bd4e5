"""What arrived, and what the platform is told about it: a direct invocation, or an SQS batch's messages.

A :class:`Delivery` is the unit the platform retries and the dead-letter queue keeps: one SQS
message (its body untouched), or a direct invocation's whole event (as JSON). Each ends in a
:class:`~gluetrigger.runtime.outcomes.Settlement`, and this module turns settlements into
Lambda's answer:

- a direct invocation returns ``{"runs", "ignored"}`` (plus ``"dead_lettered"`` when the DLQ took
  it), or raises :class:`RetryableEventError` (Lambda's asynchronous retries try again) or
  :class:`PermanentEventError` (retrying cannot help; the stack's on-failure destination takes it);
- an SQS batch returns the partial batch response, ``{"batchItemFailures": [{"itemIdentifier":
  <messageId>}]}``, listing the messages that were not handled: they return to the queue.

The partial batch response is built here rather than by Powertools' BatchProcessor, which
learns that a message failed only from an exception, and whose import costs a cold start on
the SQS path about 15 ms.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from gluetrigger.core.errors import GlueTriggerError
from gluetrigger.runtime.values import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from gluetrigger.runtime.lambda_context import LambdaContextLike
    from gluetrigger.runtime.outcomes import RunOutcome, Settlement

__all__ = [
    "Delivery",
    "EventError",
    "PermanentEventError",
    "RetryableEventError",
    "Settled",
    "batch_response",
    "direct_response",
]


class EventError(GlueTriggerError):
    """An event, or an SQS message, that was not fully processed; ``reasons`` says why, one per line."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("; ".join(self.reasons))


class PermanentEventError(EventError):
    """Retrying cannot help: the event belongs in the dead-letter queue, with this reason."""


class RetryableEventError(EventError):
    """A run could not be started for now; a redelivery will try again (and skip what started)."""


@dataclass(frozen=True, eq=False, repr=False)
class Delivery(FrozenValue):
    """One SQS message, or a direct invocation's event, as the DLQ would keep it."""

    source: str  # the SQS message id, or the event's id (the Lambda request id when it has none)
    body: Callable[[], str]  # the message body untouched, or the event as JSON; made only if needed
    message_id: str | None = None  # SQS only, as are the next two
    receive_count: int | None = None  # ApproximateReceiveCount: how often SQS has delivered it
    queue_arn: str | None = None
    # The message's attributes as Lambda gives them ({name: {"stringValue", "dataType", ...}}): how
    # long it has waited for Glue capacity (gluetrigger.runtime.backpressure).
    attributes: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def message(cls, record: Mapping[str, Any]) -> Delivery:
        """A record of an SQS batch (already validated: it has a messageId and a body)."""
        message_id, body = str(record["messageId"]), str(record["body"])
        attributes = record.get("attributes")
        count = attributes.get("ApproximateReceiveCount") if isinstance(attributes, Mapping) else None
        arn = record.get("eventSourceARN")
        message_attributes = record.get("messageAttributes")
        return cls(
            source=message_id,
            body=functools.partial(str, body),
            message_id=message_id,
            receive_count=int(count) if isinstance(count, str) and count.isdigit() else None,
            queue_arn=arn if isinstance(arn, str) else None,
            attributes=message_attributes if isinstance(message_attributes, Mapping) else {},
        )

    @classmethod
    def invocation(cls, event: Any, context: LambdaContextLike) -> Delivery:
        """A direct invocation's event (any JSON: it may not even be valid)."""
        event_id = event.get("id") if isinstance(event, Mapping) else None
        source = event_id if isinstance(event_id, str) and event_id else context.aws_request_id
        return cls(source=source, body=functools.partial(_as_json, event))


class Settled(Protocol):
    """What a batch's answer needs of each message's end: a Settlement, or a MessageFailed."""

    @property
    def delivery(self) -> Delivery: ...

    @property
    def handled(self) -> bool: ...


def batch_response(results: Iterable[Settled]) -> dict[str, list[dict[str, str]]]:
    """The partial batch response: every message that was not handled is retried."""
    # A message's source is its message id.
    return {"batchItemFailures": [{"itemIdentifier": r.delivery.source} for r in results if not r.handled]}


def direct_response(settlement: Settlement) -> dict[str, Any]:
    """A direct invocation's response; raises when the platform must retry it or give up on it."""
    if settlement.retry:
        raise RetryableEventError(settlement.retryable + settlement.permanent)
    if not settlement.handled:
        raise PermanentEventError(settlement.permanent)
    response: dict[str, Any] = {
        "runs": [_run_json(run) for run in settlement.runs],
        "ignored": [skip.to_json() for skip in settlement.ignored],
    }
    if settlement.dead_lettered is not None:
        response["dead_lettered"] = [settlement.dead_lettered.to_json()]
    return response


def _run_json(outcome: RunOutcome) -> dict[str, Any]:
    run = outcome.run
    return {
        "trigger": run.trigger.name,
        "idempotency_key": run.idempotency_key,
        "job_name": run.trigger.job.name,
        "JobRunId": outcome.job_run_id,
        "duplicate": outcome.outcome == "duplicate",
    }


def _as_json(event: Any) -> str:
    """A direct invocation's event as the DLQ keeps it: its JSON, or why it has none.

    Lambda hands the handler decoded JSON, so this only fails for an event nested deeper than
    the encoder recurses (about a thousand levels), which the handler refuses anyway; the DLQ
    message then says so instead of the send failing and the event being lost.
    """
    try:
        return json.dumps(event)
    except (RecursionError, ValueError, TypeError) as error:
        return json.dumps({"gluetrigger-unencodable-event": f"{type(error).__name__}: {error}"})
