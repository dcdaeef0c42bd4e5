"""EventBridge schedule expressions: what EventBridge accepts, and when each one fires."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gluetrigger.core.schedule import Schedule, ScheduleError, parse_schedule, validate_timezone

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def at(text: str) -> datetime:
    """An ISO 8601 time; a bare one is UTC."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# Validation


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 hour)",
        "rate(12 hours)",
        "rate(1 day)",
        "rate(7 days)",
        "rate(1440 minutes)",
        "rate(05 minutes)",
    ],
)
def test_valid_rate(expression: str) -> None:
    assert parse_schedule(expression).expression == expression


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("rate(0 minutes)", "rate value must be a whole number of at least 1, got '0'"),
        ("rate(-5 minutes)", "at least 1, got '-5'"),
        ("rate(+5 minutes)", "at least 1, got '+5'"),
        ("rate(1.5 hours)", "at least 1, got '1.5'"),
        ("rate(five minutes)", "at least 1, got 'five'"),
        ("rate(\uff15 minutes)", "at least 1"),
        ("rate(1 minutes)", "rate of 1 takes the singular unit 'minute', got 'minutes'"),
        ("rate(1 hours)", "singular unit 'hour'"),
        ("rate(1 days)", "singular unit 'day'"),
        ("rate(5 minute)", "rate of 5 takes the plural unit 'minutes', got 'minute'"),
        ("rate(2 hour)", "plural unit 'hours'"),
        ("rate(2 day)", "plural unit 'days'"),
        ("rate(5 Minutes)", "rate unit must be minute(s), hour(s) or day(s) in lower case, got 'Minutes'"),
        ("rate(5 MINUTES)", "rate unit must be"),
        ("rate(5 weeks)", "got 'weeks'"),
        ("rate(30 seconds)", "got 'seconds'"),
        ("rate(5 mins)", "got 'mins'"),
        ("rate(5 minutess)", "got 'minutess'"),
        ("rate( 5 minutes)", "rate needs a value and a unit separated by one space"),
        ("rate(5  minutes)", "separated by one space"),
        ("rate(5 minutes )", "separated by one space"),
        ("rate(5minutes)", "separated by one space"),
        ("rate(5)", "separated by one space"),
        ("rate()", "separated by one space"),
        ("rate(5\tminutes)", "separated by one space"),
        ("rate(5 minutes", "rate(...) is missing its closing ')'"),
        (" rate(5 minutes)", "leading or trailing whitespace"),
        ("rate(5 minutes) ", "leading or trailing whitespace"),
        ("rate(5 minutes)\n", "leading or trailing whitespace"),
        ("RATE(5 minutes)", "write 'rate' in lower case"),
        ("Rate(5 minutes)", "write 'rate' in lower case"),
        ("rate 5 minutes", "schedule must be rate(value unit) or cron(fields)"),
        ("every 5 minutes", "schedule must be rate(value unit) or cron(fields)"),
        ("", "schedule must be rate(value unit) or cron(fields)"),
        ("at(2030-01-01T00:00:00)", "one-time at(...) schedules are not supported"),
        ("rate(" + "9" * 260 + " days)", "EventBridge allows at most 256"),
    ],
)
def test_invalid_rate(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=re.escape(message)) as caught:
        parse_schedule(expression)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "expression",
    [
        # The examples of the EventBridge cron reference.
        "cron(0 10 * * ? *)",
        "cron(15 12 * * ? *)",
        "cron(0 18 ? * MON-FRI *)",
        "cron(0 8 1 * ? *)",
        "cron(0/15 * * * ? *)",
        "cron(0/10 * ? * MON-FRI *)",
        "cron(0/5 8-17 ? * MON-FRI *)",
        "cron(0 9 ? * 2#1 *)",
        "cron(0 0 L * ? *)",
        "cron(0 0 ? * 6L *)",
        "cron(0 0 15W * ? *)",
        # Every other form the reference describes.
        "cron(0 0 LW * ? *)",
        "cron(0 0 ? * L *)",
        "cron(0 0 ? * FRIL *)",
        "cron(0 0 ? * MON#5 *)",
        "cron(5-30/5 * * * ? *)",
        "cron(*/5 */2 */3 */4 ? */10)",
        "cron(0,15,30,45 0-6,18-23 1,15 JAN-MAR,DEC ? 2025-2030)",
        "cron(0 0 ? * 1,7 *)",
        "cron(0 0 ? * SUN,SAT *)",
        "cron(59 23 31 12 ? 2199)",
        "cron(0 0 1 1 ? 1970)",
        "cron(0 0 ? * SUN-SAT *)",
        "cron(00 08 01 01 ? *)",
        # A backward range wraps around, as in Quartz; years do not.
        "cron(50-10 20-2 28-3 NOV-FEB ? *)",
        "cron(0 0 ? * FRI-MON *)",
        "cron(0 22-2/2 ? * SAT-SUN *)",
        # Names and the L and W letters are case-insensitive.
        "cron(0 12 ? jan,Jul mon *)",
        "cron(0 0 15w * ? *)",
        "cron(0 0 lw * ? *)",
        "cron(0 0 ? * fril *)",
    ],
)
def test_valid_cron(expression: str) -> None:
    assert parse_schedule(expression).expression == expression


FIELDS_MESSAGE = "cron needs 6 fields (minutes hours day-of-month month day-of-week year), got"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("cron(0 10 * * ?)", f"{FIELDS_MESSAGE} 5"),
        ("cron(0 10 * * ? * *)", f"{FIELDS_MESSAGE} 7"),
        ("cron()", f"{FIELDS_MESSAGE} 0"),
        ("cron(0 10 ? * ? *)", "day-of-month and day-of-week can't both be '?'"),
        ("cron(0 10 * * * *)", "one of day-of-month and day-of-week must be '?'"),
        ("cron(0 10 1 * MON *)", "one of day-of-month and day-of-week must be '?'"),
        ("cron(0 0 L * FRIL *)", "one of day-of-month and day-of-week must be '?'"),
        ("cron(60 10 * * ? *)", "minutes: 60 is out of range 0-59"),
        ("cron(0 24 * * ? *)", "hours: 24 is out of range 0-23"),
        ("cron(0 0 0 * ? *)", "day-of-month: 0 is out of range 1-31"),
        ("cron(0 0 32 * ? *)", "day-of-month: 32 is out of range 1-31"),
        ("cron(0 0 1 13 ? *)", "month: 13 is out of range 1-12"),
        ("cron(0 0 1 0 ? *)", "month: 0 is out of range 1-12"),
        ("cron(0 0 ? * 0 *)", "day-of-week: 0 is out of range 1-7"),
        ("cron(0 0 ? * 8 *)", "day-of-week: 8 is out of range 1-7"),
        ("cron(0 0 * * ? 1969)", "year: 1969 is out of range 1970-2199"),
        ("cron(0 0 * * ? 2200)", "year: 2200 is out of range 1970-2199"),
        ("cron(0 0 * * ? 2024-2300)", "year: 2300 is out of range 1970-2199"),
        ("cron(0 L * * ? *)", "hours: 'L' is only allowed in day-of-month and day-of-week"),
        ("cron(L 0 * * ? *)", "minutes: 'L' is only allowed in day-of-month and day-of-week"),
        ("cron(0 0 1 L ? *)", "month: 'L' is only allowed in day-of-month and day-of-week"),
        ("cron(0 0 * * ? L)", "year: 'L' is only allowed in day-of-month and day-of-week"),
        ("cron(0 0 3#2 * ? *)", "day-of-month: '#' is only allowed in day-of-week"),
        ("cron(0 0#1 * * ? *)", "hours: '#' is only allowed in day-of-week"),
        ("cron(0 0 ? * 3W *)", "day-of-week: 'W' is only allowed in day-of-month"),
        ("cron(0 0 ? * LW *)", "day-of-week: 'W' is only allowed in day-of-month"),
        ("cron(0 5W * * ? *)", "hours: 'W' is only allowed in day-of-month"),
        ("cron(0 ? * * ? *)", "hours: '?' is only allowed in day-of-month and day-of-week"),
        ("cron(0 0 * ? ? *)", "month: '?' is only allowed in day-of-month and day-of-week"),
        ("cron(0 0 ?,1 * ? *)", "day-of-month: '?' must be the whole field"),
        ("cron(0 0 ? * 3#2,6#3 *)", "day-of-week: '#' must be the whole field, as in ?, L, 6L, FRIL or 3#2"),
        ("cron(0 0 L,15 * ? *)", "day-of-month: 'L' must be the whole field, as in ?, L, LW or 15W"),
        ("cron(0 0 L-3 * ? *)", "day-of-month: 'L' must be the whole field"),
        ("cron(0 0 15W,20 * ? *)", "day-of-month: 'W' must be the whole field"),
        ("cron(0 0 ? * 6L,2 *)", "day-of-week: 'L' must be the whole field"),
        ("cron(0 0 ? * 3#0 *)", "day-of-week: occurrence after '#' must be 1-5, got '0'"),
        ("cron(0 0 ? * 3#6 *)", "day-of-week: occurrence after '#' must be 1-5, got '6'"),
        ("cron(0 0 ? * 9#1 *)", "day-of-week: 9 is out of range 1-7"),
        ("cron(0 0 ? * 8L *)", "day-of-week: 8 is out of range 1-7"),
        ("cron(0 0 32W * ? *)", "day-of-month: 32 is out of range 1-31"),
        ("cron(0 0 1 FOO ? *)", "month: unknown value 'FOO' (expected 1-12 or JAN-DEC)"),
        ("cron(0 0 1 JANUARY ? *)", "month: unknown value 'JANUARY'"),
        ("cron(0 0 1 MON ? *)", "month: unknown value 'MON'"),
        ("cron(0 0 ? * MONDAY *)", "day-of-week: unknown value 'MONDAY' (expected 1-7 or SUN-SAT)"),
        ("cron(0 0 ? * JUL *)", "day-of-week: unknown value 'JUL'"),
        ("cron(x 0 * * ? *)", "minutes: unknown value 'X' (expected 0-59)"),
        ("cron(+5 0 * * ? *)", "minutes: unknown value '+5'"),
        ("cron(0,,5 0 * * ? *)", "minutes: empty item in list '0,,5'"),
        ("cron(0, 0 * * ? *)", "minutes: empty item in list '0,'"),
        ("cron(0 0 ? * ,MON *)", "day-of-week: empty item in list ',MON'"),
        ("cron(*/0 * * * ? *)", "minutes: increment must be a whole number from 1 to 60, got '0'"),
        ("cron(0/61 * * * ? *)", "minutes: increment must be a whole number from 1 to 60, got '61'"),
        ("cron(0 0/x * * ? *)", "hours: increment must be a whole number from 1 to 24, got 'X'"),
        ("cron(0/ * * * ? *)", "minutes: increment must be a whole number from 1 to 60, got ''"),
        ("cron(/5 * * * ? *)", "minutes: missing start before '/' in '/5'"),
        ("cron(0 0 ? * 1/2 *)", "day-of-week: '/' is not allowed in day-of-week"),
        ("cron(0 0 1 1 ? 2030-2025)", "year: range '2030-2025' runs backwards (years do not wrap around)"),
        ("cron(0 0 1 1 ? 2030-2025/2)", "year: range '2030-2025' runs backwards"),
        ("cron(50-60 * * * ? *)", "minutes: 60 is out of range 0-59"),
        ("cron(0 20-24 * * ? *)", "hours: 24 is out of range 0-23"),
        ("cron(0 0 ? * FRI-8 *)", "day-of-week: 8 is out of range 1-7"),
        ("cron(0 0 ? * FRI-MON/2 *)", "day-of-week: '/' is not allowed in day-of-week"),
        ("cron(0 0 1 NOV-FEB/0 ? *)", "month: increment must be a whole number from 1 to 12, got '0'"),
        ("cron(0 0 ? * MON- *)", "day-of-week: incomplete range 'MON-'"),
        ("cron(0 -5 * * ? *)", "hours: incomplete range '-5'"),
        ("cron(0 0 *-5 * ? *)", "day-of-month: '*' must stand alone or before '/', got '*-5'"),
        ("cron(0\t10 * * ? *)", "cron fields must be separated by single spaces, not tabs or line breaks"),
        ("cron(0 10 * * ?\n*)", "not tabs or line breaks"),
        ("cron(0  10 * * ? *)", "cron fields must be separated by single spaces"),
        ("cron( 0 10 * * ? *)", "cron fields must be separated by single spaces"),
        ("cron(0 10 * * ? * )", "cron fields must be separated by single spaces"),
        ("cron(0 10 * * ? *", "cron(...) is missing its closing ')'"),
        ("CRON(0 10 * * ? *)", "write 'cron' in lower case"),
        ("cron 0 10 * * ? *", "schedule must be rate(value unit) or cron(fields)"),
        ("0 10 * * ? *", "schedule must be rate(value unit) or cron(fields)"),
        ("cron(" + ",".join(["0"] * 130) + " 10 * * ? *)", "EventBridge allows at most 256"),
    ],
)
def test_invalid_cron(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=re.escape(message)) as caught:
        parse_schedule(expression)
    assert "\n" not in str(caught.value)


def test_constructing_a_schedule_validates_it() -> None:
    with pytest.raises(ScheduleError):
        Schedule("rate(0 minutes)")


def test_schedules_compare_by_expression() -> None:
    schedule = parse_schedule("cron(0 10 * * ? *)")
    assert schedule == Schedule("cron(0 10 * * ? *)")
    assert hash(schedule) == hash(Schedule("cron(0 10 * * ? *)"))
    assert repr(schedule) == "Schedule(expression='cron(0 10 * * ? *)')"


def test_schedule_error_is_a_value_error() -> None:
    assert issubclass(ScheduleError, ValueError)


@pytest.mark.parametrize("name", ["Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC", "Etc/GMT+5"])
def test_valid_timezone(name: str) -> None:
    validate_timezone(name)


@pytest.mark.parametrize("name", ["Europe/Pariss", "europe/paris", "", "CEST", "+02:00", "localtime", "../etc/passwd"])
def test_unknown_timezone(name: str) -> None:
    with pytest.raises(ScheduleError, match=re.escape(f"unknown timezone {name!r}")):
        validate_timezone(name)


# Fire times


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("cron(0 10 * * ? *)", "2024-05-01T09:59:59", "2024-05-01T10:00"),
        ("cron(0 10 * * ? *)", "2024-05-01T10:00", "2024-05-02T10:00"),
        ("cron(0 10 * * ? *)", "2024-05-01T10:00:00.000001", "2024-05-02T10:00"),
        ("cron(0 10 * * ? *)", "2024-05-01T11:30+02:00", "2024-05-01T10:00"),
        ("cron(15 12 * * ? *)", "2024-05-01T13:00", "2024-05-02T12:15"),
        ("cron(0 18 ? * MON-FRI *)", "2024-05-03T18:00", "2024-05-06T18:00"),
        ("cron(0 8 1 * ? *)", "2024-01-31T12:00", "2024-02-01T08:00"),
        ("cron(0 8 1 * ? *)", "2024-12-01T08:00", "2025-01-01T08:00"),
        ("cron(0/15 * * * ? *)", "2024-05-01T10:07", "2024-05-01T10:15"),
        ("cron(0/15 * * * ? *)", "2024-05-01T23:45", "2024-05-02T00:00"),
        ("cron(0/10 * ? * MON-FRI *)", "2024-05-04T12:00", "2024-05-06T00:00"),
        ("cron(0/5 8-17 ? * MON-FRI *)", "2024-05-06T17:56", "2024-05-07T08:00"),
        ("cron(5-30/5 * * * ? *)", "2024-05-01T10:31", "2024-05-01T11:05"),
        ("cron(0 0 1 JAN,JUL ? *)", "2024-02-01T00:00", "2024-07-01T00:00"),
        # A backward range wraps: across midnight, the week, the year and the hour.
        ("cron(0 20-2 * * ? *)", "2024-05-01T19:00", "2024-05-01T20:00"),
        ("cron(0 20-2 * * ? *)", "2024-05-01T23:00", "2024-05-02T00:00"),
        ("cron(0 20-2 * * ? *)", "2024-12-31T23:30", "2025-01-01T00:00"),
        ("cron(0 20-2 * * ? *)", "2024-05-02T02:00", "2024-05-02T20:00"),
        ("cron(0 22-2/2 * * ? *)", "2024-05-01T22:00", "2024-05-02T00:00"),
        ("cron(0 22-2/2 * * ? *)", "2024-05-02T00:00", "2024-05-02T02:00"),
        ("cron(0 9 ? * FRI-MON *)", "2024-05-06T09:00", "2024-05-10T09:00"),  # Monday -> Friday
        ("cron(0 9 ? * FRI-MON *)", "2024-05-04T09:00", "2024-05-05T09:00"),  # Saturday -> Sunday
        ("cron(0 9 ? * SAT-SUN *)", "2024-05-06T00:00", "2024-05-11T09:00"),
        ("cron(0 0 1 NOV-FEB ? *)", "2024-02-01T00:00", "2024-11-01T00:00"),
        ("cron(0 0 1 NOV-FEB ? *)", "2024-12-01T00:00", "2025-01-01T00:00"),
        ("cron(50-10 * * * ? *)", "2024-05-01T23:59", "2024-05-02T00:00"),
        ("cron(50-10 * * * ? *)", "2024-05-01T10:10", "2024-05-01T10:50"),
        ("cron(0 0 30-2 * ? *)", "2024-02-03T00:00", "2024-03-01T00:00"),  # February has no 30th
        # L: the month's last day, leap years included.
        ("cron(0 0 L * ? *)", "2024-02-01T00:00", "2024-02-29T00:00"),
        ("cron(0 0 L * ? *)", "2023-02-01T00:00", "2023-02-28T00:00"),
        ("cron(0 0 L * ? *)", "2024-04-30T00:00", "2024-05-31T00:00"),
        # W: the nearest weekday, never in another month.
        ("cron(0 0 15W * ? *)", "2024-06-01T00:00", "2024-06-14T00:00"),  # Saturday 15th
        ("cron(0 0 15W * ? *)", "2024-09-01T00:00", "2024-09-16T00:00"),  # Sunday 15th
        ("cron(0 0 15W * ? *)", "2024-05-01T00:00", "2024-05-15T00:00"),  # Wednesday
        ("cron(0 0 1W * ? *)", "2024-05-02T00:00", "2024-06-03T00:00"),  # Saturday 1st
        ("cron(0 0 31W * ? *)", "2024-03-01T00:00", "2024-03-29T00:00"),  # Sunday 31st
        ("cron(0 0 31W * ? *)", "2024-04-01T00:00", "2024-05-31T00:00"),  # April has no 31st
        ("cron(0 0 LW * ? *)", "2024-06-01T00:00", "2024-06-28T00:00"),  # Sunday 30th
        ("cron(0 0 LW * ? *)", "2024-08-01T00:00", "2024-08-30T00:00"),  # Saturday 31st
        ("cron(0 0 LW * ? *)", "2024-07-01T00:00", "2024-07-31T00:00"),  # Wednesday
        # Day-of-week: L alone is Saturday, nL the month's last such day, n#k its k-th.
        ("cron(0 0 ? * L *)", "2024-05-01T00:00", "2024-05-04T00:00"),
        ("cron(0 0 ? * 6L *)", "2024-05-01T00:00", "2024-05-31T00:00"),
        ("cron(0 0 ? * FRIL *)", "2024-06-01T00:00", "2024-06-28T00:00"),
        ("cron(0 0 ? * 1L *)", "2024-06-01T00:00", "2024-06-30T00:00"),
        ("cron(0 9 ? * 2#1 *)", "2024-05-06T09:00", "2024-06-03T09:00"),
        ("cron(0 9 ? * MON#1 *)", "2024-04-30T00:00", "2024-05-06T09:00"),
        ("cron(0 0 ? * 6#5 *)", "2024-01-01T00:00", "2024-03-29T00:00"),  # no fifth Friday in Jan, Feb
        ("cron(0 0 ? * SUN,SAT *)", "2024-05-06T00:00", "2024-05-11T00:00"),
        # Month lengths, leap days (2100 is not a leap year) and the year field.
        ("cron(0 0 31 * ? *)", "2024-04-01T00:00", "2024-05-31T00:00"),
        ("cron(0 0 29 2 ? *)", "2024-03-01T00:00", "2028-02-29T00:00"),
        ("cron(0 0 29 2 ? *)", "2096-03-01T00:00", "2104-02-29T00:00"),
        ("cron(0 0 1 1 ? 2025)", "2024-06-01T00:00", "2025-01-01T00:00"),
        ("cron(0 0 1 1 ? 2024/4)", "2024-06-01T00:00", "2028-01-01T00:00"),
        ("cron(0 0 1 1 ? *)", "1969-06-01T00:00", "1970-01-01T00:00"),
        ("cron(59 23 31 12 ? 2199)", "2199-12-31T23:58", "2199-12-31T23:59"),
        # Rates count whole periods from the Unix epoch.
        ("rate(5 minutes)", "2024-05-01T10:02:30", "2024-05-01T10:05"),
        ("rate(5 minutes)", "2024-05-01T10:05", "2024-05-01T10:10"),
        ("rate(1 minute)", "2024-05-01T10:05:00.5", "2024-05-01T10:06"),
        ("rate(1 hour)", "2024-05-01T10:05", "2024-05-01T11:00"),
        ("rate(1 day)", "2024-05-01T10:00", "2024-05-02T00:00"),
        ("rate(1 day)", "2024-05-01T10:00+05:00", "2024-05-02T00:00"),
        ("rate(7 days)", "1970-01-01T00:00", "1970-01-08T00:00"),
        ("rate(1 hour)", "1969-12-31T23:30", "1970-01-01T00:00"),
        ("rate(90 minutes)", "2024-05-01T00:00", "2024-05-01T01:30"),
        ("rate(2000000 days)", "2024-05-01T00:00", "7445-10-25T00:00"),
    ],
)
def test_next_after(expression: str, after: str, expected: str) -> None:
    fire = parse_schedule(expression).next_after(at(after))
    assert fire == at(expected)
    assert fire.tzinfo is UTC


@pytest.mark.parametrize(
    ("expression", "timezone", "after", "expected"),
    [
        ("cron(0 10 * * ? *)", "Europe/Paris", "2024-01-15T00:00", "2024-01-15T09:00"),
        ("cron(0 10 * * ? *)", "Europe/Paris", "2024-07-15T00:00", "2024-07-15T08:00"),
        ("cron(0 10 * * ? *)", "UTC", "2024-07-15T00:00", "2024-07-15T10:00"),
        ("cron(0 0 L * ? *)", "Asia/Tokyo", "2024-02-01T00:00", "2024-02-28T15:00"),
        # Wrapped ranges are read on the local clock: 22:00-01:00 in Tokyo is 13:00-16:00 UTC.
        ("cron(0 22-1 * * ? *)", "Asia/Tokyo", "2024-05-01T14:30", "2024-05-01T15:00"),
        ("cron(0 22-1 * * ? *)", "Asia/Tokyo", "2024-05-01T16:00", "2024-05-02T13:00"),
        # Saturday to Monday in New York: Monday 23:00 local is Tuesday 03:00 UTC in summer; the
        # next is Saturday's.
        ("cron(0 23 ? * SAT-MON *)", "America/New_York", "2024-05-07T00:00", "2024-05-07T03:00"),
        ("cron(0 23 ? * SAT-MON *)", "America/New_York", "2024-05-07T03:00", "2024-05-12T03:00"),
        # The days are local days: Saturday 00:30 in Paris is Friday 22:30 UTC.
        ("cron(30 23-1 ? * SAT-SUN *)", "Europe/Paris", "2024-05-05T23:00", "2024-05-10T22:30"),
        # Spring forward (02:00 -> 03:00 local): a skipped time fires at the jump, once.
        ("cron(30 2 * * ? *)", "Europe/Paris", "2024-03-30T23:00", "2024-03-31T01:00"),
        ("cron(30 2 * * ? *)", "Europe/Paris", "2024-03-31T01:00", "2024-04-01T00:30"),
        ("cron(0/15 * * * ? *)", "Europe/Paris", "2024-03-31T00:50", "2024-03-31T01:00"),
        ("cron(0/15 * * * ? *)", "Europe/Paris", "2024-03-31T01:00", "2024-03-31T01:15"),
        ("cron(30 2 * * ? *)", "America/New_York", "2024-03-10T05:00", "2024-03-10T07:00"),
        ("cron(15 2 * * ? *)", "Australia/Lord_Howe", "2024-10-05T14:00", "2024-10-05T15:30"),  # 30-minute jump
        # Fall back (03:00 -> 02:00 local): a repeated time fires at its first occurrence only.
        ("cron(30 2 * * ? *)", "Europe/Paris", "2024-10-26T23:00", "2024-10-27T00:30"),
        ("cron(30 2 * * ? *)", "Europe/Paris", "2024-10-27T00:30", "2024-10-28T01:30"),
        ("cron(* * * * ? *)", "Europe/Paris", "2024-10-27T00:58", "2024-10-27T00:59"),
        ("cron(* * * * ? *)", "Europe/Paris", "2024-10-27T01:30", "2024-10-27T02:00"),
        # A rate is a duration: the timezone does not move it.
        ("rate(1 day)", "Europe/Paris", "2024-05-01T10:00", "2024-05-02T00:00"),
    ],
)
def test_next_after_in_timezone(expression: str, timezone: str, after: str, expected: str) -> None:
    fire = parse_schedule(expression).next_after(at(after), timezone)
    assert fire == at(expected)
    assert fire.tzinfo is UTC


@pytest.mark.parametrize(
    ("expression", "after"),
    [
        ("cron(0 0 1 1 ? 2025)", "2025-01-01T00:00"),
        ("cron(59 23 31 12 ? 2199)", "2199-12-31T23:59"),
        ("cron(0 0 * * ? *)", "2300-01-01T00:00"),
        ("cron(0 0 30 2 ? *)", "2024-01-01T00:00"),
        ("cron(0 0 ? * 6#5 2026)", "2026-10-30T00:00"),  # the last fifth Friday of 2026
        ("rate(3000000 days)", "2024-05-01T00:00"),
        ("rate(1 minute)", "9999-12-31T23:59"),
    ],
)
def test_never_fires_again(expression: str, after: str) -> None:
    with pytest.raises(ScheduleError, match=re.escape(f"never fires after {at(after).isoformat()}")):
        parse_schedule(expression).next_after(at(after))


def test_next_after_needs_an_aware_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_schedule("rate(5 minutes)").next_after(datetime(2024, 5, 1))


def test_next_after_rejects_an_unknown_timezone() -> None:
    with pytest.raises(ScheduleError, match="unknown timezone 'Mars/Olympus'"):
        parse_schedule("cron(0 10 * * ? *)").next_after(at("2024-05-01T00:00"), "Mars/Olympus")


# Properties

OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])
# The cron year field runs from 1970 to 2199; rates have no such bound, so test them before 1970 too.
CRON_MOMENTS = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2190, 1, 1), timezones=OFFSETS)
RATE_MOMENTS = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2500, 1, 1), timezones=OFFSETS)


@given(
    value=st.integers(min_value=1, max_value=5000),
    unit=st.sampled_from([("minute", 60), ("hour", 3600), ("day", 86400)]),
    after=RATE_MOMENTS,
)
def test_rate_fires_within_one_period(value: int, unit: tuple[str, int], after: datetime) -> None:
    name, seconds = unit
    period = timedelta(seconds=value * seconds)
    fire = parse_schedule(f"rate({value} {name}{'' if value == 1 else 's'})").next_after(after)
    assert after < fire <= after + period
    assert (fire - EPOCH) % period == timedelta(0)


@given(minute=st.integers(0, 59), hour=st.integers(0, 23), after=CRON_MOMENTS)
def test_daily_cron_fires_at_its_minute_within_a_day(minute: int, hour: int, after: datetime) -> None:
    fire = parse_schedule(f"cron({minute} {hour} * * ? *)").next_after(after)
    assert (fire.hour, fire.minute, fire.second, fire.microsecond) == (hour, minute, 0, 0)
    assert after < fire <= after + timedelta(days=1)


@given(
    expression=st.sampled_from(
        [
            "cron(0/15 * * * ? *)",
            "cron(30 2 * * ? *)",
            "cron(0/5 8-17 ? * MON-FRI *)",
            "cron(0 9 ? * 2#1 *)",
            "cron(0 0 LW * ? *)",
            "cron(0 0 15W * ? *)",
            "cron(0 0 ? * 6L *)",
            "cron(0 0 29 2 ? *)",
            "rate(90 minutes)",
        ]
    ),
    timezone_name=st.sampled_from([None, "Europe/Paris", "America/New_York", "Australia/Lord_Howe"]),
    after=st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(UTC),
    ),
    data=st.data(),
)
def test_no_fire_time_is_skipped(
    expression: str, timezone_name: str | None, after: datetime, data: st.DataObject
) -> None:
    # Any moment from ``after`` up to just before its next fire time has that same next fire time.
    schedule = parse_schedule(expression)
    fire = schedule.next_after(after, timezone_name)
    assert fire > after
    microseconds = (fire - after) // timedelta(microseconds=1)
    between = after + timedelta(microseconds=data.draw(st.integers(0, microseconds - 1)))
    assert schedule.next_after(between, timezone_name) == fire
    assert schedule.next_after(fire - timedelta(microseconds=1), timezone_name) == fire


@given(
    field=st.sampled_from([(0, 59, "{} 0 * * ? *"), (0, 23, "0 {} * * ? *"), (1, 12, "0 0 1 {} ? *")]),
    after=CRON_MOMENTS,
    data=st.data(),
)
def test_a_backward_range_fires_as_its_two_halves(
    field: tuple[int, int, str], after: datetime, data: st.DataObject
) -> None:
    # first-last with first > last runs to the field's end and on from its start.
    low, high, template = field
    first = data.draw(st.integers(low + 1, high))
    last = data.draw(st.integers(low, first - 1))
    wrapped = parse_schedule(f"cron({template.format(f'{first}-{last}')})")
    halves = parse_schedule(f"cron({template.format(f'{first}-{high},{low}-{last}')})")
    assert wrapped.next_after(after) == halves.next_after(after)
