"""Amazon EventBridge event patterns, checked and evaluated without calling AWS.

Custom-event triggers carry an EventBridge pattern that becomes a rule at deploy time. A pattern
EventBridge refuses would otherwise surface only as a failed deployment, and local mode has to
route a sample event exactly as the deployed rule will; so both the refusal rules and the
matching rules live here, in the standard library only, because this is the Lambda's core.

Everything follows AWS's content-filtering documentation. Where it is silent, the behaviour of
aws/event-ruler (the engine EventBridge runs) decides; tests/unit/test_eventbridge_conformance.py
names the source of each case. The choices:

* Matching works on leaves: the event is flattened to ``dotted path -> scalar`` pairs, and so is
  the pattern, so ``{"a.b": [...]}`` and ``{"a": {"b": [...]}}`` are one field, matching
  ``{"a": {"b": 1}}`` and ``{"a.b": 1}`` alike (naming one path twice is refused). A field whose
  value is an object, or an array holding no scalars (``[]`` included), has no leaf: it fails
  ``exists: true`` and passes ``exists: false``, like a missing field.
* Fields taken from different elements of one array of objects never match together, at any
  depth; different arrays combine freely.
* ``null`` matches a field whose value is null, never a missing field; only ``exists: false``
  matches a missing field. ``anything-but`` matches any value it does not exclude, of any type:
  null, numbers and booleans pass a string ``anything-but`` (or its prefix, suffix, wildcard and
  equals-ignore-case forms), strings pass a numeric one.
* String operators never match numbers, booleans or null. ``equals-ignore-case`` takes each
  pattern character as its lower or upper case (Java's mapping), not a case fold: "SS" does not
  match "ß".
* Numbers compare as doubles when a double holds them exactly (5 equals 5.0), otherwise only by
  value (2**60); a numeric bound no double holds exactly is refused. We compare any double, as
  event-ruler does since 2024, where older AWS docs state a +-1e9 (later +-5e9) range with six
  decimals.
* A wildcard may escape only ``*`` and ``\\``; a CIDR needs an explicit ``/prefix`` and may have
  host bits set (they are ignored, as in event-ruler).
"""

from __future__ import annotations

import dataclasses
import decimal
import ipaddress
import itertools
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, TypeGuard

__all__ = ["CompiledPattern", "FlatEvent", "explain_mismatch", "flatten", "matches", "validate_pattern"]

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
# Names event-ruler refuses as field names inside a "$or" branch
# (Constants.java, RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP).
_RESERVED_IN_OR: Final = frozenset(
    {
        "exactly",
        _IGNORE_CASE,
        "prefix",
        "suffix",
        "anything-but",
        "exists",
        "wildcard",
        "numeric",
        "cidr",
        "=",
        "<",
        "<=",
        ">",
        ">=",
        "regex",
        "not-wildcard",
        "not-equals-ignore-case",
        "date-after",
        "date-on-or-after",
        "date-before",
        "date-on-or-before",
        "in-date-range",
        "ip-address-in-range",
        "ip-address-not-in-range",
    }
)
_UPPER_BOUNDS: Final = frozenset({"<", "<="})

# An explanation quotes values cut to this many characters: events can carry large or sensitive
# values and the explanation goes into one log line.
_SHOWN_CHARS: Final = 40
_SHOWN_MATCHERS: Final = 3
# Java strings are UTF-16: event-ruler changes the case of a character beyond it one surrogate at a
# time, which changes nothing.
_BMP_MAX: Final = 0xFFFF

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
    # Paths only mean something in a pattern whose structure holds.
    return problems or _repeated_paths(pattern)


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """True when the (already validated) pattern matches the event (a JSON-decoded EventBridge event dict)."""
    return CompiledPattern(pattern).matches(flatten(event))


def explain_mismatch(pattern: Mapping[str, Any], event: Mapping[str, Any] | FlatEvent) -> tuple[str, str] | None:
    """Why the (already validated) pattern does not match the event: (field path, one-line reason).

    None exactly when :func:`matches` is True. Otherwise the explanation names the first field, in
    the pattern's order, that cannot match together with the fields before it, e.g.
    ``("detail.rows", "0 is not > 0")``; a ``$or`` none of whose branches can shows as
    ``("detail.$or", ...)``. Values are quoted cut to a few dozen characters. ``event`` may be
    given already flattened (:func:`flatten`), when it is explained against several patterns.
    """
    flat = event if isinstance(event, FlatEvent) else flatten(event)
    return CompiledPattern(pattern).explain(flat)


class CompiledPattern:
    """A validated pattern read once, to match or explain many events (:class:`FlatEvent`).

    The planner builds one per event trigger when it starts, so an event costs only the checks
    of its fields. Fields usually constrain each other only through the elements of an array of
    objects or through ``$or``; without either, each field is checked alone and the first that
    fails, in the pattern's order, is the explanation, so matching and explaining are both linear.
    Otherwise the full search decides, exactly as :func:`matches` defines it.
    """

    __slots__ = ("_fields", "_paths", "_plain", "_terms", "roots")

    def __init__(self, pattern: Mapping[str, Any]) -> None:
        self._terms = tuple(_terms(pattern, ""))
        self._fields = tuple(term for term in self._terms if isinstance(term, _Field))
        self._plain = len(self._fields) == len(self._terms)  # no "$or"
        self._paths = frozenset(field.path for field in self._fields)
        # The top-level keys of an event that can hold a field this pattern names: "detail.a.b"
        # may come from the key "detail", "detail.a" or "detail.a.b" (names are joined with dots).
        self.roots = frozenset(
            path.rsplit(".", cut)[0]
            for field, _ in _placed_fields(self._terms, ())
            for path in [field.path]
            for cut in range(path.count(".") + 1)
        )

    def exact_values(self, path: str) -> frozenset[str] | None:
        """The strings the field at ``path`` must equal, when the pattern (outside ``$or``) allows only
        plain strings there; None when it allows anything else or does not name ``path``.

        An index may then pass over the pattern for any event whose value there is another one.
        """
        for field in self._fields:
            if field.path == path:
                return field.exact
        return None

    def leading_exact(self) -> list[tuple[str, frozenset[str]]]:
        """The path and strings of each field at the head of the pattern that allows only plain
        strings, up to the first that allows anything else or the first ``$or``.

        When such a field refuses an event whose values at the fields before it pass, an
        explanation names it, whatever else the event holds: it may be kept for every event with
        the same values there.
        """
        lead: list[tuple[str, frozenset[str]]] = []
        for term in self._terms:
            if not isinstance(term, _Field) or term.exact is None:
                break
            lead.append((term.path, term.exact))
        return lead

    def matches(self, flat: FlatEvent) -> bool:
        if self._independent(flat):
            return all(field.holds_alone(flat) for field in self._fields)
        return _holds(self._terms, flat)

    def explain(self, flat: FlatEvent) -> tuple[str, str] | None:
        """:func:`explain_mismatch` for an event already flattened."""
        if self._independent(flat):
            failing = next((field for field in self._fields if not field.holds_alone(flat)), None)
            return None if failing is None else (failing.path, _field_reason(failing, flat))
        # Explaining only what the matcher refuses keeps "None exactly when matches" by construction:
        # the first term that cannot match together with those before it. Not shortened further:
        # with exists: false inside an array, a field can make the fields before it match.
        terms = self._terms
        count = next((count for count in range(1, len(terms) + 1) if not _holds(terms[:count], flat)), None)
        return None if count is None else (terms[count - 1].path, _term_reason(terms[count - 1], flat))

    def _independent(self, flat: FlatEvent) -> bool:
        # With no "$or" and at most one field inside an array of objects, a field's options never
        # depend on the others: each holds alone or the pattern fails.
        return self._plain and (not flat.nested or len(self._paths & flat.nested) <= 1)


# --- validation -------------------------------------------------------------------------------


def _check_object(
    pattern: Mapping[Any, Any], path: str, problems: list[tuple[str, str]], *, in_or: bool = False
) -> None:
    for key, value in pattern.items():
        if not isinstance(key, str):
            problems.append((path, f"field name {key!r} must be a string"))
            continue
        field = f"{path}.{key}" if path else key
        if in_or and key in _RESERVED_IN_OR:
            problems.append((field, f"'{key}' is reserved: EventBridge refuses it as a field name inside '$or'"))
        elif key == _OR:
            _check_or(value, field, problems)
        else:
            _check_field(value, field, problems, in_or=in_or)


def _check_field(value: object, field: str, problems: list[tuple[str, str]], *, in_or: bool) -> None:
    if isinstance(value, Mapping):
        if value:
            _check_object(value, field, problems, in_or=in_or)
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
            _check_object(branch, where, problems, in_or=True)


def _repeated_paths(pattern: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Field paths a rule would name twice once nested names are joined with dots.

    {"a.b": [1], "a": {"b": [2]}} names "a.b" twice, and so does a field that a ``$or`` branch
    repeats; event-ruler refuses such a rule or lets the last one win, depending on its setup.
    Two branches of one ``$or`` never meet, so they may name the same path.
    """
    placed: dict[str, list[_Choices]] = {}
    for field, choices in _placed_fields(_terms(pattern, ""), ()):
        placed.setdefault(field.path, []).append(choices)
    return [
        (path, "names a field another part of the pattern names too (EventBridge joins nested names with dots)")
        for path, seen in placed.items()
        if any(not _exclusive(first, second) for first, second in itertools.combinations(seen, 2))
    ]


def _placed_fields(terms: Sequence[_Term], choices: _Choices) -> Iterator[tuple[_Field, _Choices]]:
    for term in terms:
        if isinstance(term, _Field):
            yield term, choices
            continue
        for index, branch in enumerate(term.branches):
            yield from _placed_fields(branch, (*choices, (id(term), index)))


def _exclusive(first: _Choices, second: _Choices) -> bool:
    """Whether two fields sit in different branches of some ``$or``."""
    branches = dict(first)
    return any(branches.get(or_id, index) != index for or_id, index in second)


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
    if not all(_is_number(bound) and _comparable(bound) for bound in bounds):
        return "bounds must be finite numbers a double holds exactly"
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
    if isinstance(argument, str):
        return None
    if _is_number(argument):
        return _incomparable(argument)
    if isinstance(argument, list):
        return _anything_but_list_problem(argument)
    if not isinstance(argument, Mapping):
        return f"'anything-but' must be a string, a number, a list or an object, not {_json_type(argument)}"
    if len(argument) != 1:
        return f"'anything-but' object must have exactly one key, not {len(argument)}"
    ((name, inner),) = argument.items()
    if name not in ("prefix", "suffix", "wildcard", _IGNORE_CASE):
        return f"unknown operator {name!r} inside 'anything-but'"
    return _anything_but_set_problem(name, inner)


def _anything_but_list_problem(values: list[Any]) -> str | None:
    if values and all(isinstance(value, str) for value in values):
        return None
    if values and all(_is_number(value) for value in values):
        return next(filter(None, map(_incomparable, values)), None)
    return "'anything-but' list must be non-empty and hold only strings or only numbers"


def _anything_but_set_problem(name: str, inner: object) -> str | None:
    values = inner if isinstance(inner, list) else [inner]
    if not values or not all(isinstance(value, str) for value in values):
        return f"'anything-but' '{name}' must be a string or a non-empty list of strings"
    if name in ("prefix", "suffix") and "" in values:
        # An empty prefix would exclude every string (event-ruler: "Null prefix/suffix not allowed").
        return f"'anything-but' '{name}' must not be an empty string"
    if name == "wildcard":
        return next(filter(None, map(_wildcard_problem, values)), None)
    return None


def _incomparable(number: int | float) -> str | None:
    if _comparable(number):
        return None
    return f"{_show(number)} is not a number EventBridge can compare (no double holds it exactly)"


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


class _Field:
    """One pattern leaf: the dotted path and its list of match values, read once.

    Plain strings, the most common match values, are looked up in a set; the other matchers are
    tried one by one. The text an explanation shows for the values is made here too.
    """

    __slots__ = ("_others", "_strings", "absence_allowed", "exact", "matchers", "path", "wanted")

    def __init__(self, path: str, matchers: Sequence[Any]) -> None:
        self.path = path
        self.matchers = matchers
        self._strings = frozenset(matcher for matcher in matchers if isinstance(matcher, str))
        self._others = tuple(matcher for matcher in matchers if not isinstance(matcher, str))
        self.exact = None if self._others else self._strings
        self.absence_allowed = any(
            isinstance(matcher, Mapping) and matcher.get("exists") is False for matcher in matchers
        )
        self.wanted = " or ".join(_describe(matcher) for matcher in matchers[:_SHOWN_MATCHERS])
        if len(matchers) > _SHOWN_MATCHERS:
            self.wanted += f" (or {len(matchers) - _SHOWN_MATCHERS} more)"

    def accepts(self, leaf: object) -> bool:
        """Whether one of the match values accepts this leaf value."""
        if isinstance(leaf, str) and leaf in self._strings:
            return True
        return any(_value_matches(matcher, leaf) for matcher in self._others)

    def holds_alone(self, flat: FlatEvent) -> bool:
        """Whether the field matches the event, leaving aside every other field."""
        leaves = flat.leaves.get(self.path)
        if not leaves:
            return self.absence_allowed
        return any(self.accepts(value) for value, _ in leaves)


@dataclass(frozen=True)
class _Or:
    """A ``$or`` at ``path`` ("detail.$or"): each branch is a list of terms."""

    path: str
    branches: tuple[tuple[_Field | _Or, ...], ...]


_Term = _Field | _Or
_Choices = tuple[tuple[int, int], ...]  # (id of a $or, index of the branch taken), outermost first
_Membership = Mapping[int, int]  # array id -> element index


@dataclass(frozen=True)
class FlatEvent:
    """The event as event-ruler sees it: leaves by dotted path, and every path's JSON type."""

    leaves: dict[str, list[tuple[object, _Membership]]]
    shapes: dict[str, str]
    # Paths with a leaf inside an array of objects: only there do fields constrain each other.
    nested: set[str] = dataclasses.field(default_factory=set)


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


def _holds(terms: Sequence[_Term], flat: FlatEvent) -> bool:
    """Whether some choice of ``$or`` branches gives fields that all match together."""
    return _search([t for t in terms if isinstance(t, _Field)], [t for t in terms if isinstance(t, _Or)], flat)


def _search(fields: list[_Field], ors: Sequence[_Or], flat: FlatEvent) -> bool:
    if not ors:
        return _satisfiable(fields, flat)
    # Fields that need a value only get harder to match as fields join them, so a failing set
    # prunes every choice of the remaining branches (event-ruler expands them all up front).
    if not _satisfiable([field for field in fields if not field.absence_allowed], flat):
        return False
    head, rest = ors[0], ors[1:]
    for branch in head.branches:
        more_fields = [t for t in branch if isinstance(t, _Field)]
        more_ors = [t for t in branch if isinstance(t, _Or)]
        if _search([*fields, *more_fields], [*more_ors, *rest], flat):
            return True
    return False


# A dict first, as isinstance checks in order: the check against the abstract Mapping alone costs
# fifteen times more, and events are dicts.
_OBJECT = (dict, Mapping)
_CONTAINER = (dict, list, Mapping)


def flatten(event: Mapping[str, Any], roots: Set[str] | None = None) -> FlatEvent:
    """``event`` as matching reads it: flatten once, then match it against every pattern.

    ``roots``: the only top-level keys to read (:attr:`CompiledPattern.roots` of every pattern
    the event will meet); the rest of an event is never looked at, so need not be flattened.
    """
    flat = FlatEvent({}, {})
    if roots is not None:
        event = {key: value for key, value in event.items() if str(key) in roots}
    _walk_object(event, "", {}, flat, itertools.count())
    return flat


def _walk_object(
    node: Mapping[Any, Any], prefix: str, membership: _Membership, flat: FlatEvent, ids: Iterator[int]
) -> None:
    shapes = flat.shapes
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if path not in shapes:
            shapes[path] = _json_type(value)
        _walk_value(value, path, membership, flat, ids)


def _walk_value(value: object, path: str, membership: _Membership, flat: FlatEvent, ids: Iterator[int]) -> None:
    # Scalars first: they are most of an event, and the Mapping check is the slow one.
    if value is None or isinstance(value, str | int | float):
        _add_leaf(value, path, membership, flat)
    elif isinstance(value, _OBJECT):
        _walk_object(value, path, membership, flat, ids)
    elif isinstance(value, list):
        # Only objects and arrays inside an array are "elements" to keep apart; a scalar in an
        # array is just one more value of the path, as in event-ruler.
        array = next(ids)
        for index, item in enumerate(value):
            inner = {**membership, array: index} if isinstance(item, _CONTAINER) else membership
            _walk_value(item, path, inner, flat, ids)
    else:
        _add_leaf(value, path, membership, flat)


def _add_leaf(value: object, path: str, membership: _Membership, flat: FlatEvent) -> None:
    flat.leaves.setdefault(path, []).append((value, membership))
    if membership:
        flat.nested.add(path)


def _satisfiable(fields: Sequence[_Field], flat: FlatEvent) -> bool:
    # Sorted paths: event-ruler walks a rule's fields in this order, which decides what an
    # exists:false inside an array of objects sees (only fields consistent with those before it).
    return _assign(sorted(fields, key=lambda field: field.path), 0, {}, flat)


def _assign(fields: Sequence[_Field], index: int, membership: _Membership, flat: FlatEvent) -> bool:
    if index == len(fields):
        return True
    return any(_assign(fields, index + 1, chosen, flat) for chosen in _options(fields[index], membership, flat))


def _options(field: _Field, membership: _Membership, flat: FlatEvent) -> Iterator[_Membership]:
    """Each distinct way ``field`` can match alongside the elements already chosen."""
    leaves = [(value, where) for value, where in flat.leaves.get(field.path, ()) if _consistent(where, membership)]
    if not leaves and field.absence_allowed:
        yield membership
    seen: set[tuple[tuple[int, int], ...]] = set()
    for value, where in leaves:
        chosen = {**membership, **where}
        key = tuple(sorted(chosen.items()))
        if key not in seen and field.accepts(value):
            seen.add(key)
            yield chosen


def _consistent(where: _Membership, membership: _Membership) -> bool:
    return all(membership.get(array, index) == index for array, index in where.items())


def _value_matches(matcher: object, leaf: object) -> bool:
    if not isinstance(matcher, Mapping):
        return _equals(matcher, leaf)
    ((name, argument),) = matcher.items()
    if name == "exists":
        return argument is True
    return _VALUE_TESTS[name](argument, leaf)


def _equals(expected: object, actual: object) -> bool:
    if _is_number(expected):
        return _is_number(actual) and _same_number(expected, actual)
    if isinstance(expected, str):
        return isinstance(actual, str) and actual == expected
    # null, true and false are singletons once decoded; identity keeps True from equalling 1.
    return actual is expected


def _same_number(expected: int | float, actual: int | float) -> bool:
    # event-ruler compares numbers a double holds exactly as doubles (5 equals 5.0) and any other
    # number by its JSON text, which json.loads keeps only for integers.
    if _comparable(expected) and _comparable(actual):
        return expected == actual
    return type(expected) is type(actual) and expected == actual


def _test_affix(at_start: bool) -> Callable[[Any, object], bool]:
    """The ``prefix`` (``at_start``) or ``suffix`` matcher, plain or with equals-ignore-case."""

    def test(argument: Any, leaf: object) -> bool:
        if not isinstance(leaf, str):
            return False
        if isinstance(argument, str):
            return leaf.startswith(argument) if at_start else leaf.endswith(argument)
        regex = _ignore_case_regex(argument[_IGNORE_CASE], at_start=at_start, at_end=not at_start)
        return regex.search(leaf) is not None

    return test


def _test_ignore_case(argument: Any, leaf: object) -> bool:
    return isinstance(leaf, str) and _ignore_case_regex(argument, at_start=True, at_end=True).search(leaf) is not None


def _test_wildcard(argument: Any, leaf: object) -> bool:
    return isinstance(leaf, str) and _wildcard_regex(argument).fullmatch(leaf) is not None


def _test_numeric(argument: Any, leaf: object) -> bool:
    return (
        _is_number(leaf)
        and _comparable(leaf)
        and all(_COMPARATORS[op](leaf, bound) for op, bound in zip(argument[0::2], argument[1::2], strict=True))
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
    # event-ruler's anything-but matches every value it does not exclude, whatever its type: a
    # number, a boolean or null pass anything-but "x", a string passes anything-but 5, and only a
    # string can fail the prefix, suffix, equals-ignore-case and wildcard forms. A missing field
    # has no value, so it never matches.
    if isinstance(argument, Mapping):
        ((name, inner),) = argument.items()
        values = inner if isinstance(inner, list) else [inner]
        test = _VALUE_TESTS[name]
        return not any(test(value, leaf) for value in values)
    excluded = argument if isinstance(argument, list) else [argument]
    return not any(_equals(value, leaf) for value in excluded)


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


def _term_reason(term: _Term, flat: FlatEvent) -> str:
    if isinstance(term, _Or):
        return f"none of its {len(term.branches)} branches matches"
    if _satisfiable([term], flat):
        return "matches only in other elements of an array than the fields before it"
    return _field_reason(term, flat)


def _field_reason(field: _Field, flat: FlatEvent) -> str:
    if field.path not in flat.shapes:
        return "is missing"
    leaves = [value for value, _ in flat.leaves.get(field.path, ())]
    if not leaves:
        return f"has no value to match ({flat.shapes[field.path]})"
    if len(leaves) > 1:
        return f"none of its {len(leaves)} values is {field.wanted}"
    return f"{_show(leaves[0])} is not {field.wanted}"


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
    # The decoded JSON types by their exact type first: most calls come from flattening events.
    known = _JSON_TYPES.get(type(value))
    if known is not None:
        return known
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


_JSON_TYPES: Final[Mapping[type, str]] = {
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
    dict: "an object",
    list: "a list",
}


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


def _comparable(number: int | float) -> bool:
    """Whether event-ruler can compare the number: a finite double that prints back as the same value.

    It refuses a pattern bound such as 2**60 and never numerically matches such an event value,
    because the double nearest to it differs from it.
    """
    if isinstance(number, float):
        return math.isfinite(number)
    try:
        return decimal.Decimal(repr(float(number))) == number
    except OverflowError:
        return False


@lru_cache(maxsize=256)
def _ignore_case_regex(text: str, *, at_start: bool, at_end: bool) -> re.Pattern[str]:
    """equals-ignore-case as event-ruler reads it: each character of ``text`` stands for its lower
    or its upper case (Java's single-character mappings), never for a case-folded equivalent, so
    "SS" does not match "ß"; a character outside the BMP matches only itself.
    """
    parts = []
    for char in text:
        variants = {char.lower(), char.upper()} if ord(char) <= _BMP_MAX else {char}
        parts.append("(?:" + "|".join(map(re.escape, sorted(variants))) + ")")
    return re.compile(("^" if at_start else "") + "".join(parts) + (r"\Z" if at_end else ""))


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
