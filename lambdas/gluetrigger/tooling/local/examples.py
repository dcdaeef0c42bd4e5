"""Sample inputs a trigger would match, so the console can print commands that work as shown.

A person trying local mode should be able to paste the printed ``aws s3 cp`` or ``aws events
put-events`` line and see a run. Keys and events are built from the trigger's own filters and
then checked with the same matching code the handler uses; when no sample passes (a key_pattern
or event pattern too specific to guess), None tells the console to show a placeholder instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from gluetrigger.core.patterns import matches

if TYPE_CHECKING:
    from gluetrigger.core.model import EventSource, S3Source
    from gluetrigger.core.templates import Template

__all__ = ["example_entry", "example_key"]

_MISSING = object()
# A ``${event:EXPR}`` that is a plain field path under ``detail`` (``detail.exportId``): the
# sample event must carry it, or the handler rejects the event for the missing variable.
_DETAIL_PATH = re.compile(r"^detail(?:\.[A-Za-z_][A-Za-z0-9_]*)+$")


def example_key(source: S3Source, today: date) -> str | None:
    """An object key that passes the trigger's prefix, suffix and key_pattern, if one is easy to find."""
    names = (f"{today.isoformat()}/example", "example", today.isoformat())
    for name in names:
        key = f"{source.prefix}{name}{source.suffix}"
        if source.key_matches(key) is None:
            return key
    return None


def example_entry(source: EventSource, templates: Iterable[Template] = ()) -> dict[str, str] | None:
    """A PutEvents entry (Source, DetailType, Detail as JSON) that the trigger's pattern matches.

    ``templates`` are the trigger's (arguments, job_run_id, idempotency_key): every
    ``${event:detail.FIELD}`` they read is given a sample value, so the event starts a run.
    """
    envelope = _sample(source.pattern)
    if not isinstance(envelope, dict):
        return None
    envelope.setdefault("source", "com.example")
    envelope.setdefault("detail-type", "Example")
    envelope.setdefault("detail", {})
    for template in templates:
        for placeholder in template.placeholders:
            if placeholder.kind == "event" and _DETAIL_PATH.match(placeholder.arg.strip()):
                _fill(envelope, placeholder.arg.strip().split("."))
    if not all(isinstance(envelope[k], str) for k in ("source", "detail-type")):
        return None
    if not isinstance(envelope["detail"], dict) or not matches(source.pattern, envelope):
        return None
    entry = {
        "Source": envelope["source"],
        "DetailType": envelope["detail-type"],
        "Detail": json.dumps(envelope["detail"], separators=(",", ":")),
    }
    if source.event_bus != "default":
        entry["EventBusName"] = source.event_bus
    return entry


def _fill(envelope: dict[str, Any], path: list[str]) -> None:
    """Give ``envelope`` a sample value at ``path`` unless it has one (or a non-object on the way)."""
    node: Any = envelope
    for field in path[:-1]:
        node = node.setdefault(field, {}) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.setdefault(path[-1], "example")


def _sample(pattern: Mapping[str, Any]) -> Any:
    """A value for each field of ``pattern`` (the first ``$or`` branch for an alternative)."""
    sample: dict[str, Any] = {}
    for field, condition in pattern.items():
        if field == "$or" and isinstance(condition, list) and condition:
            sample.update(_sample(condition[0]))
        elif isinstance(condition, Mapping):
            sample[field] = _sample(condition)
        elif isinstance(condition, list):
            value = next((v for v in map(_leaf, condition) if v is not _MISSING), _MISSING)
            if value is not _MISSING:
                sample[field] = value
    return sample


def _leaf(condition: object) -> object:
    if not isinstance(condition, Mapping):
        return condition  # an exact string, number, boolean or null
    if len(condition) != 1:
        return _MISSING
    ((operator, argument),) = condition.items()
    if operator == "prefix" and isinstance(argument, str):
        return f"{argument}example"
    if operator == "suffix" and isinstance(argument, str):
        return f"example{argument}"
    if operator in ("equals-ignore-case", "wildcard") and isinstance(argument, str):
        return argument.replace("\\*", "").replace("*", "x")
    if operator == "exists" and argument is True:
        return "example"
    if operator == "numeric" and isinstance(argument, list):
        return _number(argument)
    return _MISSING


def _number(ranges: list[Any]) -> object:
    bounds = dict(zip(ranges[::2], ranges[1::2], strict=False))
    if "=" in bounds:
        return bounds["="]
    low = bounds.get(">", bounds.get(">="))
    high = bounds.get("<", bounds.get("<="))
    if isinstance(low, int | float) and isinstance(high, int | float):
        return (low + high) / 2
    if isinstance(low, int | float):
        return low + 1
    if isinstance(high, int | float):
        return high - 1
    return _MISSING
