"""Batches: many files, one run; the rules, without the storage (:mod:`gluetrigger.runtime.batching`).

A batch trigger (``batch:`` in triggers.yaml) does not start a run per file. Each file joins the
trigger's open batch, numbered from 1, in the next free slot; the batch closes when its last
slot (``max_files``) is taken, or ``window_seconds`` after its first file by a flush message
(:func:`flush_body`) that the first file's delivery sent, delayed by SQS. A closed batch gets a
manifest listing its files in slot order (:func:`manifest_body`) and one run whose templates see
``${manifest}``, ``${file_count}`` and ``${batch_id}`` (:func:`batch_variables`) and whose event
time is the batch's close time.

Ids: a batch's id is its opening time and number, ``20260314T101500Z-000042``
(:func:`batch_id`). The number alone never repeats while the trigger's head item lives (it never
expires); the opening time keeps ids apart even if the table is ever recreated and numbering
starts again. The id is fixed once the batch opens, so every retry writes the same manifest and
plans the same run, whose idempotency key (``<trigger>:batch:<id>``) is what the run-key argument
finds again after a crash.

A file is known by its bucket, key, version id and sequencer (:func:`file_digest`): S3 gives a
new write of a key a new sequencer, and a redelivered event the same one, so a duplicate finds
the batch its first delivery joined.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gluetrigger.core.errors import EventShapeError
from gluetrigger.core.events import InboundEvent
from gluetrigger.core.variables import event_variables

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gluetrigger.core.events import S3Object
    from gluetrigger.core.model import Batch, Trigger

__all__ = [
    "FLUSH_KEY",
    "MANIFEST_FILE_FIELDS",
    "BatchFile",
    "BatchFlush",
    "Claim",
    "ClosedBatch",
    "Head",
    "after_claim",
    "batch_event",
    "batch_id",
    "batch_variables",
    "claim_slot",
    "file_digest",
    "file_record",
    "flush_body",
    "flush_delay_seconds",
    "manifest_body",
    "manifest_location",
    "read_flush",
]

# The one key of a flush message's body, which names the trigger and the batch to close.
FLUSH_KEY = "gluetrigger-batch-flush"
# A file's record in a manifest, in this order.
MANIFEST_FILE_FIELDS = ("bucket", "key", "size", "etag", "version_id", "sequencer", "event_time")


@dataclass(frozen=True)
class BatchFile:
    """A file that a batch trigger matched: it joins the trigger's open batch instead of starting a run."""

    trigger: Trigger
    event: InboundEvent

    def to_json(self) -> dict[str, Any]:
        return {"trigger": self.trigger.name, "file": self.event.describe()}


@dataclass(frozen=True)
class BatchFlush:
    """A flush message: close batch ``seq`` of ``trigger`` if it is still open, and start it."""

    trigger: str
    seq: int


def flush_body(trigger: str, seq: int) -> str:
    """The body of the message that closes batch ``seq`` when its window ends."""
    return json.dumps({FLUSH_KEY: {"trigger": trigger, "batch": seq}}, separators=(",", ":"))


def read_flush(document: object) -> BatchFlush | None:
    """The flush ``document`` asks for; None when it is no flush; EventShapeError when it is a broken one."""
    if not isinstance(document, Mapping) or FLUSH_KEY not in document:
        return None
    body = document[FLUSH_KEY]
    trigger = body.get("trigger") if isinstance(body, Mapping) else None
    seq = body.get("batch") if isinstance(body, Mapping) else None
    if len(document) != 1 or not isinstance(trigger, str) or type(seq) is not int or seq < 1:
        raise EventShapeError(f'a batch flush must be {{"{FLUSH_KEY}": {{"trigger": <name>, "batch": <number>}}}}')
    return BatchFlush(trigger, seq)


def file_digest(obj: S3Object) -> str:
    """What tells one file from another: a digest of its bucket, key, version id and sequencer."""
    identity = json.dumps([obj.bucket, obj.key, obj.version_id, obj.sequencer], ensure_ascii=False)
    return hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()


def file_record(event: InboundEvent) -> dict[str, Any]:
    """The manifest's record of an S3 event's file (absent values are null)."""
    if event.s3 is None:
        raise ValueError("only an S3 event names a file")
    obj = event.s3
    values = (obj.bucket, obj.key, obj.size, obj.etag, obj.version_id, obj.sequencer, event.event_time_iso)
    return dict(zip(MANIFEST_FILE_FIELDS, values, strict=True))


@dataclass(frozen=True)
class Head:
    """A trigger's open batch: number ``seq`` holds ``count`` files since ``opened_at``.

    ``flush_sent`` is the last batch whose flush message went out; ``region`` and ``account`` are
    those of the batch's first file (the run's ``${region}`` and ``${account}``).
    """

    seq: int = 1
    count: int = 0
    opened_at: datetime | None = None
    flush_sent: int = 0
    region: str | None = None
    account: str | None = None


@dataclass(frozen=True)
class Claim:
    """The slot a file takes: ``slot`` of batch ``seq``; ``opens`` / ``closes`` the batch."""

    seq: int
    slot: int
    opens: bool
    closes: bool


def claim_slot(head: Head, max_files: int) -> Claim:
    """The next free slot of the open batch; taking the last one closes it."""
    slot = head.count + 1
    return Claim(seq=head.seq, slot=slot, opens=slot == 1, closes=slot >= max_files)


def after_claim(head: Head, claim: Claim, now: datetime, file_origin: tuple[str | None, str | None]) -> Head:
    """The head once ``claim`` (taken from ``head``) committed; ``file_origin``: the file's region and account.

    What the claim's own transaction wrote, so the next claim of the invocation need not read it again.
    """
    if claim.closes:
        return Head(seq=claim.seq + 1, count=0, flush_sent=head.flush_sent)
    if claim.opens:
        region, account = file_origin
        return Head(
            seq=claim.seq, count=claim.slot, opened_at=now, flush_sent=head.flush_sent, region=region, account=account
        )
    return replace(head, count=claim.slot)


def flush_delay_seconds(head: Head, window_seconds: int, now: datetime) -> int:
    """How long the flush of the open batch must wait: the rest of its window (whole seconds, rounded up)."""
    if head.opened_at is None:
        return window_seconds
    remaining = window_seconds - (now - head.opened_at).total_seconds()
    return max(0, min(window_seconds, math.ceil(remaining)))


@dataclass(frozen=True)
class ClosedBatch:
    """Batch ``seq`` of ``trigger``, closed with ``size`` files: what its run is planned from."""

    trigger: str
    seq: int
    size: int
    opened_at: datetime
    closed_at: datetime
    region: str | None = None
    account: str | None = None

    @property
    def batch_id(self) -> str:
        return batch_id(self.opened_at, self.seq)


def batch_id(opened_at: datetime, seq: int) -> str:
    """A batch's id: when it opened (UTC, to the second) and its number, ``20260314T101500Z-000042``."""
    return f"{opened_at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{seq:06d}"


def manifest_location(batch: Batch, default_bucket: str | None, trigger: str, id_: str) -> tuple[str, str]:
    """The bucket and key of a batch's manifest: ``<location>/<trigger>/<batch id>.json``."""
    bucket = batch.manifest_bucket or default_bucket
    if bucket is None:
        raise ValueError(f"{trigger}: no manifest location and no manifests bucket")
    return bucket, f"{batch.manifest_prefix}{trigger}/{id_}.json"


def manifest_body(trigger: str, id_: str, files: Sequence[Mapping[str, Any]]) -> bytes:
    """The manifest, byte for byte the same for the same batch: each retry rewrites it unchanged."""
    records = [{field: record.get(field) for field in MANIFEST_FILE_FIELDS} for record in files]
    document = {"trigger": trigger, "batch_id": id_, "files": records}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")


def batch_event(closed: ClosedBatch) -> InboundEvent:
    """The event a batch's run is planned from: the batch's close, at its close time."""
    id_ = closed.batch_id
    return InboundEvent(
        kind="event",
        event_id=f"batch:{id_}",
        event_time=closed.closed_at,
        region=closed.region,
        account=closed.account,
        raw={"trigger": closed.trigger, "batch_id": id_, "file_count": closed.size},
        origin=f"batch {id_} of {closed.trigger}",
    )


def batch_variables(closed: ClosedBatch, manifest_uri: str) -> dict[str, str | None]:
    """The ``${name}`` values of a batch's run: every source's (of :func:`batch_event`), and the batch's own."""
    values = event_variables(closed.trigger, batch_event(closed), {})
    values.update(manifest=manifest_uri, file_count=str(closed.size), batch_id=closed.batch_id)
    return values
