"""``gluetrigger dlq list|show|redrive``: why events did not start a run, and sending them back after a fix.

The shared DLQ holds three kinds of message, told apart here so that an operator reads one list:

- sent by the handler (a permanent failure, or a retryable one on its queue's last receive): the
  original body, and the reason, trigger, source and receive count as ``gluetrigger-*`` message
  attributes (:mod:`gluetrigger.runtime.dead_letters`);
- moved by SQS after maxReceiveCount receives (a function that crashed or timed out): the body
  alone; its trigger is the one the config's planner gives the body (the only one that matches
  it), else the one whose local-mode queue SQS names in ``DeadLetterQueueSourceArn``;
- put by Lambda's on-failure destination (a schedule's asynchronous invocation that failed for
  good): an envelope whose ``requestContext`` names the function and the condition
  (``RetriesExhausted``, ``EventAgeExceeded``) and whose ``requestPayload`` is the event.

Reading a queue means receiving its messages, which hides them and counts a receive: the command
receives every message with a visibility timeout of :data:`HELD_SECONDS` (long enough to read the
whole queue once), and makes those it keeps visible again at once (visibility 0). The DLQ has no
redrive policy of its own, so the extra receive counts change nothing but
``ApproximateReceiveCount``. Another reader at the same moment may miss the messages held.

Redrive sends each message back where it came from: the body untouched to its trigger's queue,
without the ``gluetrigger-*`` attributes (they describe the failed attempt; a held-back message's
waiting time would otherwise make it give up at once), or, for an on-failure envelope, its
payload to its function as an asynchronous invocation, as the schedule did. The message is
deleted from the DLQ only after the send succeeded: a crash between the two leaves a copy in
each, and the run's idempotency starts it once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gluetrigger.core.errors import GlueTriggerError
from gluetrigger.core.events import normalize, printable
from gluetrigger.core.planner import Planner
from gluetrigger.runtime.dead_letters import REASON_ATTRIBUTE, TRIGGER_ATTRIBUTE, attribute_value

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from gluetrigger.core.model import Config

__all__ = ["HELD_SECONDS", "DeadLetterQueueReader", "Letter", "Redrive", "Target", "letter_of", "reasons_table"]

HELD_SECONDS = 60
# Attributes that describe a failed attempt, not the event: dropped when a message is redriven.
ATTRIBUTE_PREFIX = "gluetrigger-"
SOURCE_QUEUE = "DeadLetterQueueSourceArn"
NO_REASON = "moved by SQS after its queue's maxReceiveCount receives; no reason recorded (see the function's log)"
BATCH = 10  # SQS's most messages per receive or batch call


class RedriveError(GlueTriggerError):
    """A message could not be sent back; the message says which and why."""


@dataclass(frozen=True)
class Letter:
    """One DLQ message as received: what it says, and where it belongs."""

    message_id: str
    receipt: str
    body: str
    attributes: dict[str, Any]  # message attributes as SQS gives them
    system: dict[str, str]  # SentTimestamp, ApproximateReceiveCount, DeadLetterQueueSourceArn, ...
    trigger: str | None
    reason: str
    function_arn: str | None = None  # an on-failure envelope's function
    payload: Any = None  # and its event

    def summary(self) -> dict[str, Any]:
        return {"id": self.message_id, "trigger": self.trigger, "reason": self.reason, "sent": self._sent()}

    def whole(self) -> dict[str, Any]:
        """Everything the message holds: attributes, SQS's own attributes, and the body (as JSON when it is)."""
        try:
            body: Any = json.loads(self.body)
        except ValueError:
            body = self.body
        strings = {name: value.get("StringValue", value.get("BinaryValue")) for name, value in self.attributes.items()}
        return {**self.summary(), "attributes": strings, "system_attributes": self.system, "body": body}

    def _sent(self) -> str | None:
        from datetime import UTC, datetime

        sent = self.system.get("SentTimestamp")
        return datetime.fromtimestamp(int(sent) / 1000, UTC).isoformat() if sent and sent.isdigit() else None


def letter_of(message: dict[str, Any], config: Config) -> Letter:
    """The :class:`Letter` of a received message; its trigger and reason however it came to the DLQ."""
    attributes = dict(message.get("MessageAttributes") or {})
    system = {str(k): str(v) for k, v in (message.get("Attributes") or {}).items()}
    body = str(message["Body"])
    envelope = _envelope(body)
    noted = {name: str(value.get("StringValue", "")) for name, value in attributes.items()}
    event = envelope["requestPayload"] if envelope else body
    trigger = noted.get(TRIGGER_ATTRIBUTE) or _owner(config, event, system.get(SOURCE_QUEUE))
    reason = noted.get(REASON_ATTRIBUTE) or (_envelope_reason(envelope) if envelope else NO_REASON)
    return Letter(
        message_id=str(message["MessageId"]),
        receipt=str(message["ReceiptHandle"]),
        body=body,
        attributes=attributes,
        system=system,
        trigger=trigger,
        reason=reason,
        function_arn=envelope["requestContext"]["functionArn"] if envelope else None,
        payload=event if envelope else None,
    )


def _envelope(body: str) -> dict[str, Any] | None:
    """Lambda's on-failure destination record, when ``body`` is one."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict) or "requestPayload" not in document:
        return None
    context = document.get("requestContext")
    if not isinstance(context, dict) or not isinstance(context.get("functionArn"), str):
        return None
    return document


def _envelope_reason(envelope: dict[str, Any]) -> str:
    """``<condition> after <n> invocations: <errorType>: <errorMessage>`` from the envelope, one line."""
    context, response = envelope["requestContext"], envelope.get("responsePayload")
    error = response if isinstance(response, dict) else {}
    said = ": ".join(str(error[name]) for name in ("errorType", "errorMessage") if error.get(name))
    condition = f"{context.get('condition', 'failed')} after {context.get('approximateInvokeCount', '?')} invocations"
    return attribute_value(f"{condition}: {said}" if said else condition)


def _owner(config: Config, event: Any, source_queue: str | None) -> str | None:
    """The one trigger the config's planner gives ``event`` (body text or a decoded event), else the source queue's."""
    from gluetrigger.core.events import decode_json
    from gluetrigger.tooling.local.provision import queue_name

    try:
        document = decode_json(event) if isinstance(event, str) else event
        plan = Planner(config).plan(normalize(document))
    except GlueTriggerError:
        plan = None
    if plan is not None:
        found = {r.trigger.name for r in plan.runs} | {b.trigger.name for b in plan.batched}
        found |= {r.trigger for r in plan.rejected if r.trigger} | {f.trigger for f in plan.flushes}
        if len(found) == 1:
            return found.pop()
    queue = (source_queue or "").rsplit(":", 1)[-1]
    return next((t.name for t in config.triggers if queue and queue_name(t.name) == queue), None)


class DeadLetterQueueReader:
    """The messages of the DLQ at ``url``, received (held for :data:`HELD_SECONDS`) and made visible again."""

    def __init__(self, sqs: Any, url: str, config: Config) -> None:
        self.sqs = sqs
        self.url = url
        self._config = config

    def read(self) -> list[Letter]:
        """Every message, each once; they stay hidden until :meth:`release` or :data:`HELD_SECONDS`."""
        letters: dict[str, Letter] = {}
        while True:
            received = self.sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=BATCH,
                VisibilityTimeout=HELD_SECONDS,
                WaitTimeSeconds=1,
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
            ).get("Messages", [])
            if not received:
                return list(letters.values())
            for message in received:
                letters.setdefault(str(message["MessageId"]), letter_of(message, self._config))

    def release(self, letters: Iterable[Letter]) -> None:
        """Make ``letters`` visible again at once."""
        held = list(letters)
        for start in range(0, len(held), BATCH):
            entries = [
                {"Id": str(index), "ReceiptHandle": letter.receipt, "VisibilityTimeout": 0}
                for index, letter in enumerate(held[start : start + BATCH])
            ]
            self.sqs.change_message_visibility_batch(QueueUrl=self.url, Entries=entries)


def reasons_table(letters: Iterable[Letter]) -> list[list[str]]:
    """Table rows (header first): per trigger and reason, how many messages."""
    counts: dict[tuple[str, str], int] = {}
    for letter in letters:
        row = (letter.trigger or "(unknown)", printable(letter.reason))
        counts[row] = counts.get(row, 0) + 1
    rows = [["TRIGGER", "MESSAGES", "REASON"]]
    rows += [[trigger, str(count), reason] for (trigger, reason), count in sorted(counts.items())]
    return rows


@dataclass(frozen=True)
class Target:
    """Where a message goes back to: a queue (its URL) or a function (asynchronous invocation)."""

    queue_url: str | None = None
    function: str | None = None


@dataclass
class Redrive:
    """Sends letters back to their :class:`Target` (``target`` raises RedriveError when none is known)."""

    reader: DeadLetterQueueReader
    target: Callable[[Letter], Target]
    lambda_client: Callable[[], Any]
    done: list[Letter] = field(default_factory=list)
    left: list[tuple[Letter, str]] = field(default_factory=list)

    def send(self, letters: Iterable[Letter]) -> None:
        """Each letter sent back, then deleted from the DLQ; those that could not be sent stay, with why."""
        from botocore.exceptions import BotoCoreError, ClientError

        for letter in letters:
            try:
                self._send(letter, self.target(letter))
            except RedriveError as error:
                self.left.append((letter, str(error)))
                continue
            except (BotoCoreError, ClientError) as error:
                self.left.append((letter, f"{type(error).__name__}: {error}"))
                continue
            try:
                self.reader.sqs.delete_message(QueueUrl=self.reader.url, ReceiptHandle=letter.receipt)
            except (BotoCoreError, ClientError) as error:
                # Sent but still here: redriving it again sends a duplicate, which the run's idempotency absorbs.
                self.left.append((letter, f"sent back, but not deleted from the DLQ: {type(error).__name__}: {error}"))
                continue
            self.done.append(letter)
        self.reader.release(letter for letter, _ in self.left)

    def _send(self, letter: Letter, target: Target) -> None:
        if target.function is not None:
            payload = json.dumps(letter.payload).encode()
            self.lambda_client().invoke(FunctionName=target.function, InvocationType="Event", Payload=payload)
            return
        attributes = {
            name: {key: value[key] for key in ("DataType", "StringValue", "BinaryValue") if key in value}
            for name, value in letter.attributes.items()
            if not name.startswith(ATTRIBUTE_PREFIX)
        }
        self.reader.sqs.send_message(QueueUrl=target.queue_url, MessageBody=letter.body, MessageAttributes=attributes)
