"""EventBridge rule patterns that route S3 events to a trigger: one definition for every router.

The deployed stack and local mode must let through exactly the same objects, or local mode
would show runs the stack never starts (or miss some), so both build an S3 trigger's rule from
this module. The rule accepts only Object Created events of the trigger's bucket whose key
passes its prefix and suffix, so unrelated objects never invoke anything; ``key_pattern`` (a
regex EventBridge cannot evaluate) is left to the handler, which also re-checks prefix and
suffix.

EventBridge ORs the matchers listed for one field, so a prefix *and* a suffix become one
``wildcard`` matcher, ``<prefix>*<suffix>``. That matcher needs the two side by side, yet a key
may pass both while they overlap (prefix ``logs/a``, suffix ``a.csv``, key ``logs/a.csv``); such
keys are few and are listed as exact values, so the rule accepts precisely the keys the handler's
own check accepts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gluetrigger.core.model import S3Source

__all__ = ["key_matchers", "object_created_pattern", "wildcard_literal"]


def object_created_pattern(source: S3Source) -> dict[str, Any]:
    """The event pattern of an S3 trigger's rule: source aws.s3, Object Created, bucket, key filters."""
    detail: dict[str, Any] = {"bucket": {"name": [source.bucket]}}
    key = key_matchers(source.prefix, source.suffix)
    if key:
        detail["object"] = {"key": key}
    return {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": detail}


def key_matchers(prefix: str, suffix: str) -> list[Any]:
    """Matchers for exactly the keys that start with ``prefix`` and end with ``suffix`` ([]: any key).

    EventBridge ORs the matchers of one field, so prefix and suffix together become a wildcard;
    keys where the two overlap are listed exactly (see the module docstring).
    """
    if not suffix:
        return [{"prefix": prefix}] if prefix else []
    if not prefix:
        return [{"suffix": suffix}]
    overlapping = [
        prefix + suffix[shared:]
        for shared in range(1, min(len(prefix), len(suffix)) + 1)
        if prefix.endswith(suffix[:shared])
    ]
    return [{"wildcard": f"{wildcard_literal(prefix)}*{wildcard_literal(suffix)}"}, *overlapping]


def wildcard_literal(text: str) -> str:
    """``text`` as literal characters inside an EventBridge wildcard (only ``\\`` and ``*`` are special)."""
    return text.replace("\\", "\\\\").replace("*", "\\*")
