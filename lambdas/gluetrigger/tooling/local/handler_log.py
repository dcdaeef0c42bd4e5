"""Read outcomes from the handler's log records, the only place it reports them per event.

The handler's log contract (:mod:`gluetrigger.handler`): each run it attempts is logged with
``trigger``, ``idempotency_key``, ``job_name``, ``JobRunId``, ``event`` and ``outcome``
(started, duplicate or error, the latter with ``error_code``, ``error`` and ``retryable``); an
ignored event with ``reason`` at INFO; a message the handler sent to the dead-letter queue with
``outcome`` dead-lettered and its ``reason`` at ERROR; without that, a malformed one with
``reason`` at ERROR, and a message that failed for good with its ``reasons`` at ERROR (a trigger
that could not map the event, and the permanent StartJobRun errors already logged per run); an
unexpected exception with its traceback. Fields are read from the records' attributes (the
``extra`` of each call), not from formatted JSON, so the reading does not depend on Powertools'
formatter.

Each invocation is bracketed by :meth:`OutcomeReader.invocation`, which tells the reader which
trigger's function is running and what the SQS messages in the batch are, so an outcome whose
record names only a message id still shows which object or event it was about.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from gluetrigger.core.events import InboundEvent, normalize_message
from gluetrigger.tooling.local.outcomes import Kind, Outcome, OutcomeLog

__all__ = ["OutcomeReader", "describe_message"]


@dataclass(frozen=True)
class _Delivery:
    subject: str
    receive_count: int | None


@dataclass
class _Invocation:
    trigger: str
    deliveries: dict[str, _Delivery]
    errors: set[str] = field(default_factory=set)  # "<trigger>: <code>: <message>" shown as errors


def describe_message(body: str, message_id: str) -> str:
    """What an SQS message carries, as a person reads it (``s3://bucket/key``, ``event ...``)."""
    items = normalize_message(body, message_id)
    described = [item.describe() for item in items if isinstance(item, InboundEvent)]
    return ", ".join(described) or f"message {message_id}"


class OutcomeReader(logging.Handler):
    """A logging handler that turns the handler's records into :class:`Outcome` entries."""

    def __init__(self, outcomes: OutcomeLog) -> None:
        super().__init__(level=logging.INFO)
        self._outcomes = outcomes
        self._local = threading.local()

    @contextmanager
    def invocation(self, trigger: str, event: Mapping[str, Any]) -> Iterator[None]:
        """Attribute the records logged in this thread to ``trigger``'s invocation with ``event``."""
        deliveries: dict[str, _Delivery] = {}
        for record in event.get("Records", []):
            count = record.get("attributes", {}).get("ApproximateReceiveCount")
            deliveries[record["messageId"]] = _Delivery(
                describe_message(record["body"], record["messageId"]), int(count) if count else None
            )
        self._local.current = _Invocation(trigger, deliveries)
        try:
            yield
        finally:
            self._local.current = None

    def emit(self, record: logging.LogRecord) -> None:
        current: _Invocation | None = getattr(self._local, "current", None)
        if current is None:
            return
        try:
            for outcome in _outcomes(record, current):
                self._outcomes.add(outcome)
        except Exception:
            self.handleError(record)


def _outcomes(record: logging.LogRecord, current: _Invocation) -> Iterator[Outcome]:
    data = record.__dict__
    message_id = data.get("message_id")
    delivery = current.deliveries.get(message_id) if isinstance(message_id, str) else None
    common: dict[str, Any] = {
        "subject": delivery.subject if delivery else "(unknown message)",
        "message_id": message_id,
        "receive_count": delivery.receive_count if delivery else None,
    }
    trigger = str(data.get("trigger") or current.trigger)
    outcome = data.get("outcome")
    if outcome in ("started", "duplicate"):
        common["subject"] = str(data.get("event") or common["subject"])
        kind: Kind = "started" if outcome == "started" else "duplicate"
        yield Outcome(trigger, kind, job_run_id=data.get("JobRunId"), **common)
    elif outcome == "error":
        common["subject"] = str(data.get("event") or common["subject"])
        reason = f"{data.get('error_code')}: {data.get('error')}"
        current.errors.add(f"{trigger}: {reason}")
        how = "retryable" if data.get("retryable") else "permanent"
        yield Outcome(trigger, "error", reason=f"{reason} ({how})", **common)
    elif outcome == "dead-lettered":
        reason = str(data.get("reason")).removeprefix(f"{trigger}: ")
        yield Outcome(trigger, "rejected", reason=reason, dead_lettered=True, **common)
    elif isinstance(data.get("reasons"), list) and record.levelno >= logging.ERROR:
        for reason in data["reasons"]:
            if reason not in current.errors:
                yield Outcome(trigger, "rejected", reason=str(reason).removeprefix(f"{trigger}: "), **common)
    elif isinstance(data.get("reason"), str):
        kind = "rejected" if record.levelno >= logging.ERROR else "ignored"
        yield Outcome(trigger, kind, reason=data["reason"], **common)
    elif record.exc_info and record.exc_info[1] is not None and record.levelno >= logging.ERROR:
        error = record.exc_info[1]
        yield Outcome(trigger, "error", reason=f"{type(error).__name__}: {error}", **common)
