"""Turn whatever AWS delivers into a flat list of logical events.

One Lambda invocation may carry an S3 notification, an SQS batch whose bodies are S3
notifications, SNS envelopes or EventBridge events, SNS inside SQS, an EventBridge event
delivered directly, or a list of any of these. Hand-written handlers read ``Records[0]`` and
lose the rest; this module walks every record, URL-decodes S3 keys (``+`` is a space), and
says why it ignores what it ignores (``s3:TestEvent``, deletions) instead of dropping it.

Only the fields the service needs are required: moto's S3 records lack ``userIdentity`` and its
EventBridge envelopes lack ``account``, and the same code must run there and on AWS. A field the
service reads must have the type AWS documents when present (null counts as absent), as in the
inbound schemas: a record with ``"size": "5"`` is malformed, not an object of unknown size.

Documents are read as I-JSON (RFC 7493), the profile AWS's event formats keep to: a lone
surrogate (JSON text may spell one, ``"\\ud800"``) is not Unicode text and makes the document
malformed, and so does nesting deeper than :data:`MAX_NESTING` levels, which no AWS event comes
near and which keeps every recursive reader (JSON, JMESPath, pattern matching) far from Python's
recursion limit. Text from an event quoted in a reason goes through :func:`printable`, so every
reason stays one line whatever the event holds.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Literal, NamedTuple
from urllib.parse import unquote_plus

from gluetrigger.core.errors import EventShapeError

__all__ = [
    "MAX_NESTING",
    "Ignored",
    "InboundEvent",
    "Item",
    "Malformed",
    "S3Object",
    "decode_json",
    "document_problem",
    "normalize",
    "normalize_checked_message",
    "normalize_decoded_message",
    "normalize_message",
    "parse_time",
    "printable",
    "unknown_shape",
]

SCHEDULE_SOURCES = {"aws.events", "aws.scheduler"}
_EVENT_ID_NAMESPACE = uuid.UUID("6f1d3f3e-9a53-4c55-9d44-6b0f6f2f7a10")
# AWS sets no nesting limit, but its events nest a few levels; 64 leaves room for any custom
# event's detail while every recursive reader stays a few hundred frames from the limit.
MAX_NESTING = 64
_SURROGATE = re.compile("[\ud800-\udfff]")
# How JSON text spells a surrogate in ASCII: \uD800 to \uDFFF, hex digits in either case.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# JSON's scalars other than strings (bool is an int): told apart quickly from containers.
_SCALARS = (int, float, type(None))
# A JSON object: a dict, what JSON decodes to, is checked first, as isinstance checks in order;
# the check against the abstract Mapping alone costs fifteen times more (about 0.3 us, several per event).
_OBJECT = (dict, Mapping)
_OBJECT_OR_TEXT = (dict, str, Mapping)


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str  # decoded
    size: int | None
    etag: str | None
    version_id: str | None
    sequencer: str | None


@dataclass(frozen=True)
class InboundEvent:
    """One logical event, whichever envelope carried it."""

    kind: Literal["s3", "schedule", "event"]
    event_id: str
    event_time: datetime  # UTC
    region: str | None
    account: str | None
    raw: Mapping[str, Any]  # the innermost event: what ${event:EXPR} queries
    origin: str  # where it came from, for logs and error messages
    s3: S3Object | None = None
    envelope: Mapping[str, Any] | None = None  # the EventBridge event, matched by event patterns
    schedule_name: str | None = None  # the rule or schedule that fired a scheduled event
    message_id: str | None = None  # the SQS message that carried it

    @cached_property  # every run of the event renders it, in its variables and default key
    def event_time_iso(self) -> str:
        return format_time(self.event_time)

    def describe(self) -> str:
        if self.s3 is not None:
            return printable(f"s3://{self.s3.bucket}/{self.s3.key}")
        if self.schedule_name is not None:
            return printable(f"scheduled event {self.event_id} of {self.schedule_name}")
        detail_type = self.envelope.get("detail-type") if self.envelope else None
        return printable(f"event {self.event_id} ({detail_type})")


@dataclass(frozen=True)
class Ignored:
    """Deliberately not a run (a test event, a deletion); kept so the reason can be reported."""

    reason: str
    origin: str
    message_id: str | None = None


@dataclass(frozen=True)
class Malformed:
    """A record inside a known envelope whose content is not an event shape we know."""

    reason: str
    origin: str
    message_id: str | None = None


Item = InboundEvent | Ignored | Malformed


class _Context(NamedTuple):
    """What an outer envelope knows that the inner event may not (account, region, message id).

    A named tuple, not a frozen dataclass: two are made for every message, and a tuple is built
    in about half the time (no ``object.__setattr__`` per field).
    """

    origin: str
    region: str | None = None
    account: str | None = None
    message_id: str | None = None

    def inner(self, origin: str, arn: object = None, message_id: str | None = None) -> _Context:
        region, account = self.region, self.account
        if isinstance(arn, str) and arn.count(":") >= 5:
            parts = arn.split(":")
            region, account = parts[3] or region, parts[4] or account
        return _Context(f"{self.origin}/{printable(origin)}", region, account, message_id or self.message_id)


def normalize(event: object) -> list[Item]:
    """Every logical event in a Lambda payload; raise EventShapeError for an unknown top-level shape."""
    problem = document_problem(event)
    if problem is not None:
        raise EventShapeError(f"the event is {problem}")
    if isinstance(event, list):
        if not event:
            raise EventShapeError("an empty list is not an event")
        items: list[Item] = []
        for index, element in enumerate(event):
            items += _top(element, _Context(f"[{index}]"))
        return items
    return _top(event, _Context("event"))


def normalize_message(body: str, message_id: str, source_arn: str | None = None) -> list[Item]:
    """The logical events in one SQS message body."""
    return list(_from_body(body, _message_context(message_id, source_arn)))


def normalize_decoded_message(document: object, message_id: str, source_arn: str | None = None) -> list[Item]:
    """:func:`normalize_message` for a body already decoded from JSON by other means than :func:`decode_json`."""
    problem = document_problem(document)
    if problem is not None:
        return [Malformed(f"message body is {problem}", _message_context(message_id, source_arn).origin, message_id)]
    return normalize_checked_message(document, message_id, source_arn)


def normalize_checked_message(document: object, message_id: str, source_arn: str | None = None) -> list[Item]:
    """:func:`normalize_message` for a body :func:`decode_json` returned (the handler's per-message path).

    decode_json has checked the document: it is not walked again here.
    """
    return list(_walk(document, _message_context(message_id, source_arn)))


def decode_json(text: str) -> object:
    """``text`` decoded; EventShapeError, one line, when it is not JSON or :func:`document_problem` refuses it."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventShapeError(f"not JSON: {exc}") from None
    except ValueError:
        # int() refuses numbers longer than sys.get_int_max_str_digits() (4300 digits).
        raise EventShapeError("not JSON gluetrigger can read: a number has too many digits") from None
    except RecursionError:
        # The decoder recurses once per level: thousands of levels exhaust the stack first.
        raise EventShapeError(f"nested deeper than {MAX_NESTING} levels") from None
    problem = None if _plainly_i_json(text) else document_problem(document)
    if problem is not None:
        raise EventShapeError(problem)
    return document


def _plainly_i_json(text: str) -> bool:
    """Whether the JSON ``text`` decodes to a document :func:`document_problem` accepts, seen from the text alone.

    Scans in C instead of a walk of the decoded document in Python (the walk was about a
    quarter of the CPU of planning one SQS message). Decoded text holds a surrogate only from a
    non-ASCII character or a ``\\uD800``-``\\uDFFF`` escape, and a document holds no more levels
    than brackets. False only means "walk it": text that fails (an escaped surrogate pair, a large
    event) may be fine.
    """
    return (
        text.isascii() and text.count("{") + text.count("[") <= MAX_NESTING and _SURROGATE_ESCAPE.search(text) is None
    )


def document_problem(document: object) -> str | None:
    """Why a decoded JSON document is not I-JSON gluetrigger reads (see the module's docstring); None if it is.

    The walk is iterative, so any depth is measured without recursing.
    """
    # Only containers wait in ``pending``; strings and numbers, most of a document, are checked in
    # place. The document itself is the one child of a container at depth -1.
    pending: list[tuple[Iterable[object], int]] = [((document,), -1)]
    while pending:
        container, depth = pending.pop()
        if depth >= MAX_NESTING:
            return f"nested deeper than {MAX_NESTING} levels"
        children = (
            itertools.chain(container.keys(), container.values()) if isinstance(container, Mapping) else container
        )
        for child in children:
            if isinstance(child, str):
                # An ASCII string (a flag CPython keeps) holds no surrogate.
                if not child.isascii() and _SURROGATE.search(child):
                    return "not valid Unicode (it holds a lone surrogate, \\ud800-\\udfff)"
            elif isinstance(child, dict | list) or (not isinstance(child, _SCALARS) and isinstance(child, Mapping)):
                # dict before Mapping: a check against the abstract class is the slow one.
                pending.append((child, depth + 1))
    return None


def _message_context(message_id: str, source_arn: str | None) -> _Context:
    return _Context("event").inner(f"sqs:{message_id}", source_arn, message_id)


def _top(event: object, context: _Context) -> list[Item]:
    """A payload with nothing recognisable in it is refused whole; one bad record among good ones is not."""
    items = list(_walk(event, context))
    malformed = [item for item in items if isinstance(item, Malformed)]
    if malformed and len(malformed) == len(items):
        first = malformed[0]
        where = "" if first.origin == context.origin else f"{first.origin}: "
        more = f" (and {len(items) - 1} more like it)" if len(items) > 1 else ""
        raise EventShapeError(f"{where}{first.reason}{more}")
    return items


def _walk(event: object, context: _Context) -> Iterator[Item]:
    if not isinstance(event, _OBJECT):
        yield Malformed(f"expected a JSON object, got {type(event).__name__}", context.origin, context.message_id)
        return
    if isinstance(event.get("Records"), list):
        yield from _records(event["Records"], context)
    elif event.get("Event") == "s3:TestEvent":
        bucket = event.get("Bucket")
        yield Ignored(
            printable(f"s3:TestEvent from bucket {bucket if isinstance(bucket, str) else '?'}: ")
            + "sent when notifications are set up",
            context.origin,
            context.message_id,
        )
    elif event.get("Type") in ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"):
        yield from _sns(event, context)
    elif "detail-type" in event and "source" in event and "detail" in event:
        yield _eventbridge(event, context)
    else:
        yield Malformed(unknown_shape(event), context.origin, context.message_id)


def _records(records: list[Any], context: _Context) -> Iterator[Item]:
    if not records:
        yield Malformed("'Records' is empty", context.origin, context.message_id)
    for index, record in enumerate(records):
        here = context.inner(f"Records[{index}]")
        if not isinstance(record, _OBJECT):
            yield Malformed("record is not a JSON object", here.origin, context.message_id)
            continue
        # Only an absent source is looked up under SNS's spelling: a wrong value is not "absent".
        source = record["eventSource"] if "eventSource" in record else record.get("EventSource")
        if source == "aws:sqs":
            yield from _sqs_record(record, context, here.origin)
        elif source == "aws:sns" and isinstance(record.get("Sns"), _OBJECT):
            yield from _sns(record["Sns"], context)
        elif source == "aws:s3" or (source is None and "s3" in record):
            yield _s3_record(record, here)
        else:
            yield Malformed(f"record from {source!r} is not supported", here.origin, context.message_id)


def _sqs_record(record: Mapping[str, Any], context: _Context, origin: str) -> Iterator[Item]:
    message_id, arn = record.get("messageId"), record.get("eventSourceARN")
    if not isinstance(message_id, str) or not message_id:
        yield Malformed("SQS record lacks 'messageId'", origin, context.message_id)
    elif arn is not None and not isinstance(arn, str):
        yield Malformed("SQS record's eventSourceARN must be a string", origin, context.message_id)
    else:
        yield from _from_body(record.get("body"), context.inner(f"sqs:{message_id}", arn, message_id))


def _from_body(body: object, context: _Context, name: str = "message body") -> Iterator[Item]:
    """The events in a JSON text an envelope carries: ``name`` is what the envelope calls it."""
    if not isinstance(body, str):
        yield Malformed(f"{name} is missing", context.origin, context.message_id)
        return
    try:
        decoded = decode_json(body)
    except EventShapeError as exc:
        yield Malformed(f"{name} is {exc}", context.origin, context.message_id)
        return
    yield from _walk(decoded, context)


def _sns(sns: Mapping[str, Any], context: _Context) -> Iterator[Item]:
    kind = sns.get("Type")
    if kind != "Notification":
        yield Ignored(printable(f"SNS {kind} message: not a notification"), context.origin, context.message_id)
        return
    message_id, topic = sns.get("MessageId"), sns.get("TopicArn")
    if not all(value is None or isinstance(value, str) for value in (message_id, topic)):
        yield Malformed("SNS message's MessageId and TopicArn must be strings", context.origin, context.message_id)
        return
    yield from _from_body(sns.get("Message"), context.inner(f"sns:{message_id or '?'}", topic), "SNS Message")


def _s3_record(record: Mapping[str, Any], context: _Context) -> Item:
    try:
        return _s3_item(record, context)
    except ValueError as exc:
        return Malformed(f"S3 record {exc}", context.origin, context.message_id)


def _s3_item(record: Mapping[str, Any], context: _Context) -> Item:
    """One S3 record as an event (or Ignored); ValueError says which field is missing or of the wrong type."""
    s3 = record.get("s3")
    bucket = s3.get("bucket") if isinstance(s3, _OBJECT) else None
    obj = s3.get("object") if isinstance(s3, _OBJECT) else None
    if not (isinstance(bucket, _OBJECT) and isinstance(obj, _OBJECT)) or not (
        _text(bucket, "name", "s3.bucket.") and _text(obj, "key", "s3.object.")
    ):
        raise ValueError("lacks s3.bucket.name or s3.object.key")
    name = _text(record, "eventName")
    if name is None:
        raise ValueError("lacks eventName")
    decoded_key = unquote_plus(obj["key"])
    event = name.removeprefix("s3:")
    if not event.startswith("ObjectCreated:"):
        return Ignored(
            printable(f"{event or 'unnamed'} event for s3://{bucket['name']}/{decoded_key}: ")
            + "only ObjectCreated events start runs",
            context.origin,
            context.message_id,
        )
    s3_object = _s3_object(bucket["name"], decoded_key, obj)
    version = s3_object.sequencer or s3_object.version_id or s3_object.etag or ""
    return InboundEvent(
        kind="s3",
        event_id=str(uuid.uuid5(_EVENT_ID_NAMESPACE, f"{s3_object.bucket}/{s3_object.key}@{version}")),
        event_time=_time(record, "eventTime"),
        region=_text(record, "awsRegion") or context.region,
        account=context.account,
        raw=record,
        origin=context.origin,
        s3=s3_object,
        message_id=context.message_id,
    )


def _s3_object(bucket: str, key: str, obj: Mapping[str, Any]) -> S3Object:
    """The object a record names; ValueError for a field of the wrong type."""
    return S3Object(
        bucket=bucket,
        key=key,
        size=_integer(obj, "size", "s3.object."),
        etag=_text(obj, "eTag", "s3.object."),
        version_id=_text(obj, "versionId", "s3.object."),
        sequencer=_text(obj, "sequencer", "s3.object."),
    )


def _eventbridge(event: Mapping[str, Any], context: _Context) -> Item:
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        return Malformed("EventBridge event lacks 'id'", context.origin, context.message_id)
    try:
        return _eventbridge_event(event, context.inner(event_id))
    except ValueError as exc:
        return Malformed(f"EventBridge event {printable(event_id)} {exc}", context.origin, context.message_id)


def _eventbridge_event(event: Mapping[str, Any], context: _Context) -> InboundEvent:
    """The event, its kind told by source and detail-type; ValueError names a missing or mistyped field."""
    source, detail_type, detail = event.get("source"), event.get("detail-type"), event.get("detail")
    if not isinstance(source, str) or not source or not isinstance(detail_type, str):
        raise ValueError("needs 'source' and 'detail-type' strings")
    if not isinstance(detail, Mapping | str):
        raise ValueError("needs a 'detail' object (or, from EventBridge Scheduler, JSON text)")
    common: dict[str, Any] = {
        "event_id": event["id"],
        "event_time": _time(event, "time"),
        "region": _text(event, "region") or context.region,
        "account": _text(event, "account") or context.account,
        "raw": event,
        "origin": context.origin,
        "envelope": event,
        "message_id": context.message_id,
    }
    if source == "aws.s3" and detail_type == "Object Created" and isinstance(detail, _OBJECT):
        return InboundEvent(kind="s3", s3=_eventbridge_object(detail), **common)
    if source in SCHEDULE_SOURCES and detail_type == "Scheduled Event":
        return InboundEvent(kind="schedule", schedule_name=_schedule_name(event), **common)
    return InboundEvent(kind="event", **common)


def _eventbridge_object(detail: Mapping[str, Any]) -> S3Object:
    bucket, obj = detail.get("bucket"), detail.get("object")
    if not (isinstance(bucket, _OBJECT) and isinstance(obj, _OBJECT)) or not (
        _text(bucket, "name", "detail.bucket.") and _text(obj, "key", "detail.object.")
    ):
        raise ValueError("lacks detail.bucket.name or detail.object.key")
    # EventBridge carries the key as written, not URL-encoded like S3's classic notifications.
    return S3Object(
        bucket=bucket["name"],
        key=obj["key"],
        size=_integer(obj, "size", "detail.object."),
        # AWS writes "etag"; moto's server writes "eTag", as in classic notifications.
        etag=_text(obj, "etag", "detail.object.") or _text(obj, "eTag", "detail.object."),
        version_id=_text(obj, "version-id", "detail.object."),
        sequencer=_text(obj, "sequencer", "detail.object."),
    )


def _schedule_name(event: Mapping[str, Any]) -> str | None:
    """The rule or schedule that fired a scheduled event: the last part of its first resource's ARN."""
    resources = event.get("resources")
    if resources is None:
        return None
    if not isinstance(resources, list) or not all(isinstance(arn, str) for arn in resources):
        raise ValueError("needs 'resources' to be a list of ARNs")
    return resources[0].rsplit("/", 1)[-1] if resources else None


def unknown_shape(document: Mapping[str, Any]) -> str:
    """Why ``document`` is refused, naming its keys (never its values: they may be sensitive)."""
    keys = ", ".join(sorted(map(str, document))[:8]) or "none"
    return printable(f"not an event shape gluetrigger knows (top-level keys: {keys})")


def parse_time(value: object) -> datetime:
    """An ISO 8601 timestamp as an aware UTC datetime (a naive one is taken as UTC)."""
    if not isinstance(value, str) or not value:
        raise ValueError("missing timestamp")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO 8601 timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00:00+01:00 is well formed, but in UTC it falls before year 1.
        raise ValueError(f"{value!r} is outside the years 1 to 9999 in UTC") from None


def format_time(moment: datetime) -> str:
    """ISO 8601 UTC with a Z and a four-digit year; milliseconds only when the source had them."""
    wall = moment.astimezone(UTC).replace(tzinfo=None)
    return f"{wall.isoformat(timespec='milliseconds' if wall.microsecond else 'seconds')}Z"


def printable(text: str) -> str:
    """``text`` on one line: each character that is not printable (a line break, a control
    character, a lone surrogate) written as its escape, as ``repr`` would."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _time(mapping: Mapping[str, Any], name: str) -> datetime:
    try:
        return parse_time(mapping.get(name))
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _text(mapping: Mapping[str, Any], name: str, path: str = "") -> str | None:
    """An optional string field: None when absent, null or empty; ValueError when of another type."""
    value = mapping.get(name)
    if value is None or isinstance(value, str):
        return value or None
    raise ValueError(f"{path}{name} must be a string")


def _integer(mapping: Mapping[str, Any], name: str, path: str = "") -> int | None:
    """An optional integer field (0 included): None when absent or null; ValueError when of another type."""
    value = mapping.get(name)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError(f"{path}{name} must be an integer")
