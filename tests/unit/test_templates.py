"""The template language: parsing, rendering, and that event data is never expanded again."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gluetrigger.core.templates import Placeholder, TemplateError, parse_template


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
