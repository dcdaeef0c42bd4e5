"""The template language of triggers.yaml: ``${name}``, ``${time:FORMAT}``, ``${event:EXPR}``, ``$$``.

``${time-1d:FORMAT}`` and ``${time+2h:FORMAT}`` shift the event time before formatting it in the
trigger's timezone (:func:`local_time` says how a shift meets a daylight-saving change).

Templates are parsed once, when the config is loaded, into literal text and placeholders;
rendering only concatenates. A substituted value is never parsed again, so event data that
happens to contain ``${bucket}`` stays that text: data can't become a template, and nothing is
ever evaluated. A ``$`` that starts neither ``${`` nor ``$$`` is literal text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from gluetrigger.core.errors import GlueTriggerError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Placeholder", "Template", "TemplateError", "TimeOffset", "local_time", "parse_template"]

# ``time-1d``: a sign, at most four digits (9999 weeks stays inside datetime's range), a unit.
OFFSET = re.compile(r"([+-])([0-9]{1,4})([mhdw])")
# Minutes and hours move elapsed time; days and weeks move the local calendar (local_time).
ELAPSED_UNITS = {"m": "minutes", "h": "hours"}
CALENDAR_UNITS = {"d": "days", "w": "weeks"}


class TemplateError(GlueTriggerError, ValueError):
    """The template text is malformed (an unclosed or empty ``${...}``)."""


@dataclass(frozen=True)
class TimeOffset:
    """The ``-1d`` of ``${time-1d:FORMAT}``: a signed amount of one unit (m, h, d or w)."""

    amount: int
    unit: str

    def __str__(self) -> str:
        return f"{self.amount:+d}{self.unit}"


@dataclass(frozen=True)
class Placeholder:
    """``${name}`` (kind ``var``), ``${time:FORMAT}`` (``time``) or ``${event:EXPR}`` (``event``).

    A ``time`` placeholder may carry an ``offset`` (``${time-1d:FORMAT}``).
    """

    kind: str
    arg: str
    offset: TimeOffset | None = None

    def __str__(self) -> str:
        if self.kind == "var":
            return f"${{{self.arg}}}"
        return f"${{{self.kind}{self.offset or ''}:{self.arg}}}"


@dataclass(frozen=True)
class Template:
    """A parsed template: literal strings and placeholders, in order."""

    source: str
    parts: tuple[str | Placeholder, ...]

    @property
    def placeholders(self) -> tuple[Placeholder, ...]:
        return tuple(p for p in self.parts if isinstance(p, Placeholder))

    def render(self, resolve: Callable[[Placeholder], str]) -> str:
        """Concatenate the parts, asking ``resolve`` for each placeholder's value."""
        if len(self.parts) == 1 and isinstance(self.parts[0], str):
            return self.parts[0]  # plain text, the most common argument: nothing to resolve
        return "".join([p if isinstance(p, str) else resolve(p) for p in self.parts])


def parse_template(text: str) -> Template:
    """Split ``text`` into literals and placeholders; raise TemplateError on malformed ``${``."""
    parts: list[str | Placeholder] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if char == "$" and nxt == "$":
            literal.append("$")
            i += 2
        elif char == "$" and nxt == "{":
            end = text.find("}", i + 2)
            if end < 0:
                raise TemplateError(f"unclosed '${{' at position {i} (write '$$' for a literal '$')")
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(_placeholder(text[i + 2 : end], i))
            i = end + 1
        else:
            literal.append(char)
            i += 1
    if literal:
        parts.append("".join(literal))
    return Template(source=text, parts=tuple(parts))


def local_time(event_time: datetime, offset: TimeOffset | None, timezone: str | None) -> datetime:
    """``event_time`` (UTC) shifted by ``offset`` and seen in ``timezone`` (UTC when None).

    ``m`` and ``h`` add elapsed time: ``time+2h`` is two real hours later, whatever the clocks do.
    ``d`` and ``w`` move the calendar in ``timezone`` and keep the wall-clock time, so ``time-1d``
    of 02:00 is 02:00 the day before even across a daylight-saving change. That wall time is
    resolved with fold=0: when it occurs twice (autumn) the first, summer-time one is taken; when it
    does not exist (spring) it moves forward by the gap, as zoneinfo does (02:30 becomes 03:30).
    """
    zone = ZoneInfo(timezone) if timezone else UTC
    if offset is None:
        return event_time.astimezone(zone)
    if offset.unit in ELAPSED_UNITS:
        return (event_time + timedelta(**{ELAPSED_UNITS[offset.unit]: offset.amount})).astimezone(zone)
    wall = event_time.astimezone(zone).replace(tzinfo=None) + timedelta(**{CALENDAR_UNITS[offset.unit]: offset.amount})
    # The round trip through UTC turns a wall time inside a spring-forward gap into a real one.
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)


def _placeholder(body: str, position: int) -> Placeholder:
    head, sep, arg = body.partition(":")
    timed = head.startswith(("time+", "time-"))
    if (sep and head in ("time", "event")) or timed:
        if not sep or not arg.strip():
            raise TemplateError(f"'${{{head}:}}' at position {position} needs an expression after ':'")
        offset = _offset(head[len("time") :], position) if timed else None
        return Placeholder(kind="time" if timed else head, arg=arg, offset=offset)
    name = body.strip()
    if not name:
        raise TemplateError(f"empty '${{}}' at position {position}")
    if not name.replace("_", "a").isalnum() or not name.isascii():
        raise TemplateError(
            f"'${{{body}}}' at position {position} is not a variable name "
            "(use ${name}, ${time:FORMAT} or ${event:EXPR})"
        )
    return Placeholder(kind="var", arg=name)


def _offset(text: str, position: int) -> TimeOffset:
    match = OFFSET.fullmatch(text)
    if match is None:
        raise TemplateError(
            f"time offset {text!r} at position {position} must be + or - 1 to 4 digits and a unit "
            "m, h, d or w (such as ${time-1d:%Y-%m-%d})"
        )
    sign, digits, unit = match.groups()
    return TimeOffset(amount=int(sign + digits), unit=unit)
