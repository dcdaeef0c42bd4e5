"""EventBridge schedule expressions: the same validation EventBridge applies, and the fire times.

EventBridge rejects a bad ``cron(...)`` or ``rate(...)`` only when the stack is deployed, and
the local emulator does not check them at all, so ``gluetrigger validate`` applies the rules of
the EventBridge cron and rate reference up front. Local mode has no EventBridge to fire
schedules, so it asks :meth:`Schedule.next_after` when each one fires next.

Where the reference is silent this module takes the stricter reading, so that an expression it
accepts is not refused at deploy time:

* fields are separated by exactly one space, with no space just inside the parentheses;
* special forms (``?``, ``L``, ``LW``, ``15W``, ``6L``, ``3#2``) are the whole field, never a
  list item (the reference says so for ``#``, Quartz, whose syntax EventBridge follows, for
  ``W``); ``/`` is not allowed in day-of-week, which the reference's table does not list for it;
* a backward range wraps around as in Quartz: hours ``20-2`` are 20-23 and 0-2, ``FRI-MON`` is
  Friday to Monday, ``NOV-FEB`` November to February, ``28-3`` days 28-31 and 1-3; years never
  wrap (``2030-2025`` is an error, as in Quartz);
* an increment is at most the field's number of values (``*/0`` and ``0/61`` are errors);
* names and the ``L``/``W`` letters are case-insensitive, as in Quartz; ``rate`` units are not,
  and a rate value is plain digits (leading zeros allowed, no sign);
* an expression is at most 256 characters, the API's limit.

Fire times:

* cron fields are read in the given IANA timezone (EventBridge Scheduler's
  ``ScheduleExpressionTimezone``), else in UTC (EventBridge rules are always UTC).
* A day that a month does not have never fires (``31`` and ``31W`` skip April, ``29 2`` waits
  for a leap year); ``15W`` and ``LW`` never move into another month.
* A wall-clock time that a daylight-saving jump skips fires once, at the first instant after the
  jump; a wall-clock time that happens twice fires once, at its first occurrence. (AWS documents
  that EventBridge Scheduler skips, rather than delays, an invocation at a skipped time.)
* ``rate(N unit)`` fires every N units, a day being 24 hours whatever the timezone. In AWS the
  sequence starts when the rule or schedule is created (or at Scheduler's ``StartDate``);
  locally there is no such moment, so the sequence is anchored at the Unix epoch in UTC, which
  makes every fire time a whole multiple of the period since 1970-01-01T00:00:00Z.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache
from typing import TypeAlias
from zoneinfo import ZoneInfo, available_timezones

from gluetrigger.core.errors import GlueTriggerError

__all__ = ["Schedule", "ScheduleError", "parse_schedule", "validate_timezone"]

# PutRule and CreateSchedule both cap ScheduleExpression at 256 characters.
MAX_EXPRESSION_LENGTH = 256
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# Rate fire times are counted in microseconds since EPOCH; this is the last one datetime can hold.
LAST_MICROSECOND = (datetime.max.replace(tzinfo=UTC) - EPOCH) // MICROSECOND
UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
SPECIAL_HOMES = {
    "?": "day-of-month and day-of-week",
    "L": "day-of-month and day-of-week",
    "W": "day-of-month",
    "#": "day-of-week",
}
CRON_FIELDS = "minutes hours day-of-month month day-of-week year"
LAST_WEEKDAY = re.compile(rf"([0-9]+|{'|'.join(WEEKDAY_NAMES)})L")
NTH_WEEKDAY = re.compile(rf"([0-9]+|{'|'.join(WEEKDAY_NAMES)})#([0-9]+)")
# Tokens that are L or W forms, for saying where they belong rather than "unknown value".
W_TOKEN = re.compile(r"[0-9]*W|LW")
L_TOKEN = re.compile(rf"[0-9]*L|(?:{'|'.join(WEEKDAY_NAMES)})L")


class ScheduleError(GlueTriggerError, ValueError):
    """A schedule expression or timezone EventBridge would refuse; the message is one line."""


@dataclass(frozen=True)
class Schedule:
    """A valid EventBridge schedule expression; constructing one validates it."""

    expression: str
    _plan: _Rate | _Cron = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Parsing here rather than in parse_schedule means no Schedule can exist unvalidated.
        object.__setattr__(self, "_plan", _parse(self.expression))

    def next_after(self, after: datetime, timezone: str | None = None) -> datetime:
        """The first fire time strictly after ``after`` (timezone-aware), as a UTC datetime.

        ``timezone`` (an IANA name) is where cron fields are read; UTC when None. It does not
        change a rate, whose period is a fixed duration. Raises ScheduleError when the
        expression never fires again (its year field has run out, or its day never exists).
        """
        if after.utcoffset() is None:
            raise ValueError("after must be a timezone-aware datetime")
        zone: tzinfo = UTC
        if timezone is not None:
            validate_timezone(timezone)
            zone = ZoneInfo(timezone)
        if isinstance(self._plan, _Rate):
            return self._plan.next_after(after)
        return self._plan.next_after(after, zone)


def parse_schedule(expression: str) -> Schedule:
    """``expression`` as a Schedule; ScheduleError says what EventBridge would object to."""
    return Schedule(expression)


def validate_timezone(name: str) -> None:
    """Raise ScheduleError unless ``name`` is an IANA timezone such as Europe/Paris."""
    if name not in _iana_zones():
        raise ScheduleError(f"unknown timezone {name!r} (expected an IANA name such as Europe/Paris)")


@cache
def _iana_zones() -> frozenset[str]:
    # Listing the zone files takes tens of milliseconds; the list does not change while we run.
    # "localtime" is a host's link to its own zone on some systems, not an IANA name.
    return frozenset(available_timezones() - {"localtime"})


def _parse(expression: str) -> _Rate | _Cron:
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ScheduleError(
            f"schedule expression is {len(expression)} characters long; EventBridge allows at most "
            f"{MAX_EXPRESSION_LENGTH}"
        )
    if expression != expression.strip():
        raise ScheduleError("schedule expression has leading or trailing whitespace")
    if expression.startswith("at("):
        raise ScheduleError("one-time at(...) schedules are not supported; use rate(...) or cron(...)")
    if expression.lower().startswith(("rate(", "cron(")) and not expression.startswith(("rate(", "cron(")):
        raise ScheduleError(f"write {expression[:4].lower()!r} in lower case")
    if expression.startswith("rate("):
        return _parse_rate(_body(expression))
    if expression.startswith("cron("):
        return _parse_cron(_body(expression))
    raise ScheduleError("schedule must be rate(value unit) or cron(fields), e.g. rate(5 minutes) or cron(0 10 * * ? *)")


def _body(expression: str) -> str:
    if not expression.endswith(")"):
        raise ScheduleError(f"{expression[:4]}(...) is missing its closing ')'")
    return expression[5:-1]


# rate(value unit)


@dataclass(frozen=True)
class _Rate:
    seconds: int

    def next_after(self, after: datetime) -> datetime:
        # Integers, not timedelta arithmetic: a period of millions of days must not overflow.
        period = self.seconds * 1_000_000
        fire = ((after - EPOCH) // MICROSECOND // period + 1) * period
        if fire > LAST_MICROSECOND:
            raise ScheduleError(f"never fires after {after.isoformat()}")
        return EPOCH + fire * MICROSECOND


def _parse_rate(body: str) -> _Rate:
    parts = body.split(" ")
    if len(parts) != 2 or "" in parts:
        raise ScheduleError(
            f"rate needs a value and a unit separated by one space, e.g. rate(5 minutes), got rate({body})"
        )
    text, unit = parts
    if re.fullmatch("[0-9]+", text) is None or int(text) == 0:
        raise ScheduleError(f"rate value must be a whole number of at least 1, got {text!r}")
    value = int(text)
    singular = unit.removesuffix("s")
    if singular not in UNIT_SECONDS:
        raise ScheduleError(f"rate unit must be minute(s), hour(s) or day(s) in lower case, got {unit!r}")
    if value == 1 and unit != singular:
        raise ScheduleError(f"rate of 1 takes the singular unit {singular!r}, got {unit!r}")
    if value > 1 and unit == singular:
        raise ScheduleError(f"rate of {value} takes the plural unit '{singular}s', got {unit!r}")
    return _Rate(value * UNIT_SECONDS[singular])


# cron(minutes hours day-of-month month day-of-week year)


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    steps: bool = True
    specials: str = ""  # the special characters that may make up the whole field
    special_forms: str = ""
    wraps: bool = True  # whether a backward range runs on past the last value

    def error(self, message: str) -> ScheduleError:
        return ScheduleError(f"{self.name}: {message}")

    def misplaced(self, char: str) -> ScheduleError:
        if char in self.specials:
            return self.error(f"'{char}' must be the whole field, as in {self.special_forms}")
        return self.error(f"'{char}' is only allowed in {SPECIAL_HOMES[char]}")

    def value(self, token: str) -> int:
        if token.isascii() and token.isdigit():
            number = int(token)
            if not self.low <= number <= self.high:
                raise self.error(f"{number} is out of range {self.low}-{self.high}")
            return number
        if token in self.names:
            return self.low + self.names.index(token)
        if W_TOKEN.fullmatch(token):
            raise self.misplaced("W")
        if L_TOKEN.fullmatch(token):
            raise self.misplaced("L")
        expected = f"{self.low}-{self.high}"
        if self.names:
            expected += f" or {self.names[0]}-{self.names[-1]}"
        raise self.error(f"unknown value {token!r} (expected {expected})")

    def values(self, text: str) -> tuple[int, ...]:
        """The sorted values a list of numbers, names, ranges and increments stands for."""
        for char in "?#":
            if char in text:
                raise self.misplaced(char)
        values: set[int] = set()
        for item in text.split(","):
            if not item:
                raise self.error(f"empty item in list {text!r}")
            values.update(self._item(item))
        return tuple(sorted(values))

    def _item(self, item: str) -> Sequence[int]:
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not self.steps:
                raise self.error(f"'/' is not allowed in {self.name}")
            span = self.high - self.low + 1
            if not (step_text.isascii() and step_text.isdigit() and 1 <= int(step_text) <= span):
                raise self.error(f"increment must be a whole number from 1 to {span}, got {step_text!r}")
            step = int(step_text)
            if not base:
                raise self.error(f"missing start before '/' in {item!r}")
        if base == "*":
            return range(self.low, self.high + 1, step)
        if "*" in base:
            raise self.error(f"'*' must stand alone or before '/', got {item!r}")
        first, dash, last = base.partition("-")
        if dash and not (first and last):
            raise self.error(f"incomplete range {base!r}")
        start = self.value(first)
        end = self.value(last) if dash else self.high if slash else start
        if start <= end:
            return range(start, end + 1, step)
        if not self.wraps:
            raise self.error(f"range {base!r} runs backwards (years do not wrap around)")
        # As in Quartz, a backward range runs past the field's last value back to its first
        # (hours 22-2 are 22, 23, 0, 1, 2) and an increment counts along that run (22-2/2 is
        # 22, 0, 2). Day-of-month wraps after 31 whatever the month's length.
        span = self.high - self.low + 1
        return [self.low + (value - self.low) % span for value in range(start, end + span + 1, step)]


MINUTES = _Field("minutes", 0, 59)
HOURS = _Field("hours", 0, 23)
DAY_OF_MONTH = _Field("day-of-month", 1, 31, specials="?LW", special_forms="?, L, LW or 15W")
MONTH = _Field("month", 1, 12, MONTH_NAMES)
DAY_OF_WEEK = _Field(
    "day-of-week", 1, 7, WEEKDAY_NAMES, steps=False, specials="?L#", special_forms="?, L, 6L, FRIL or 3#2"
)
YEAR = _Field("year", 1970, 2199, wraps=False)


def _cron_weekday(first_weekday: int, day: int) -> int:
    """EventBridge's day-of-week (1 = Sunday) of ``day`` in a month starting on ``first_weekday``.

    ``first_weekday`` counts as :func:`calendar.monthrange` does, 0 = Monday.
    """
    return (first_weekday + day) % 7 + 1


@dataclass(frozen=True)
class _DaysOfMonth:
    days: tuple[int, ...]

    def days_in(self, year: int, month: int) -> list[int]:
        # Like Quartz, a day the month does not have (31 in April) is skipped, not moved.
        length = calendar.monthrange(year, month)[1]
        return [day for day in self.days if day <= length]


@dataclass(frozen=True)
class _LastDayOfMonth:
    def days_in(self, year: int, month: int) -> list[int]:
        return [calendar.monthrange(year, month)[1]]


@dataclass(frozen=True)
class _NearestWeekday:
    """``15W``, or ``LW`` when ``day`` is None: the Monday-to-Friday day nearest to it in its month."""

    day: int | None

    def days_in(self, year: int, month: int) -> list[int]:
        first_weekday, length = calendar.monthrange(year, month)
        day = length if self.day is None else self.day
        if day > length:
            return []
        weekday = _cron_weekday(first_weekday, day)
        # Never cross into another month: a Saturday 1st moves to Monday the 3rd, a Sunday last
        # day to the Friday before.
        if weekday == 7:
            return [day - 1] if day > 1 else [day + 2]
        if weekday == 1:
            return [day + 1] if day < length else [day - 2]
        return [day]


@dataclass(frozen=True)
class _Weekdays:
    weekdays: frozenset[int]

    def days_in(self, year: int, month: int) -> list[int]:
        first_weekday, length = calendar.monthrange(year, month)
        return [day for day in range(1, length + 1) if _cron_weekday(first_weekday, day) in self.weekdays]


@dataclass(frozen=True)
class _LastWeekdayOfMonth:
    """``6L``: the month's last Friday."""

    weekday: int

    def days_in(self, year: int, month: int) -> list[int]:
        first_weekday, length = calendar.monthrange(year, month)
        return [length - (_cron_weekday(first_weekday, length) - self.weekday) % 7]


@dataclass(frozen=True)
class _NthWeekday:
    """``3#2``: the month's second Tuesday; a fifth one does not exist in every month."""

    weekday: int
    nth: int

    def days_in(self, year: int, month: int) -> list[int]:
        first_weekday, length = calendar.monthrange(year, month)
        day = 1 + (self.weekday - _cron_weekday(first_weekday, 1)) % 7 + 7 * (self.nth - 1)
        return [day] if day <= length else []


_DayRule: TypeAlias = _DaysOfMonth | _LastDayOfMonth | _NearestWeekday | _Weekdays | _LastWeekdayOfMonth | _NthWeekday


@dataclass(frozen=True)
class _Cron:
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: _DayRule
    months: tuple[int, ...]
    years: tuple[int, ...]

    def next_after(self, after: datetime, zone: tzinfo) -> datetime:
        # Past the year field's range nothing fires, and converting a datetime near
        # datetime.max to another zone could overflow.
        if after.astimezone(UTC).year > YEAR.high + 1:
            raise ScheduleError(f"never fires after {after.isoformat()}")
        start = after.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
        # Wall-clock order and instant order agree (skipped times map to the jump, repeated
        # ones to their first occurrence), so the first later instant is the answer. Inside a
        # repeated hour the wall times just after ``start`` map to instants before ``after``.
        for wall in self._wall_times_after(start):
            instant = _instant(wall, zone)
            if instant > after:
                return instant
        raise ScheduleError(f"never fires after {after.isoformat()}")

    def _wall_times_after(self, start: datetime) -> Iterator[datetime]:
        """Matching wall-clock minutes strictly after ``start`` (naive), earliest first.

        Whole years, months, days and hours that cannot match are skipped without visiting
        their minutes, so finding a time years ahead costs a few hundred steps, not millions.
        """
        start_hour = (start.year, start.month, start.day, start.hour)
        for day in self._days_from(start.date()):
            for hour in self.hours:
                if (*day, hour) < start_hour:
                    continue
                for minute in self.minutes:
                    wall = datetime(*day, hour, minute)
                    if wall > start:
                        yield wall

    def _days_from(self, first: date) -> Iterator[tuple[int, int, int]]:
        """Matching (year, month, day) on or after ``first``, earliest first."""
        for year in self.years:
            if year < first.year:
                continue
            for month in self.months:
                if (year, month) < (first.year, first.month):
                    continue
                for day in self.days.days_in(year, month):
                    if (year, month, day) >= (first.year, first.month, first.day):
                        yield year, month, day


def _instant(wall: datetime, zone: tzinfo) -> datetime:
    """The UTC instant at which the wall-clock time ``wall`` in ``zone`` fires."""
    # fold=0 picks the first of two occurrences of a repeated time.
    instant = wall.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    # ``wall`` was skipped by a jump forward. Read with the offset from after the jump (fold=1)
    # it lies before the jump; read with the one from before (fold=0, above) it lies at or
    # after it. Transitions fall on whole seconds: bisect between the two for the jump itself.
    after_offset = instant.astimezone(zone).utcoffset()
    low = int(wall.replace(tzinfo=zone, fold=1).timestamp())
    high = int(instant.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == after_offset:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _day_of_month(text: str) -> _DayRule | None:
    if text == "?":
        return None
    if text == "L":
        return _LastDayOfMonth()
    if text == "LW":
        return _NearestWeekday(None)
    if text.endswith("W") and text[:-1].isascii() and text[:-1].isdigit():
        return _NearestWeekday(DAY_OF_MONTH.value(text[:-1]))
    return _DaysOfMonth(DAY_OF_MONTH.values(text))


def _day_of_week(text: str) -> _DayRule | None:
    if text == "?":
        return None
    if text == "L":
        # Alone, L is the last day of the week: Saturday.
        return _Weekdays(frozenset({7}))
    if match := LAST_WEEKDAY.fullmatch(text):
        return _LastWeekdayOfMonth(DAY_OF_WEEK.value(match[1]))
    if match := NTH_WEEKDAY.fullmatch(text):
        nth = int(match[2])
        if not 1 <= nth <= 5:
            raise DAY_OF_WEEK.error(f"occurrence after '#' must be 1-5, got {match[2]!r}")
        return _NthWeekday(DAY_OF_WEEK.value(match[1]), nth)
    return _Weekdays(frozenset(DAY_OF_WEEK.values(text)))


def _parse_cron(body: str) -> _Cron:
    if re.search(r"[^\S ]", body):
        raise ScheduleError("cron fields must be separated by single spaces, not tabs or line breaks")
    fields = body.split(" ") if body else []
    if "" in fields:
        raise ScheduleError("cron fields must be separated by single spaces")
    if len(fields) != 6:
        raise ScheduleError(f"cron needs 6 fields ({CRON_FIELDS}), got {len(fields)}")
    minutes, hours, day_of_month, month, day_of_week, year = (text.upper() for text in fields)
    parsed_minutes = MINUTES.values(minutes)
    parsed_hours = HOURS.values(hours)
    by_month_day = _day_of_month(day_of_month)
    months = MONTH.values(month)
    by_weekday = _day_of_week(day_of_week)
    years = YEAR.values(year)
    if by_month_day is not None and by_weekday is not None:
        raise ScheduleError("one of day-of-month and day-of-week must be '?'")
    days = by_month_day or by_weekday
    if days is None:
        raise ScheduleError("day-of-month and day-of-week can't both be '?'; give one of them a value")
    return _Cron(parsed_minutes, parsed_hours, days, months, years)
