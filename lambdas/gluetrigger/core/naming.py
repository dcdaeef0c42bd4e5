"""Names shared by the deployed stack, local mode and the matcher.

A scheduled event names the rule or schedule that fired it; the trigger that owns it is the
part of that name after the last '.', which trigger names (a-z, 0-9, '-') never contain. The
stack and local mode name their rules and schedules with :func:`schedule_resource_name`, so
ownership needs no lookup table at run time.
"""

from __future__ import annotations

__all__ = ["schedule_owner", "schedule_resource_name"]

# EventBridge rule and Scheduler schedule names: at most 64 characters.
RESOURCE_NAME_MAX = 64


def schedule_resource_name(prefix: str, trigger: str) -> str:
    """``<prefix>.<trigger>``, the prefix shortened so the whole fits 64 characters."""
    room = RESOURCE_NAME_MAX - len(trigger) - 1
    if room <= 0 or not prefix:
        return trigger
    return f"{prefix[:room]}.{trigger}"


def schedule_owner(resource_name: str) -> str:
    """The trigger name a rule or schedule name belongs to."""
    return resource_name.rsplit(".", 1)[-1]
