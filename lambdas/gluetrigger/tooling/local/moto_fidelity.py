"""Make moto's S3 -> EventBridge "Object Created" events look like the ones AWS sends.

moto 5.2 sends S3's EventBridge notifications with four differences from AWS's documented
event (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html) that change what
the handler decides: the object's ETag under ``eTag`` instead of ``etag`` (so a trigger keyed
on ``${etag}`` would reject every event), the same ``sequencer`` for every write (so two writes
of a key would look like one redelivered event), the same event ``id`` for every event, and
``version-id: "null"`` on unversioned buckets, where AWS omits it. This module replaces moto's
sender for Object Created events with one that follows the documentation; rule matching and
delivery to targets stay moto's. Other S3 event types keep moto's own sender.

Only the embedded emulator installs it: an emulator the user runs (``--endpoint-url``) sends
its own events.
"""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from moto.events.utils import EventMessageType

__all__ = ["install", "object_created_event"]

log = logging.getLogger(__name__)

# S3's sequencer is a hex string that grows with each write of a key; a process-wide counter
# seeded with the clock grows with each write of any key, which is enough.
_SEQUENCE = itertools.count(time.time_ns())
# moto's event name suffix -> the "reason" AWS puts in an Object Created event.
REASONS = {
    "Put": "PutObject",
    "Post": "POST Object",
    "Copy": "CopyObject",
    "CompleteMultipartUpload": "CompleteMultipartUpload",
}


def install() -> None:
    """Route moto's S3 EventBridge notifications through :func:`_send` (idempotent)."""
    from moto.s3 import notifications

    original = notifications._send_event_bridge_message
    if getattr(original, "__module__", None) == __name__:
        return

    def send(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        if notifications._detail_type(event_name) != "Object Created":
            original(account_id, bucket, event_name, key)
            return
        event = cast("EventMessageType", object_created_event(account_id, bucket, event_name, key))
        _send(event, account_id, bucket.region_name)

    send.__module__ = __name__
    notifications._send_event_bridge_message = send


def object_created_event(account_id: str, bucket: Any, event_name: str, key: Any) -> dict[str, Any]:
    """The EventBridge event AWS sends for a new object (``time`` in epoch seconds, as moto expects)."""
    obj: dict[str, Any] = {
        "key": key.name,
        "size": key.size,
        "etag": key.etag.strip('"'),
        "sequencer": f"{next(_SEQUENCE):018X}",
    }
    if bucket.is_versioned:
        obj["version-id"] = key.version_id
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": account_id,
        # moto's SQS target turns epoch seconds into the ISO 8601 time AWS sends.
        "time": time.time(),
        "region": bucket.region_name,
        "resources": [bucket.arn],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket.name},
            "object": obj,
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": account_id,
            "source-ip-address": "127.0.0.1",
            "reason": REASONS.get(event_name.rsplit(":", 1)[-1], "PutObject"),
        },
    }


def _send(event: EventMessageType, account_id: str, region: str) -> None:
    from moto.events.models import events_backends

    backend = events_backends[account_id][region]
    for bus in list(backend.event_buses.values()):
        for rule in list(bus.rules.values()):
            try:
                rule.send_to_targets(event.copy(), transform_input=False)
            except Exception:
                # S3 delivers asynchronously on AWS: a failing target never fails the PutObject.
                log.exception("delivering an S3 event through rule %s failed", rule.name)
