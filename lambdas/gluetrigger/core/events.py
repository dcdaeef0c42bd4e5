"""Turn whatever AWS delivers into a flat list of logical events.

One Lambda invocation may carry an S3 notification, an SQS batch whose bodies are S3
notifications, SNS envelopes or EventBridge events, SNS inside SQS, an EventBridge event
delivered directly, or a list of any of these. Hand-written handlers read ``Records[0]`` and
lose the rest; this module walks every record, URL-decodes S3 keys (``+`` is a space), and
says why it ignores what it ignores (``s3:TestEvent``, deletions) instead of dropping it.

Only the fields the service needs are required: moto's S3 records lack ``userIdentity`` and its
EventBridge envelopes lack ``account``, and the same code must run there and on AWS.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import unquote_plus

from gluetrigger.core.errors import EventShapeError

__all__ = [
    "Ignored",
    "InboundEvent",
    "Item",
    "Malformed",
    "S3Object",
    "normalize",
    "normalize_decoded_message",
    "normalize_message",
    "parse_time",
    "unknown_shape",
]

SCHEDULE_SOURCES = {"aws.events", "aws.scheduler"}
_EVENT_ID_NAMESPACE = uuid.UUID("6f1d3f3e-9a53-4c55-9d44-6b0f6f2f7a10")


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

    @property
    def event_time_iso(self) -> str:
        return format_time(self.event_time)

    def describe(self) -> str:
        if self.s3 is not None:
            return f"s3://{self.s3.bucket}/{self.s3.key}"
        if self.schedule_name is not None:
            return f"scheduled event {self.event_id} of {self.schedule_name}"
        detail_type = self.envelope.get("detail-type") if self.envelope else None
        return f"event {self.event_id} ({detail_type})"


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


@dataclass(frozen=True)
class _Context:
    """What an outer envelope knows that the inner event may not (account, region, message id)."""

    origin: str
    region: str | None = None
    account: str | None = None
    message_id: str | None = None

    def inner(self, origin: str, arn: object = None, message_id: str | None = None) -> _Context:
        region, account = self.region, self.account
        if isinstance(arn, str) and arn.count(":") >= 5:
            parts = arn.split(":")
            region, account = parts[3] or region, parts[4] or account
        return _Context(f"{self.origin}/{origin}", region, account, message_id or self.message_id)


def normalize(event: object) -> list[Item]:
    """Every logical event in a Lambda payload; raise EventShapeError for an unknown top-level shape."""
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
    """:func:`normalize_message` for a body already decoded from JSON (the handler's per-message path)."""
    return list(_walk(document, _message_context(message_id, source_arn)))


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
    if not isinstance(event, Mapping):
        yield Malformed(f"expected a JSON object, got {type(event).__name__}", context.origin, context.message_id)
        return
    if isinstance(event.get("Records"), list):
        yield from _records(event["Records"], context)
    elif event.get("Event") == "s3:TestEvent":
        bucket = event.get("Bucket", "?")
        yield Ignored(
            f"s3:TestEvent from bucket {bucket}: sent when notifications are set up",
            context.origin,
            context.message_id,
        )
    elif event.get("Type") in ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"):
        yield from _sns(event, context)
    elif all(k in event for k in ("detail-type", "source", "detail")):
        yield _eventbridge(event, context)
    else:
        yield Malformed(unknown_shape(event), context.origin, context.message_id)


def _records(records: list[Any], context: _Context) -> Iterator[Item]:
    if not records:
        yield Malformed("'Records' is empty", context.origin, context.message_id)
    for index, record in enumerate(records):
        here = f"Records[{index}]"
        if not isinstance(record, Mapping):
            yield Malformed("record is not a JSON object", f"{context.origin}/{here}", context.message_id)
            continue
        source = record.get("eventSource") or record.get("EventSource")
        if source == "aws:sqs":
            message_id = str(record.get("messageId", index))
            inner = context.inner(f"sqs:{message_id}", record.get("eventSourceARN"), message_id)
            yield from _from_body(record.get("body"), inner)
        elif source == "aws:sns" and isinstance(record.get("Sns"), Mapping):
            yield from _sns(record["Sns"], context)
        elif source == "aws:s3" or "s3" in record:
            yield _s3_record(record, context.inner(here))
        else:
            yield Malformed(f"record from {source!r} is not supported", f"{context.origin}/{here}", context.message_id)


def _from_body(body: object, context: _Context) -> Iterator[Item]:
    if not isinstance(body, str):
        yield Malformed("message body is missing", context.origin, context.message_id)
        return
    try:
        decoded = json.loads(body)
    except ValueError:
        yield Malformed("message body is not JSON", context.origin, context.message_id)
        return
    yield from _walk(decoded, context)


def _sns(sns: Mapping[str, Any], context: _Context) -> Iterator[Item]:
    if sns.get("Type") != "Notification":
        yield Ignored(f"SNS {sns.get('Type')} message: not a notification", context.origin, context.message_id)
        return
    inner = context.inner(f"sns:{sns.get('MessageId', '?')}", sns.get("TopicArn"))
    yield from _from_body(sns.get("Message"), inner)


def _s3_record(record: Mapping[str, Any], context: _Context) -> Item:
    name = str(record.get("eventName", ""))
    s3 = record.get("s3")
    obj = s3.get("object") if isinstance(s3, Mapping) else None
    bucket = s3.get("bucket") if isinstance(s3, Mapping) else None
    if not isinstance(obj, Mapping) or not isinstance(bucket, Mapping) or not isinstance(obj.get("key"), str):
        return Malformed("S3 record lacks s3.bucket.name or s3.object.key", context.origin, context.message_id)
    decoded_key = unquote_plus(obj["key"])
    event = name.removeprefix("s3:")
    if not event.startswith("ObjectCreated:"):
        return Ignored(
            f"{event or 'unnamed'} event for s3://{bucket.get('name')}/{decoded_key}: "
            "only ObjectCreated events start runs",
            context.origin,
            context.message_id,
        )
    s3_object = S3Object(
        bucket=str(bucket.get("name")),
        key=decoded_key,
        size=_int_or_none(obj.get("size")),
        etag=_str_or_none(obj.get("eTag")),
        version_id=_str_or_none(obj.get("versionId")),
        sequencer=_str_or_none(obj.get("sequencer")),
    )
    try:
        event_time = parse_time(record.get("eventTime"))
    except ValueError as exc:
        return Malformed(f"S3 record eventTime: {exc}", context.origin, context.message_id)
    version = s3_object.sequencer or s3_object.version_id or s3_object.etag or ""
    return InboundEvent(
        kind="s3",
        event_id=str(uuid.uuid5(_EVENT_ID_NAMESPACE, f"{s3_object.bucket}/{s3_object.key}@{version}")),
        event_time=event_time,
        region=_str_or_none(record.get("awsRegion")) or context.region,
        account=context.account,
        raw=record,
        origin=context.origin,
        s3=s3_object,
        message_id=context.message_id,
    )


def _eventbridge(event: Mapping[str, Any], context: _Context) -> Item:
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id:
        return Malformed("EventBridge event lacks 'id'", context.origin, context.message_id)
    try:
        event_time = parse_time(event.get("time"))
    except ValueError as exc:
        return Malformed(f"EventBridge event {event_id} time: {exc}", context.origin, context.message_id)
    common: dict[str, Any] = {
        "event_id": event_id,
        "event_time": event_time,
        "region": _str_or_none(event.get("region")) or context.region,
        "account": _str_or_none(event.get("account")) or context.account,
        "raw": event,
        "origin": f"{context.origin}/{event_id}",
        "envelope": event,
        "message_id": context.message_id,
    }
    source, detail_type, detail = event.get("source"), event.get("detail-type"), event.get("detail")
    if not isinstance(source, str) or not source or not isinstance(detail_type, str):
        return Malformed(
            f"EventBridge event {event_id} needs 'source' and 'detail-type' strings",
            context.origin,
            context.message_id,
        )
    if source == "aws.s3" and detail_type == "Object Created" and isinstance(detail, Mapping):
        s3_object = _eventbridge_object(detail)
        if s3_object is None:
            return Malformed(
                f"S3 event {event_id} lacks detail.bucket.name or detail.object.key",
                context.origin,
                context.message_id,
            )
        return InboundEvent(kind="s3", s3=s3_object, **common)
    if source in SCHEDULE_SOURCES and detail_type == "Scheduled Event":
        resources = event.get("resources")
        arn = resources[0] if isinstance(resources, list) and resources else None
        name = arn.rsplit("/", 1)[-1] if isinstance(arn, str) else None
        return InboundEvent(kind="schedule", schedule_name=name, **common)
    return InboundEvent(kind="event", **common)


def _eventbridge_object(detail: Mapping[str, Any]) -> S3Object | None:
    bucket, obj = detail.get("bucket"), detail.get("object")
    if not isinstance(bucket, Mapping) or not isinstance(obj, Mapping):
        return None
    name, key = bucket.get("name"), obj.get("key")
    if not isinstance(name, str) or not isinstance(key, str):
        return None
    # EventBridge carries the key as written, not URL-encoded like S3's classic notifications.
    return S3Object(
        bucket=name,
        key=key,
        size=_int_or_none(obj.get("size")),
        # AWS writes "etag"; moto's server writes "eTag", as in classic notifications.
        etag=_str_or_none(obj.get("etag")) or _str_or_none(obj.get("eTag")),
        version_id=_str_or_none(obj.get("version-id")),
        sequencer=_str_or_none(obj.get("sequencer")),
    )


def unknown_shape(document: Mapping[str, Any]) -> str:
    """Why ``document`` is refused, naming its keys (never its values: they may be sensitive)."""
    keys = ", ".join(sorted(map(str, document))[:8]) or "none"
    return f"not an event shape gluetrigger knows (top-level keys: {keys})"


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
    return parsed.astimezone(UTC)


def format_time(moment: datetime) -> str:
    """ISO 8601 UTC with a Z; milliseconds only when the source had them."""
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
