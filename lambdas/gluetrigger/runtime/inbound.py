"""Inbound event validation: each shape the handler accepts, checked against its JSON schema.

The schemas (``schemas/*.json``, shipped with the package) are the handler's input contract.
They require what the service reads and nothing more: AWS adds fields over time, and moto's
events lack some (S3 records without userIdentity, EventBridge envelopes without account), so
the same handler must accept both. An event that fails is rejected with one line saying which
field is wrong; event values are never quoted, as they may be sensitive.

A notification carrying records (S3's, SNS's) is checked as an envelope, then record by record
(``schemas/<source>-record.json``): a record that fails is left to the core, which rejects that
record alone with its reason while the others run, as it does for every record it cannot read;
only a notification none of whose records passes is refused whole. The envelope requires every
record to come from the notification's source, so each record the core reads is one its schema
checked. An SQS batch stays all or nothing: a record without its messageId cannot even be
reported failed. Before any schema, a
payload must be I-JSON as :func:`gluetrigger.core.events.document_problem` reads it (no lone
surrogate, at most ``MAX_NESTING`` levels deep), so nothing recursive ever walks a hostile one.

Validation uses fastjsonschema, the engine of Powertools Validation (its ``[validation]``
extra), with each schema compiled once per container: Powertools' ``validate()`` compiles the
schema on every call, which measured 0.6 ms per event here against 2 us for a compiled one.
A schema is compiled when the first event of its shape arrives, not at init: compiling all
eight took about 15 ms of every cold start, and a function sees one or two shapes in its life
(an SQS trigger's function, SQS batches of S3 notifications).
Parser models are not used: pydantic adds about 45% to a cold start.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import fastjsonschema

from gluetrigger.core.errors import GlueTriggerError
from gluetrigger.core.events import document_problem, unknown_shape

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "EVENTBRIDGE_EVENT",
    "LIST",
    "S3_NOTIFICATION",
    "S3_TEST_EVENT",
    "SHAPES",
    "SNS_MESSAGE",
    "SNS_NOTIFICATION",
    "SQS_BATCH",
    "InboundValidator",
    "InvalidEventError",
    "shape_of",
]

SQS_BATCH = "sqs-batch"
S3_NOTIFICATION = "s3-notification"
SNS_NOTIFICATION = "sns-notification"
SNS_MESSAGE = "sns-message"
EVENTBRIDGE_EVENT = "eventbridge-event"
S3_TEST_EVENT = "s3-test-event"
SHAPES = (SQS_BATCH, S3_NOTIFICATION, SNS_NOTIFICATION, SNS_MESSAGE, EVENTBRIDGE_EVENT, S3_TEST_EVENT)
# A list of events in one payload (each element one of the shapes above).
LIST = "list"

_RECORD_SOURCES = {"aws:sqs": SQS_BATCH, "aws:sns": SNS_NOTIFICATION}
# The shapes whose records are checked one by one, and the schema of one record.
_RECORD_SCHEMAS = {S3_NOTIFICATION: "s3-record", SNS_NOTIFICATION: "sns-record"}
# Shipped inside the package (the code asset copies it whole).
_SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


class InvalidEventError(GlueTriggerError, ValueError):
    """The event is not one gluetrigger accepts; the message is one line naming the field."""


def shape_of(document: Mapping[str, Any]) -> str | None:
    """Which shape ``document`` claims to be, from its distinctive fields; None if none."""
    if "Records" in document:
        records = document["Records"]
        first = records[0] if isinstance(records, list) and records else None
        source = (first.get("eventSource") or first.get("EventSource")) if isinstance(first, Mapping) else None
        return _RECORD_SOURCES.get(str(source), S3_NOTIFICATION)
    if "detail-type" in document:
        return EVENTBRIDGE_EVENT
    if "Event" in document:
        return S3_TEST_EVENT
    if "Type" in document:
        return SNS_MESSAGE
    return None


class InboundValidator:
    """Every shape's schema, each compiled on first use and kept for the life of the process."""

    @staticmethod
    def warm() -> None:
        """Compile every schema now (before a SnapStart snapshot, where init time is free)."""
        for name in (*SHAPES, *_RECORD_SCHEMAS.values()):
            _compiled(name)

    def check(self, event: object) -> str:
        """The shape of a whole payload, or of one SQS message body; InvalidEventError if it fits none."""
        problem = document_problem(event)
        if problem is not None:
            raise InvalidEventError(f"the event is {problem}")
        return self.check_walked(event)

    def check_walked(self, event: object) -> str:
        """:meth:`check` for a document :func:`~gluetrigger.core.events.document_problem` has accepted.

        That is what :func:`~gluetrigger.core.events.decode_json` returns: an SQS message body is
        checked there (from its text when that can vouch for it, else by a walk), not again here.
        """
        if isinstance(event, list):
            if not event:
                raise InvalidEventError("an empty list is not an event")
            for index, element in enumerate(event):
                try:
                    self._check_object(element)
                except InvalidEventError as error:
                    raise InvalidEventError(f"[{index}]: {error}") from None
            return LIST
        return self._check_object(event)

    def _check_object(self, event: object) -> str:
        if not isinstance(event, Mapping):
            raise InvalidEventError(f"expected a JSON object, got {type(event).__name__}")
        shape = shape_of(event)
        if shape is None:
            raise InvalidEventError(unknown_shape(event))
        problem = _problem(_compiled(shape), event, "event")
        if problem is None and shape in _RECORD_SCHEMAS:
            problem = self._records_problem(_compiled(_RECORD_SCHEMAS[shape]), event["Records"])
        if problem is not None:
            raise InvalidEventError(f"invalid {shape} event: {problem}")
        return shape

    @staticmethod
    def _records_problem(validator: Callable[[Any], Any], records: list[Any]) -> str | None:
        """Why no record passes, naming the first one; None when one does (the core rejects the others)."""
        problems = [_problem(validator, record, f"event.Records[{index}]") for index, record in enumerate(records)]
        if any(problem is None for problem in problems):
            return None
        more = f" (and {len(problems) - 1} more invalid records)" if len(problems) > 1 else ""
        return f"{problems[0]}{more}"


# Compiling twice (two threads racing on a first event) is harmless: both compile the same schema.
@functools.cache
def _compiled(name: str) -> Callable[[Any], Any]:
    """The schema ``schemas/<name>.json``, compiled (once per process)."""
    text = (_SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8")
    validator: Callable[[Any], Any] = fastjsonschema.compile(json.loads(text))
    return validator


def _problem(validator: Callable[[Any], Any], document: object, path: str) -> str | None:
    """What ``validator`` finds wrong with ``document`` (found at ``path``), on one line; None if nothing."""
    try:
        validator(document)
    except fastjsonschema.JsonSchemaValueException as error:
        # fastjsonschema names the root "data": "data.s3 must contain ['object'] properties"
        return error.message.replace("data", path, 1)
    return None
