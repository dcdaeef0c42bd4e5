"""A key_pattern cannot stall a function: patterns whose matching could blow up are refused at validate.

Verdicts are asserted as the growth of the work with the key's length (``n ** degree``), never as
times; ``bench/key_patterns.py`` times the same corpus on crafted keys. The one run here on
crafted keys only guards against a hang, with a generous limit.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.key_patterns import ACCEPTED, REFUSED, slowest
from gluetrigger.core import key_patterns
from gluetrigger.core.config import parse_config
from gluetrigger.core.errors import ConfigError
from gluetrigger.core.key_patterns import MAX_DEGREE, MAX_KEY_LENGTH, MAX_PATTERN_LENGTH, key_pattern_cost

ROOT = Path(__file__).parents[2]
SEARCH = "the search from every start position (no leading ^)"


def degree(pattern: str) -> int | None:
    return key_pattern_cost(pattern).degree


def config_problems(*patterns: str) -> list[str]:
    triggers = [
        {"name": f"t{i}", "source": {"type": "s3", "bucket": "landing", "key_pattern": p}, "job": {"name": "j"}}
        for i, p in enumerate(patterns)
    ]
    with pytest.raises(ConfigError) as caught:
        parse_config({"triggers": triggers})
    return [str(p) for p in caught.value.problems]


# --- Refused --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "culprit"),
    [
        (r"(a+)+$", "(a+)+"),
        (r"(a*)*$", "(a*)*"),
        (r"(\w+\s?)*$", r"(\w+\s?)*"),
        (r"(a|a)*$", "(a(?:|))*"),  # as Python reads it: two empty branches after the common 'a'
        (r"(?:ab|a.)*$", "(?:a(?:b|.))*"),
        (r"(?:x{1,3})*$", "(?:x{1,3})*"),
        (r"^(?P<path>(?:\w+/?)+)\.csv$", r"(?:\w+/?)+"),
        (r"(?:a?){16}b", "(?:a?){16}"),  # bounded, but 2**16 ways
        (r"(?:.*?,){11}P", "(?:.*?,){11}"),
        (r"(?>a+)+$", "(?>a+)+"),  # atomic groups get no credit
        (r"(?:a++)+$", "(?:a++)+"),  # nor possessive quantifiers
        (r"^(?=(a+)+$)", "(a+)+"),  # nor lookarounds
    ],
)
def test_exponential_patterns_are_refused_naming_the_repetition(pattern: str, culprit: str) -> None:
    cost = key_pattern_cost(pattern)
    assert cost.degree is None
    assert cost.culprits == (culprit,)
    assert len(cost.problems) == 1
    assert cost.problems[0].startswith(f"can take exponential time on a crafted key: {culprit} can match the same")


@pytest.mark.parametrize(
    ("pattern", "expected", "culprits"),
    [
        (r"\d+\d+\d+x", 4, (SEARCH, r"\d+", r"\d+", r"\d+")),
        (r"^\d+\d+\d+x", 3, (r"\d+", r"\d+", r"\d+")),
        (r".*.*.*=", 4, (SEARCH, ".*", ".*", ".*")),
        (r".*.*=", 3, (SEARCH, ".*", ".*")),
        (r".*?.*?=", 3, (SEARCH, ".*?", ".*?")),  # lazy or greedy, the same choices
        (r"(?m)^.*.*=", 3, (SEARCH, ".*", ".*")),  # ^ matches after every newline: no anchor
        (r"(?P<dir>.*)/(?P<file>.*)\.csv$", 3, (SEARCH, ".*", ".*")),
        (r"(?P<name>.+)_(?P<rest>.+)\.csv$", 3, (SEARCH, ".+", ".+")),
        (r"(?:[^/]+/)*.*\.csv$", 3, (SEARCH, "(?:[^/]+/)*", ".*")),
        (r"^.*/.*/.*$", 3, (".*", ".*", ".*")),
        (r"(?!.*_tmp)[^/]+\.csv$", 3, (SEARCH, "[^/]+", ".* (in the lookaround (?!.*_tmp))")),
    ],
)
def test_polynomial_patterns_of_degree_three_or_more_are_refused(
    pattern: str, expected: int, culprits: tuple[str, ...]
) -> None:
    cost = key_pattern_cost(pattern)
    assert (cost.degree, cost.culprits) == (expected, culprits)
    assert len(cost.problems) == 1
    message = cost.problems[0]
    assert message.startswith(f"can take time proportional to n^{expected} on an n-character key (n up to 1,024;")
    assert ("anchor the pattern with ^" in message) == (SEARCH in culprits)
    assert "use classes that cannot match the same characters (for example [^/]* instead of .*)" in message


@pytest.mark.parametrize(("pattern", "shown"), [(r"(a)\1", r"\1"), (r"(?P<x>a)(?P=x)", "(?P=x)")])
def test_backreferences_are_refused(pattern: str, shown: str) -> None:
    assert key_pattern_cost(pattern).problems == (
        f"uses {shown}: a backreference can make matching take exponential time; match the text itself instead",
    )


def test_a_pattern_longer_than_the_limit_is_refused_without_analysis() -> None:
    assert key_pattern_cost("a" * MAX_PATTERN_LENGTH).problems == ()
    cost = key_pattern_cost("a" * (MAX_PATTERN_LENGTH + 1))
    assert cost.degree is None
    assert cost.problems == (
        "is 257 characters long; at most 256 are allowed: let prefix and suffix filter the key, match only what you "
        "need",
    )


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("a{2000}", "repeats something at least 2,000 times; use a smaller count"),
        ("(?:a|){4000000}", "repeats something at least 4,000,000 times; use a smaller count"),
        (
            "(?:(?:(?:a{0,16}){0,16}){0,16})",
            "is too complex to check for slow matching (more than 1,024 character positions once {m,n} "
            "repetitions are written out); use smaller counts",
        ),
    ],
)
def test_patterns_too_large_to_analyse_are_refused(pattern: str, message: str) -> None:
    assert key_pattern_cost(pattern).problems == (message,)


def test_an_analysis_that_exceeds_its_budget_refuses_the_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(key_patterns, "_BUDGET", 10)
    assert key_pattern_cost(r"^(?:[^/]+/)*(?P<file>[^/]+)\.csv$").problems == (
        "is too complex to check for slow matching; use fewer repetitions that can match the same characters",
    )


def test_validate_names_the_trigger_and_field_and_reports_every_pattern() -> None:
    found = config_problems(r"(a+)+$", r"^ok/(?P<day>[^/]+)/", r".*.*=")
    assert len(found) == 2
    assert found[0].startswith("t0: source.key_pattern: can take exponential time on a crafted key: (a+)+ ")
    assert found[1].startswith("t2: source.key_pattern: can take time proportional to n^3 ")
    assert all("\n" not in problem for problem in found)


def test_validate_reports_a_pattern_that_does_not_compile_once() -> None:
    assert config_problems("(a+")[0].startswith("t0: source.key_pattern: does not compile: ")


# --- Accepted ------------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_realistic_key_patterns_are_accepted(pattern: str) -> None:
    cost = key_pattern_cost(pattern)
    assert cost.problems == ()
    assert cost.degree is not None
    assert cost.degree <= MAX_DEGREE


@pytest.mark.parametrize("pattern", REFUSED)
def test_the_benchmarks_dangerous_patterns_are_refused(pattern: str) -> None:
    assert key_pattern_cost(pattern).problems != ()


def documented_key_patterns() -> list[str]:
    """Every key_pattern written in the README, the example triggers.yaml files and the tests."""
    files = [ROOT / "README.md", ROOT / "triggers.yaml", *sorted((ROOT / "tests").rglob("*.yaml"))]
    files += [path for path in sorted((ROOT / "tests").rglob("*.py")) if path.name != Path(__file__).name]
    found: set[str] = set()
    for path in files:
        text = path.read_text()
        found.update(re.findall(r"key_pattern: '([^']+)'", text))
        found.update(re.findall(r"""key_pattern["']?\s*[:=]\s*(?:re\.compile\()?r?["']([^"']+)["']""", text))
    return sorted(found)


def test_every_key_pattern_of_the_docs_examples_and_tests_is_accepted() -> None:
    patterns = documented_key_patterns()
    assert r"^sales/(?P<day>\d{4}-\d{2}-\d{2})/(?P<file>[^/]+)$" in patterns
    assert r"^x/\d{9}$" in patterns
    assert len(patterns) >= 7
    refused = {p: key_pattern_cost(p).problems for p in patterns if compiles(p) and key_pattern_cost(p).problems}
    assert refused == {}


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_accepted_patterns_finish_on_crafted_keys(pattern: str) -> None:
    # A hang guard only (the limit is far above the milliseconds they take): timing is the bench's job.
    found = slowest(pattern, MAX_KEY_LENGTH, thorough=False, limit=60.0, budget=600.0)
    assert found.seconds is not None
    assert found.complete


# --- How the analysis reads a pattern -------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"^x/\d{9}$", 0),  # no loop at all: bounded work
        (r"^[^/]+\.csv$", 1),
        (r"[^/]+\.csv$", 2),  # re.search tries every start position
        (r"\A[^/]+\.csv$", 1),
        (r"(?:^a|^b)[^/]+$", 1),  # anchored in every branch
        (r"(?:^a|b)[^/]+$", 2),
        (r"^[^/]*/[^/]*/[^/]*$", 1),  # separated by what the loops cannot match
        (r"^[a-z]+\d+[a-z]+\d+$", 1),
        (r"^(?:a+b)*$", 1),  # nested, but one way to match
        (r"^(?:[^/]+/)*(?P<file>[^/]+)\.csv$", 1),
        (r"^(?:a?)*$", 1),  # re stops repeating after an iteration that matched nothing
        (r"^(?:(?P<q>\")?[^\"]+(?(q)\"))$", 1),  # a conditional costs as much as both branches
        (r"(?<=/)[^/]+\.csv$", 2),
        (r"^(?!.*_tmp).*\.csv$", 2),  # the lookahead runs once, then .*
    ],
)
def test_degree_of_growth(pattern: str, expected: int) -> None:
    assert degree(pattern) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"^[\u0660-\u0669]+\d+$", 2),  # Arabic-Indic digits are \d too
        (r"(?a)^[\u0660-\u0669]+\d+$", 1),  # but not ASCII-only \d
        (r"^[\u0100-\uffff]+\d+$", 2),  # a range holding digits among a thousand other characters
        (r"^[\u4e00-\u9fff]+[a-z]+$", 1),
        (r"^.+\n+$", 1),  # '.' does not match a newline
        (r"(?s)^.+\n+$", 2),  # unless DOTALL
        (r"^[A-Z]+[a-z]+$", 1),
        (r"(?i)^[A-Z]+[a-z]+$", 2),  # case-insensitive classes overlap
        (r"^[A-Z]+(?i:[a-z])+$", 2),  # and so do scoped flags
        (r"^k+\u212a+$", 1),
        (r"(?i)^k+\u212a+$", 2),  # the Kelvin sign matches k case-insensitively
        (r"(?i)^[a-z]+\d+$", 1),  # digits have no case
    ],
)
def test_character_classes_overlap_as_re_matches_them(pattern: str, expected: int) -> None:
    assert degree(pattern) == expected


def test_every_code_point_falls_in_one_of_the_classes_the_analysis_assumes() -> None:
    # The analysis splits Unicode by (\d, \w, \s); it assumes the four combinations below and that
    # letters with case variants are never digits or spaces.
    text = "".join(map(chr, range(sys.maxunicode + 1)))
    digits, words, spaces = ({m.start() for m in re.finditer(c, text)} for c in (r"\d", r"\w", r"\s"))
    kinds = {(i in digits, i in words, i in spaces) for i in range(len(text))}
    assert kinds == set(key_patterns._VECTORS)
    cased = {i for i in digits | spaces if key_patterns._has_cased(text[i])}
    assert cased == set()


@pytest.mark.parametrize("letter", [*"aksAKS", "é", "σ", "ß", "\u212a"])
def test_case_insensitive_matches_beyond_a_letter_are_letters_with_case(letter: str) -> None:
    text = "".join(map(chr, range(sys.maxunicode + 1)))
    others = {c for c in re.findall(f"(?i){re.escape(letter)}", text) if c != letter}
    assert all(key_patterns._has_cased(c) for c in others)


# --- Never a traceback ---------------------------------------------------------------------------

ATOMS = st.sampled_from(["a", "b", ".", r"\d", r"\w", r"\s", "[^/]", "[a-c]", "/", "é", "(?i:k)", "^", "$", r"\b"])
QUANTIFIERS = st.sampled_from(["*", "+", "?", "{2}", "{1,3}", "{2,}", "*?", "++", "{0,40}"])


def compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    parts = st.lists(inner, min_size=2, max_size=3)
    return st.one_of(
        st.tuples(inner, QUANTIFIERS).map(lambda t: f"(?:{t[0]}){t[1]}"),
        parts.map("".join),
        parts.map(lambda xs: "(" + "|".join(xs) + ")"),
        st.tuples(st.sampled_from(["(?=", "(?!", "(?>", "(?P<g>"]), inner).map(lambda t: f"{t[0]}{t[1]})"),
    )


def compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(pattern=st.recursive(ATOMS, compound, max_leaves=8).filter(compiles))
def test_any_pattern_gets_a_verdict_and_one_line_problems(pattern: str) -> None:
    cost = key_pattern_cost(pattern)
    assert (cost.problems == ()) == (cost.degree is not None and cost.degree <= MAX_DEGREE)
    assert all("\n" not in problem for problem in cost.problems)
