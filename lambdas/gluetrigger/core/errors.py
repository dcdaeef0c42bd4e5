"""Error types shared by the core, the CLI, the handler and the CDK app.

Every user-facing problem is one line that names where it is: ``<trigger>: <field>: <message>``
for configuration, ``<trigger>: <reason>`` for an event a trigger must reject. Nothing here
carries a stack trace to the user: callers print ``str(error)``.

Every exception gluetrigger raises on purpose derives from :class:`GlueTriggerError`, in every
package (core, runtime, tooling, infra), so a caller can tell "gluetrigger said no, with a
one-line reason" from a defect with one ``except`` clause.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ConfigError", "EventShapeError", "GlueTriggerError", "Problem", "RenderError"]


class GlueTriggerError(Exception):
    """The common base of gluetrigger's own exceptions: ``str(error)`` is the message for the user."""


@dataclass(frozen=True)
class Problem:
    """One configuration problem, or a warning when ``warning`` is true."""

    trigger: str
    field: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        prefix = "warning: " if self.warning else ""
        return f"{self.trigger}: {self.field}: {prefix}{self.message}"


class ConfigError(GlueTriggerError):
    """The configuration is invalid; ``problems`` lists every problem found, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = [p for p in problems if not p.warning]
        super().__init__("\n".join(str(p) for p in self.problems))


class EventShapeError(GlueTriggerError):
    """The input is not JSON, or not an event shape gluetrigger understands (never retried)."""


class RenderError(GlueTriggerError):
    """A matching trigger must reject this event: a variable is missing or empty, arguments too large."""

    def __init__(self, trigger: str, reason: str) -> None:
        self.trigger = trigger
        self.reason = reason
        super().__init__(f"{trigger}: {reason}")
