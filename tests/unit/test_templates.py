"""The template language: parsing, rendering, and that event data is never expanded again."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gluetrigger.core.templates import Placeholder, TemplateError, TimeOffset, local_time, parse_template


def render_with(text: str, values: dict[str, str]) -> str:
    return parse_template(text).render(lambda p: values[p.arg])


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("plain", ("plain",)),
        ("", ()),
        ("${bucket}", (Placeholder("var", "bucket"),)),
        ("s3://${bucket}/${key}", ("s3://", Placeholder("var", "bucket"), "/", Placeholder("var", "key"))),
        ("$${bucket}", ("${bucket}",)),
        ("cost $$5", ("cost $5",)),
        ("a $ b", ("a $ b",)),
        ("end$", ("end$",)),
        ("${time:%Y/%m/%d}", (Placeholder("time", "%Y/%m/%d"),)),
        ('${event:detail."job-id"}', (Placeholder("event", 'detail."job-id"'),)),
        ("${ bucket }", (Placeholder("var", "bucket"),)),
    ],
)
def test_parse(text: str, parts: tuple[object, ...]) -> None:
    assert parse_template(text).parts == parts


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${bucket", "unclosed '${'"),
        ("${}", "empty '${}'"),
        ("${time:}", "needs an expression after ':'"),
        ("${event: }", "needs an expression after ':'"),
        ("${a b}", "is not a variable name"),
        ("${a-b}", "is not a variable name"),
        ("${café}", "is not a variable name"),
        ("${time-1x:%Y}", "time offset '-1x' at position 0 must be"),
        ("${time-d:%Y}", "time offset '-d'"),
        ("${time+1.5h:%Y}", "time offset '+1.5h'"),
        ("${time-10000d:%Y}", "time offset '-10000d'"),
        ("${time-1D:%Y}", "time offset '-1D'"),
        ("${time-1d-1h:%Y}", "time offset '-1d-1h'"),
        ("${time-١d:%Y}", "time offset '-١d'"),
        ("${time-1d}", "needs an expression after ':'"),
        ("${time-1d: }", "needs an expression after ':'"),
        ("${time 1d:%Y}", "is not a variable name"),
    ],
)
def test_malformed(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=re.escape(message)):
        parse_template(text)


def test_placeholders_in_order() -> None:
    template = parse_template("${a}-${time:%H}-${event:id}")
    assert [str(p) for p in template.placeholders] == ["${a}", "${time:%H}", "${event:id}"]


safe_text = st.text(alphabet=st.characters(blacklist_characters="${}"), max_size=20)


@given(value=st.text(max_size=60))
def test_substituted_values_are_copied_literally(value: str) -> None:
    # Whatever an event carries (including "${bucket}" or "$$"), it lands in the output verbatim.
    assert render_with("pre-${key}-post", {"key": value, "bucket": "SHOULD-NOT-APPEAR"}) == f"pre-{value}-post"


@given(prefix=safe_text, suffix=safe_text, value=st.text(max_size=30))
def test_render_is_concatenation(prefix: str, suffix: str, value: str) -> None:
    assert render_with(f"{prefix}${{v}}{suffix}", {"v": value}) == f"{prefix}{value}{suffix}"


@given(text=st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=40))
def test_doubled_dollars_round_trip(text: str) -> None:
    # Escaping every '$' as '$$' yields a template that renders back to the original text.
    assert parse_template(text.replace("$", "$$")).render(lambda p: "") == text


@pytest.mark.parametrize(
    ("text", "placeholder"),
    [
        ("${time-1d:%Y-%m-%d}", Placeholder("time", "%Y-%m-%d", TimeOffset(-1, "d"))),
        ("${time+2h:%H}", Placeholder("time", "%H", TimeOffset(2, "h"))),
        ("${time+0030m:%M}", Placeholder("time", "%M", TimeOffset(30, "m"))),
        ("${time-9999w:%Y}", Placeholder("time", "%Y", TimeOffset(-9999, "w"))),
    ],
)
def test_time_offsets_parse_and_print_back(text: str, placeholder: Placeholder) -> None:
    assert parse_template(text).parts == (placeholder,)
    assert str(placeholder) == text.replace("0030", "30")


def test_dollar_escapes_still_hide_offsets() -> None:
    assert parse_template("$${time-1d:%Y}-$$").parts == ("${time-1d:%Y}-$",)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def shifted(at: str, offset: TimeOffset, timezone: str) -> str:
    return local_time(utc(at), offset, timezone).isoformat()


@pytest.mark.parametrize(
    ("at", "offset", "timezone", "expected"),
    [
        # Paris springs forward on 2026-03-29 (02:00 -> 03:00): a day back from 02:00 CEST keeps 02:00...
        ("2026-03-30T00:00:00", TimeOffset(-1, "d"), "Europe/Paris", "2026-03-29T03:00:00+02:00"),
        # ...but 02:00 did not exist on the 29th: it moves forward by the hour of the gap.
        ("2026-03-31T00:00:00", TimeOffset(-2, "d"), "Europe/Paris", "2026-03-29T03:00:00+02:00"),
        ("2026-03-29T00:30:00", TimeOffset(1, "d"), "Europe/Paris", "2026-03-30T01:30:00+02:00"),
        ("2026-03-29T00:30:00", TimeOffset(24, "h"), "Europe/Paris", "2026-03-30T02:30:00+02:00"),
        # Paris falls back on 2026-10-25: a week back from a winter 02:00 is a summer 02:00.
        ("2026-10-26T01:00:00", TimeOffset(-1, "w"), "Europe/Paris", "2026-10-19T02:00:00+02:00"),
        ("2026-10-26T01:00:00", TimeOffset(-168, "h"), "Europe/Paris", "2026-10-19T03:00:00+02:00"),
        # 02:30 on the fall-back day occurs twice: fold=0 takes the first (summer-time) one.
        ("2026-10-24T00:30:00", TimeOffset(1, "d"), "Europe/Paris", "2026-10-25T02:30:00+02:00"),
        # New York springs forward on 2026-03-08 02:00 -> 03:00 and falls back on 2026-11-01.
        ("2026-03-07T07:30:00", TimeOffset(1, "d"), "America/New_York", "2026-03-08T03:30:00-04:00"),
        ("2026-03-09T04:00:00", TimeOffset(-1, "d"), "America/New_York", "2026-03-08T00:00:00-05:00"),
        ("2026-03-09T04:00:00", TimeOffset(-24, "h"), "America/New_York", "2026-03-07T23:00:00-05:00"),
        ("2026-11-02T05:00:00", TimeOffset(-1, "w"), "America/New_York", "2026-10-26T00:00:00-04:00"),
        ("2026-11-02T05:00:00", TimeOffset(-90, "m"), "America/New_York", "2026-11-01T22:30:00-05:00"),
    ],
)
def test_offsets_across_daylight_saving_changes(at: str, offset: TimeOffset, timezone: str, expected: str) -> None:
    assert shifted(at, offset, timezone) == expected


def test_no_timezone_and_no_offset_is_the_event_time_in_utc() -> None:
    assert local_time(utc("2026-11-24T16:30:00"), None, None).isoformat() == "2026-11-24T16:30:00+00:00"
    assert local_time(utc("2026-11-24T16:30:00"), None, "Asia/Tokyo").isoformat() == "2026-11-25T01:30:00+09:00"
