"""The dead-letter queue adapter: an event that failed for good goes where an operator finds it, with why.

A permanent failure (a malformed event, a trigger that cannot map it, a StartJobRun that Glue
refuses for good) fails the same way on every delivery. Left to the platform it would be
received maxReceiveCount times (or retried asynchronously) before reaching the DLQ, and arrive
there without its reason, which only the logs would hold. The handler sends it itself instead:
the original body untouched (an SQS message's body, or a direct invocation's event as JSON), and
the reason, trigger and origin as message attributes an operator reads next to it:

- ``gluetrigger-reason``: why, one line (see :func:`attribute_value` for the bound);
- ``gluetrigger-trigger``: the trigger it failed for, when known;
- ``gluetrigger-source``: the SQS message id it arrived in, or the event's id (a direct invocation);
- ``gluetrigger-receive-count`` (Number): for a message given up on at its queue's maxReceiveCount,
  how often SQS had delivered it.

Reasons name triggers, variables and error codes, never argument values (job arguments may be
sensitive), and this module adds nothing else. The SQS client is asked for on the first send
(the composition passes :func:`gluetrigger.runtime.aws_clients.client` for it): dead-lettering is
rare, so a cold start does not pay for it.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from gluetrigger.core.errors import GlueTriggerError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "ATTRIBUTE_MAX_BYTES",
    "REASON_ATTRIBUTE",
    "RECEIVE_COUNT_ATTRIBUTE",
    "SOURCE_ATTRIBUTE",
    "TRIGGER_ATTRIBUTE",
    "DeadLetterError",
    "DeadLetterQueue",
    "attribute_value",
]

REASON_ATTRIBUTE = "gluetrigger-reason"
TRIGGER_ATTRIBUTE = "gluetrigger-trigger"
SOURCE_ATTRIBUTE = "gluetrigger-source"
RECEIVE_COUNT_ATTRIBUTE = "gluetrigger-receive-count"
# Each attribute value is kept to this many UTF-8 bytes: more than any reason the planner or Glue
# gives (a few hundred bytes), few enough to read on one line, and attributes count towards the
# message's size limit, which the original body must still fit in.
ATTRIBUTE_MAX_BYTES = 1024
TRUNCATED = "..."
# Characters SQS refuses in a message (attribute values included): it accepts #x9, #xA, #xD,
# #x20-#xD7FF, #xE000-#xFFFD and #x10000-#x10FFFF. Lone surrogates (from JSON text) are refused too.
_REFUSED = "[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


@functools.cache
def _refused() -> re.Pattern[str]:
    """:data:`_REFUSED`, compiled on the first dead letter: most containers never send one."""
    return re.compile(_REFUSED)


class DeadLetterError(GlueTriggerError):
    """The dead-letter queue did not take the event (refused, missing, or unreachable)."""


def attribute_value(text: str, max_bytes: int = ATTRIBUTE_MAX_BYTES) -> str:
    """``text`` as an operator reads it in a String attribute: one line, characters SQS accepts, bounded.

    Line breaks, tabs and runs of spaces become one space; characters SQS refuses become U+FFFD.
    Text over ``max_bytes`` UTF-8 bytes is cut on a character boundary (never inside a multi-byte
    character, which SQS would refuse) and ends with ``...``, the whole within ``max_bytes``.
    """
    line = _refused().sub("\ufffd", " ".join(text.split()))
    encoded = line.encode()
    if len(encoded) <= max_bytes:
        return line
    kept = encoded[: max_bytes - len(TRUNCATED)].decode("utf-8", "ignore").rstrip()
    return kept + TRUNCATED


class DeadLetterQueue:
    """The queue at ``url``, where the handler sends the events that failed for good.

    ``sqs`` gives the SQS client; it is called on each send, and makes the client only once.
    """

    def __init__(self, url: str, sqs: Callable[[], Any]) -> None:
        self.url = url
        self._sqs = sqs

    def send(self, body: str, reason: str, trigger: str | None, source: str, receive_count: int | None = None) -> str:
        """Send ``body`` untouched with its reason, trigger and source; the new message's id.

        An attribute whose value is empty or unknown is left out (SQS refuses empty values).
        Raises DeadLetterError when SQS does not take the message: the caller then reports the
        event failed, as it would without a dead-letter queue, so nothing is lost.
        """
        given = {REASON_ATTRIBUTE: reason, TRIGGER_ATTRIBUTE: trigger, SOURCE_ATTRIBUTE: source}
        attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, text in given.items()
            if text and (value := attribute_value(text))
        }
        if receive_count is not None:
            # How often SQS had delivered it when the handler gave up on it.
            attributes[RECEIVE_COUNT_ATTRIBUTE] = {"DataType": "Number", "StringValue": str(receive_count)}
        try:
            response = self._sqs().send_message(QueueUrl=self.url, MessageBody=body, MessageAttributes=attributes)
        except (BotoCoreError, ClientError) as error:
            raise DeadLetterError(f"{type(error).__name__}: {error}") from error
        return str(response["MessageId"])
