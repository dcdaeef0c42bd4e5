"""Amazon EventBridge event patterns, checked and evaluated without calling AWS.

Custom-event triggers carry an EventBridge pattern that becomes a rule at deploy time. A pattern
EventBridge refuses would otherwise surface only as a failed deployment, and local mode has to
route a sample event exactly as the deployed rule will; so both the refusal rules and the
matching rules live here, in the standard library only, because this is the Lambda's core.

Everything follows AWS's content-filtering documentation. Where it is silent, the behaviour of
aws/event-ruler (the engine EventBridge runs) decides, and the choices are:

* Matching works on leaves, as if the event were flattened to ``path -> scalar`` pairs. A field
  whose value is an object, or an array holding no scalars (``[]`` included), has no leaf: it
  fails ``exists: true`` and passes ``exists: false``, like a missing field.
* ``null`` matches a field whose value is null, never a missing field; only ``exists: false``
  matches a missing field, ``anything-but`` included.
* A nested pattern applied to an array of objects matches when one element matches all of it.
* A wildcard may escape only ``*`` and ``\\``; a CIDR needs an explicit ``/prefix`` and may have
  host bits set (they are ignored, as in event-ruler).
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, TypeGuard

__all__ = ["explain_mismatch", "matches", "validate_pattern"]

_OR: Final = "$or"
_IGNORE_CASE: Final = "equals-ignore-case"
_COMPARATORS: Final[Mapping[str, Callable[[float, float], bool]]] = {
    "<": lambda value, bound: value < bound,
    "<=": lambda value, bound: value <= bound,
    "=": lambda value, bound: value == bound,
    ">=": lambda value, bound: value >= bound,
    ">": lambda value, bound: value > bound,
}
_LOWER_BOUNDS: Final = frozenset({">", ">="})
_UPPER_BOUNDS: Final = frozenset({"<", "<="})

# An explanation quotes values cut to this many characters: events can carry large or sensitive
# values and the explanation goes into one log line.
_SHOWN_CHARS: Final = 40
_SHOWN_MATCHERS: Final = 3

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def validate_pattern(pattern: object) -> list[tuple[str, str]]:
    """Return (path, message) for every reason EventBridge would refuse this pattern; [] when valid.

    path is the dotted field path inside the pattern, e.g. "detail.size" or "detail-type" or ""
    for the top level; a ``$or`` branch shows as ``$or[1]``.
    """
    if not isinstance(pattern, Mapping):
        return [("", f"pattern must be a JSON object, not {_json_type(pattern)}")]
    if not pattern:
        return [("", "pattern must not be empty")]
    problems: list[tuple[str, str]] = []
    _check_object(pattern, "", problems)
    return problems


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """True when the (already validated) pattern matches the event (a JSON-decoded EventBridge event dict)."""
    flat = _flatten(event)
    return any(_satisfiable(fields, flat) for fields in _alternatives(_terms(pattern, "")))


def explain_mismatch(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> tuple[str, str] | None:
    """Why the (already validated) pattern does not match the event: (field path, one-line reason).

    None exactly when :func:`matches` is True. Otherwise the explanation names the first field, in
    the pattern's order, that cannot match together with the fields before it, e.g.
    ``("detail.rows", "0 is not > 0")``; a ``$or`` none of whose branches can shows as
    ``("detail.$or", ...)``. Values are quoted cut to a few dozen characters.
    """
    flat = _flatten(event)
    terms = _terms(pattern, "")
    # Explaining only what the matcher refuses keeps "None exactly when matches" by construction.
    for count, term in enumerate(terms, start=1):
        if not any(_satisfiable(fields, flat) for fields in _alternatives(terms[:count])):
            return term.path, _term_reason(term, flat)
    return None


# --- validation -------------------------------------------------------------------------------


def _check_object(pattern: Mapping[Any, Any], path: str, problems: list[tuple[str, str]]) -> None:
    for key, value in pattern.items():
        if not isinstance(key, str):
            problems.append((path, f"field name {key!r} must be a string"))
            continue
        field = f"{path}.{key}" if path else key
        if key == _OR:
            _check_or(value, field, problems)
        elif isinstance(value, Mapping):
            if value:
                _check_object(value, field, problems)
            else:
                problems.append((field, "nested pattern must not be an empty object"))
        elif not isinstance(value, list):
            problems.append((field, f"must be a list of match values or an object, not {_json_type(value)}"))
        elif not value:
            problems.append((field, "must not be an empty list: it would match nothing"))
        else:
            problems.extend((field, message) for message in map(_match_value_problem, value) if message)


def _check_or(branches: object, path: str, problems: list[tuple[str, str]]) -> None:
    # event-ruler would quietly read a malformed "$or" as an ordinary field name; refusing it beats
    # a rule that waits for a literal "$or" key nobody meant.
    if not isinstance(branches, list) or len(branches) < 2:
        problems.append((path, "'$or' must be a list of at least 2 pattern objects"))
        return
    for index, branch in enumerate(branches):
        where = f"{path}[{index}]"
        if not isinstance(branch, Mapping):
            problems.append((where, f"'$or' branch must be a pattern object, not {_json_type(branch)}"))
        elif not branch:
            problems.append((where, "'$or' branch must not be empty"))
        else:
            _check_object(branch, where, problems)


def _match_value_problem(value: object) -> str | None:
    if value is None or isinstance(value, str | bool) or _is_number(value):
        return None
    if isinstance(value, Mapping):
        return _operator_problem(value)
    return f"match value must be a string, number, boolean, null or operator object, not {_json_type(value)}"


def _operator_problem(operator: Mapping[Any, Any]) -> str | None:
    if len(operator) != 1:
        return f"operator object must have exactly one key, not {len(operator)}"
    ((name, argument),) = operator.items()
    check = _OPERATOR_CHECKS.get(name)
    if check is None:
        return f"unknown operator {name!r}"
    return check(argument)


def _affix_problem(name: str) -> Callable[[object], str | None]:
    def check(argument: object) -> str | None:
        if isinstance(argument, Mapping) and argument.keys() == {_IGNORE_CASE}:
            argument = argument[_IGNORE_CASE]
        if isinstance(argument, str):
            return None
        return f"'{name}' must be a string or {{\"{_IGNORE_CASE}\": string}}"

    return check


def _ignore_case_problem(argument: object) -> str | None:
    return None if isinstance(argument, str) else f"'{_IGNORE_CASE}' must be a string"


def _wildcard_problem(argument: object) -> str | None:
    if not isinstance(argument, str):
        return "'wildcard' must be a string"
    try:
        _wildcard_segments(argument)
    except ValueError as exc:
        return str(exc)
    return None


def _exists_problem(argument: object) -> str | None:
    return None if isinstance(argument, bool) else "'exists' must be true or false"


def _cidr_problem(argument: object) -> str | None:
    if not isinstance(argument, str):
        return "'cidr' must be a string such as \"10.0.0.0/24\""
    try:
        _network(argument)
    except ValueError:
        return f"invalid CIDR {argument!r}"
    return None


def _numeric_problem(argument: object) -> str | None:
    reason = _numeric_reason(argument)
    return None if reason is None else f"malformed numeric range: {reason}"


def _numeric_reason(argument: object) -> str | None:
    if not isinstance(argument, list) or len(argument) not in (2, 4):
        return "expected [operator, number] or [lower operator, number, upper operator, number]"
    operators, bounds = argument[0::2], argument[1::2]
    if not all(isinstance(op, str) and op in _COMPARATORS for op in operators):
        return "operators are <, <=, =, >= and >"
    if not all(_is_number(bound) and math.isfinite(bound) for bound in bounds):
        return "bounds must be finite numbers"
    if len(argument) == 2:
        return None
    if "=" in operators:
        return "'=' must stand alone"
    if operators[0] not in _LOWER_BOUNDS or operators[1] not in _UPPER_BOUNDS:
        return "a range is a lower bound (> or >=) followed by an upper bound (< or <=)"
    if not bounds[0] < bounds[1]:
        return "the lower bound must be less than the upper bound"
    return None


def _anything_but_problem(argument: object) -> str | None:
    if isinstance(argument, str) or _is_number(argument):
        return None
    if isinstance(argument, list):
        if argument and (all(isinstance(v, str) for v in argument) or all(_is_number(v) for v in argument)):
            return None
        return "'anything-but' list must be non-empty and hold only strings or only numbers"
    if not isinstance(argument, Mapping):
        return f"'anything-but' must be a string, a number, a list or an object, not {_json_type(argument)}"
    if len(argument) != 1:
        return f"'anything-but' object must have exactly one key, not {len(argument)}"
    ((name, inner),) = argument.items()
    if name in ("prefix", "suffix"):
        return None if isinstance(inner, str) else f"'anything-but' '{name}' must be a string"
    if name not in ("wildcard", _IGNORE_CASE):
        return f"unknown operator {name!r} inside 'anything-but'"
    values = inner if isinstance(inner, list) else [inner]
    if not values or not all(isinstance(v, str) for v in values):
        return f"'anything-but' '{name}' must be a string or a non-empty list of strings"
    if name == "wildcard":
        return next(filter(None, map(_wildcard_problem, values)), None)
    return None


_OPERATOR_CHECKS: Final[Mapping[object, Callable[[object], str | None]]] = {
    "prefix": _affix_problem("prefix"),
    "suffix": _affix_problem("suffix"),
    _IGNORE_CASE: _ignore_case_problem,
    "wildcard": _wildcard_problem,
    "anything-but": _anything_but_problem,
    "numeric": _numeric_problem,
    "exists": _exists_problem,
    "cidr": _cidr_problem,
}


# --- matching ---------------------------------------------------------------------------------
#
# event-ruler flattens the event into (dotted path, leaf value) pairs and compiles the pattern the
# same way, so the pattern {"a.b": ["x"]} and the pattern {"a": {"b": ["x"]}} are one rule, and each
# matches {"a": {"b": "x"}} as well as {"a.b": "x"}. A leaf inside an array of objects remembers
# which element (of which array) holds it; one match may not take two fields from different
# elements of the same array ("array consistency").


@dataclass(frozen=True)
class _Field:
    """One pattern leaf: the dotted path and its list of match values."""

    path: str
    matchers: Sequence[Any]


@dataclass(frozen=True)
class _Or:
    """A ``$or`` at ``path`` ("detail.$or"): each branch is a list of terms."""

    path: str
    branches: tuple[tuple[_Field | _Or, ...], ...]


_Term = _Field | _Or
_Membership = Mapping[int, int]  # array id -> element index


@dataclass(frozen=True)
class _FlatEvent:
    """The event as event-ruler sees it: leaves by dotted path, and every path's JSON type."""

    leaves: dict[str, list[tuple[object, _Membership]]]
    shapes: dict[str, str]


def _terms(pattern: Mapping[str, Any], prefix: str) -> list[_Term]:
    terms: list[_Term] = []
    for key, expected in pattern.items():
        path = f"{prefix}.{key}" if prefix else key
        if key == _OR:
            terms.append(_Or(path, tuple(tuple(_terms(branch, prefix)) for branch in expected)))
        elif isinstance(expected, Mapping):
            terms.extend(_terms(expected, path))
        else:
            terms.append(_Field(path, expected))
    return terms


def _alternatives(terms: Sequence[_Term]) -> Iterator[list[_Field]]:
    """The pattern without ``$or``: one conjunction of fields per choice of branches, lazily."""
    if not terms:
        yield []
        return
    head, rest = terms[0], terms[1:]
    if isinstance(head, _Field):
        firsts: Iterable[list[_Field]] = [[head]]
    else:
        firsts = (fields for branch in head.branches for fields in _alternatives(branch))
    for first in firsts:
        for tail in _alternatives(rest):
            yield [*first, *tail]


def _flatten(event: Mapping[str, Any]) -> _FlatEvent:
    flat = _FlatEvent({}, {})
    _walk_object(event, "", {}, flat, itertools.count())
    return flat


def _walk_object(
    node: Mapping[Any, Any], prefix: str, membership: _Membership, flat: _FlatEvent, ids: Iterator[int]
) -> None:
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        flat.shapes.setdefault(path, _json_type(value))
        _walk_value(value, path, membership, flat, ids)


def _walk_value(value: object, path: str, membership: _Membership, flat: _FlatEvent, ids: Iterator[int]) -> None:
    if isinstance(value, Mapping):
        _walk_object(value, path, membership, flat, ids)
    elif isinstance(value, list):
        # Only objects and arrays inside an array are "elements" to keep apart; a scalar in an
        # array is just one more value of the path, as in event-ruler.
        array = next(ids)
        for index, item in enumerate(value):
            inner = {**membership, array: index} if isinstance(item, Mapping | list) else membership
            _walk_value(item, path, inner, flat, ids)
    else:
        flat.leaves.setdefault(path, []).append((value, membership))


def _satisfiable(fields: Sequence[_Field], flat: _FlatEvent) -> bool:
    # Sorted paths: event-ruler walks a rule's fields in this order, which decides what an
    # exists:false inside an array of objects sees (only fields consistent with those before it).
    return _assign(sorted(fields, key=lambda field: field.path), 0, {}, flat)


def _assign(fields: Sequence[_Field], index: int, membership: _Membership, flat: _FlatEvent) -> bool:
    if index == len(fields):
        return True
    return any(_assign(fields, index + 1, chosen, flat) for chosen in _options(fields[index], membership, flat))


def _options(field: _Field, membership: _Membership, flat: _FlatEvent) -> Iterator[_Membership]:
    """Each distinct way ``field`` can match alongside the elements already chosen."""
    leaves = [(value, where) for value, where in flat.leaves.get(field.path, ()) if _consistent(where, membership)]
    if not leaves and any(_is_absence(matcher) for matcher in field.matchers):
        yield membership
    seen: set[tuple[tuple[int, int], ...]] = set()
    for value, where in leaves:
        chosen = {**membership, **where}
        key = tuple(sorted(chosen.items()))
        if key not in seen and any(_value_matches(matcher, value) for matcher in field.matchers):
            seen.add(key)
            yield chosen


def _consistent(where: _Membership, membership: _Membership) -> bool:
    return all(membership.get(array, index) == index for array, index in where.items())


def _is_absence(matcher: object) -> bool:
    return isinstance(matcher, Mapping) and matcher.get("exists") is False


def _value_matches(matcher: object, leaf: object) -> bool:
    if not isinstance(matcher, Mapping):
        return _equals(matcher, leaf)
    ((name, argument),) = matcher.items()
    if name == "exists":
        return argument is True
    return _VALUE_TESTS[name](argument, leaf)


def _equals(expected: object, actual: object) -> bool:
    if _is_number(expected):
        return _is_number(actual) and actual == expected
    if isinstance(expected, str):
        return isinstance(actual, str) and actual == expected
    # null, true and false are singletons once decoded; identity keeps True from equalling 1.
    return actual is expected


def _test_affix(at_start: bool) -> Callable[[Any, object], bool]:
    """The ``prefix`` (``at_start``) or ``suffix`` matcher, plain or with equals-ignore-case."""

    def test(argument: Any, leaf: object) -> bool:
        if not isinstance(leaf, str):
            return False
        if isinstance(argument, str):
            text, affix = leaf, argument
        else:
            text, affix = leaf.casefold(), argument[_IGNORE_CASE].casefold()
        return text.startswith(affix) if at_start else text.endswith(affix)

    return test


def _test_ignore_case(argument: Any, leaf: object) -> bool:
    return isinstance(leaf, str) and leaf.casefold() == argument.casefold()


def _test_wildcard(argument: Any, leaf: object) -> bool:
    return isinstance(leaf, str) and _wildcard_regex(argument).fullmatch(leaf) is not None


def _test_numeric(argument: Any, leaf: object) -> bool:
    return _is_number(leaf) and all(
        _COMPARATORS[op](leaf, bound) for op, bound in zip(argument[0::2], argument[1::2], strict=True)
    )


def _test_cidr(argument: Any, leaf: object) -> bool:
    if not isinstance(leaf, str):
        return False
    try:
        address = ipaddress.ip_address(leaf)
    except ValueError:
        return False
    return address in _network(argument)


def _test_anything_but(argument: Any, leaf: object) -> bool:
    if isinstance(argument, Mapping):
        ((name, inner),) = argument.items()
        values = inner if isinstance(inner, list) else [inner]
        test = _VALUE_TESTS[name]
        return isinstance(leaf, str) and not any(test(value, leaf) for value in values)
    excluded = argument if isinstance(argument, list) else [argument]
    if isinstance(excluded[0], str):
        return isinstance(leaf, str) and leaf not in excluded
    return _is_number(leaf) and leaf not in excluded


_VALUE_TESTS: Final[Mapping[str, Callable[[Any, object], bool]]] = {
    "prefix": _test_affix(at_start=True),
    "suffix": _test_affix(at_start=False),
    _IGNORE_CASE: _test_ignore_case,
    "wildcard": _test_wildcard,
    "numeric": _test_numeric,
    "cidr": _test_cidr,
    "anything-but": _test_anything_but,
}


# --- explaining a mismatch ---------------------------------------------------------------------


def _term_reason(term: _Term, flat: _FlatEvent) -> str:
    if isinstance(term, _Or):
        return f"none of its {len(term.branches)} branches matches"
    if _satisfiable([term], flat):
        return "matches only in other elements of an array than the fields before it"
    return _field_reason(term, flat)


def _field_reason(field: _Field, flat: _FlatEvent) -> str:
    if field.path not in flat.shapes:
        return "is missing"
    leaves = [value for value, _ in flat.leaves.get(field.path, ())]
    if not leaves:
        return f"has no value to match ({flat.shapes[field.path]})"
    wanted = " or ".join(_describe(matcher) for matcher in field.matchers[:_SHOWN_MATCHERS])
    if len(field.matchers) > _SHOWN_MATCHERS:
        wanted += f" (or {len(field.matchers) - _SHOWN_MATCHERS} more)"
    if len(leaves) > 1:
        return f"none of its {len(leaves)} values is {wanted}"
    return f"{_show(leaves[0])} is not {wanted}"


def _describe(matcher: object) -> str:
    if not isinstance(matcher, Mapping):
        return _show(matcher)
    ((name, argument),) = matcher.items()
    if name == "numeric":
        return " and ".join(f"{op} {_show(bound)}" for op, bound in zip(argument[0::2], argument[1::2], strict=True))
    if name == "exists":
        return "present" if argument else "absent"
    return f"{name} {_show(argument)}"


def _show(value: object) -> str:
    """``value`` as JSON, cut to _SHOWN_CHARS; never raises, whatever the value."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (ValueError, TypeError):
        # An integer too long to print, or a structure json cannot walk.
        text = f"<{_json_type(value)}>"
    return text if len(text) <= _SHOWN_CHARS else f"{text[: _SHOWN_CHARS - 3]}..."


# --- shared helpers ---------------------------------------------------------------------------


def _is_number(value: object) -> TypeGuard[int | float]:
    # JSON has one number type; Python's bool is an int and must not pass as 0 or 1.
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if _is_number(value):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _wildcard_segments(text: str) -> list[str]:
    """The literal runs around each unescaped ``*``; ValueError when EventBridge refuses the wildcard."""
    segments = [""]
    after_star = False
    chars = iter(text)
    for char in chars:
        if char == "*":
            if after_star:
                raise ValueError("'wildcard' must not contain consecutive '*' characters")
            segments.append("")
            after_star = True
            continue
        literal = next(chars, "") if char == "\\" else char
        if char == "\\" and literal not in ("*", "\\"):
            raise ValueError("'wildcard' may escape only '*' and '\\' with a backslash")
        segments[-1] += literal
        after_star = False
    return segments


@lru_cache(maxsize=256)
def _wildcard_regex(text: str) -> re.Pattern[str]:
    return re.compile(".*".join(map(re.escape, _wildcard_segments(text))), re.DOTALL)


@lru_cache(maxsize=256)
def _network(text: str) -> _Network:
    # ip_network alone would take a bare address as a /32 and a dotted netmask; AWS wants "/prefix".
    _, slash, prefix = text.partition("/")
    if not slash or not (prefix.isascii() and prefix.isdigit()):
        raise ValueError(text)
    return ipaddress.ip_network(text, strict=False)
