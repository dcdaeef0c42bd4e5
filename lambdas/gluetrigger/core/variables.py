"""Which template variables each source type provides, and their values for one event.

The config validator asks :func:`available_variables` so that a variable a trigger's source can
never provide is a load-time error; the renderer asks :func:`event_variables` per event, where
a value that is missing or empty rejects the event instead of starting a run with a hole in it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gluetrigger.core.model import S3Source

if TYPE_CHECKING:
    from collections.abc import Collection

    from gluetrigger.core.events import InboundEvent
    from gluetrigger.core.model import Source

__all__ = [
    "BATCH_VARIABLES",
    "COMMON_VARIABLES",
    "S3_VARIABLES",
    "available_variables",
    "event_variables",
    "per_file_variables",
]

COMMON_VARIABLES = frozenset({"trigger", "event_id", "event_time", "region", "account"})
S3_VARIABLES = frozenset({"bucket", "key", "size", "etag", "version_id", "sequencer"})
# A batch trigger's run covers many files: it gets these instead of one file's (gluetrigger.core.batching).
BATCH_VARIABLES = frozenset({"manifest", "file_count", "batch_id"})


def available_variables(source: Source, *, batched: bool = False) -> frozenset[str]:
    """The variables a trigger on ``source`` can use; ``batched``: the trigger gathers files into batches."""
    if batched:
        return COMMON_VARIABLES | BATCH_VARIABLES
    if isinstance(source, S3Source):
        groups = frozenset(source.key_pattern.groupindex) if source.key_pattern else frozenset()
        return COMMON_VARIABLES | S3_VARIABLES | groups
    return COMMON_VARIABLES


def per_file_variables(source: Source) -> frozenset[str]:
    """The variables that describe one file: a batch trigger, whose run covers many, cannot use them."""
    return available_variables(source) - COMMON_VARIABLES


def event_variables(
    trigger: str, event: InboundEvent, groups: dict[str, str | None], names: Collection[str] | None = None
) -> dict[str, str | None]:
    """The ``${name}`` values for one event; None marks a variable this event lacks.

    ``names``: the variables the caller's templates use, when it knows them (the planner does):
    ``event_time``, the one that costs a formatting, is left out unless among them.
    """
    values: dict[str, str | None] = {
        "trigger": trigger,
        "event_id": event.event_id,
        "region": event.region,
        "account": event.account,
    }
    if names is None or "event_time" in names:
        values["event_time"] = event.event_time_iso
    if event.s3 is not None:
        obj = event.s3
        values.update(
            bucket=obj.bucket,
            key=obj.key,
            size=None if obj.size is None else str(obj.size),
            etag=obj.etag,
            version_id=obj.version_id,
            sequencer=obj.sequencer,
        )
        values.update(groups)
    return values
