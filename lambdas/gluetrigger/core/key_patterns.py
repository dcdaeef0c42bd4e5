r"""Refuse, at validate time, a ``key_pattern`` that could stall a function on a crafted S3 key.

Python's ``re`` backtracks and has no timeout: on some patterns its work grows exponentially with
the text, or as a high power of its length (ReDoS). Whoever can upload to the bucket chooses the
key, up to 1,024 characters, so the pattern alone has to bound the work. A linear-time engine
(RE2) would mean a compiled wheel per architecture and Python version inside the code asset, and a
different dialect from the one users test with; instead this module proves a bound on the pattern
``re`` itself runs, and refuses the pattern when it cannot prove ``n ** MAX_DEGREE``.

How. The pattern is parsed by the standard library's own parser, so the analysis sees what the
engine runs, rewrites included (``(a|a)`` becomes ``a(?:|)``: two empty branches, two choices).
It becomes an automaton whose paths are the matcher's choices: a Glushkov automaton (one state
per character position) that counts, up to two, the ways of going from one position to the next,
so the choices that consume nothing (``(a*)*`` ending an iteration early, an empty branch) are
not merged away. The worst number of choices tried on an n-character key then grows either
exponentially, when two different cycles read the same text, or as ``n ** d``, where d is the
longest chain of loops each of which can read the same text as the next (the ambiguity criteria of
Weber & Seidl; Weideman et al., "Analyzing matching time behavior of backtracking regular
expression matchers by using ambiguity of NFA", 2016). ``re.search`` tries every start position,
which is one more loop (over any character) in front, unless the pattern starts with ``^`` or
``\A``. ``d <= 2`` is accepted: about 1e6 steps, milliseconds, on a 1,024-character key, where
``d = 3`` already takes from a third of a second to seconds (``bench/key_patterns.py`` measures).

Characters are a finite alphabet: every ASCII character, every character the pattern names, and
for the rest of Unicode one abstract character per interval between named characters and per
``\d``/``\w``/``\s`` class. Wherever the analysis cannot be exact it assumes the worse case, so it
may refuse a pattern that is in fact fast, never the other way round: lookarounds cost as much as
their body at every step that tries them; atomic groups and possessive quantifiers are analysed
as if they could backtrack; a bounded repetition ``{m,n}`` whose body can match one text in two
ways is refused even when the count is small; non-ASCII letters that match case-insensitively are
assumed to match every case-insensitive letter of the pattern. What the bound leaves out is a
constant: ambiguous parts written out by hand, with no repetition (``(?:ab|.b)(?:ab|.b)...``),
multiply the work by a factor that the 256-character limit on the pattern keeps finite.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from gluetrigger.core.errors import GlueTriggerError

if TYPE_CHECKING:  # typeshed describes the parser under its pre-3.11 name; same module, same API
    import sre_constants as _c
    import sre_parse as _parser
else:  # re._parser and re._constants: the standard library's own parser, 3.11 to 3.13 alike
    from re import _constants as _c
    from re import _parser

__all__ = ["MAX_DEGREE", "MAX_KEY_LENGTH", "MAX_PATTERN_LENGTH", "KeyPatternCost", "key_pattern_cost"]

MAX_KEY_LENGTH = 1024  # S3's limit on an object key, in UTF-8 bytes (so at most that many characters)
MAX_PATTERN_LENGTH = 256
MAX_DEGREE = 2  # accepted: work grows at most as n ** 2, about 1e6 steps at n = 1,024

_EXPANDED = 16  # a bounded repetition with more optional iterations is analysed as unbounded
_MAX_POSITIONS = 1024  # character positions once bounded repetitions are written out
_BUDGET = 200_000  # product states the analysis may visit before it gives up (and refuses)
_CAP = 2  # ways are counted up to two: one is unambiguous, two is enough to be ambiguous
_SCAN = 4096  # a longer interval of code points is assumed to hold every kind of character

_CHAR_OPS = (_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN)
_REPEATS = (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT)
_WRAPPED = (*_CHAR_OPS, _c.SUBPATTERN, _c.BRANCH, _c.ATOMIC_GROUP)
# (is \d, is \w, is \s): the combinations Unicode has; only the second and the last hold letters.
_VECTORS = ((True, True, False), (False, True, False), (False, False, True), (False, False, False))
_CASED_VECTORS = (_VECTORS[1], _VECTORS[3])
_CLASSES = tuple(re.compile(category) for category in (r"\d", r"\w", r"\s"))
_CATEGORIES = {
    _c.CATEGORY_DIGIT: (0, True, r"\d"),
    _c.CATEGORY_NOT_DIGIT: (0, False, r"\D"),
    _c.CATEGORY_WORD: (1, True, r"\w"),
    _c.CATEGORY_NOT_WORD: (1, False, r"\W"),
    _c.CATEGORY_SPACE: (2, True, r"\s"),
    _c.CATEGORY_NOT_SPACE: (2, False, r"\S"),
}
_ANCHORS = {
    _c.AT_BEGINNING: "^",
    _c.AT_BEGINNING_STRING: r"\A",
    _c.AT_END: "$",
    _c.AT_END_STRING: r"\Z",
    _c.AT_BOUNDARY: r"\b",
    _c.AT_NON_BOUNDARY: r"\B",
}
_FLAG_LETTERS = ((re.IGNORECASE, "i"), (re.DOTALL, "s"), (re.ASCII, "a"))
_SEARCH = "the search from every start position (no leading ^)"

_Node = TypeVar("_Node", bound=Hashable)
_Ways = dict[int, int]  # position -> number of ways (1 or 2)


@dataclass(frozen=True)
class KeyPatternCost:
    """How the work of ``re.search`` with a key_pattern grows with the key's length n.

    ``degree`` is d in ``n ** d`` (None: exponential, or not analysed); ``culprits`` are the
    repetitions responsible, as Python reads them; ``problems`` are one-line refusals, empty when
    the pattern is accepted.
    """

    degree: int | None
    culprits: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


def key_pattern_cost(pattern: str) -> KeyPatternCost:
    """Analyse ``pattern`` (which must compile) and say whether matching stays within n ** MAX_DEGREE."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        too_long = f"is {len(pattern)} characters long; at most {MAX_PATTERN_LENGTH} are allowed: let prefix and suffix"
        return KeyPatternCost(None, (), (f"{too_long} filter the key, match only what you need",))
    parsed = _parser.parse(pattern)
    build = _Build({gid: name for name, gid in parsed.state.groupdict.items()})
    try:
        root = build.machine(parsed.data, parsed.state.flags, _Kind.PATTERN, pattern)
        verdict = _Analysis(build).verdict(root)
    except _TooComplexError as exc:
        return KeyPatternCost(None, (), tuple(dict.fromkeys([*build.problems, str(exc)])))
    problems = dict.fromkeys([*build.problems, *_cost_problems(verdict)])  # a body written out n times: once
    return KeyPatternCost(verdict.degree, verdict.culprits, tuple(problems))


def _cost_problems(verdict: _Verdict) -> list[str]:
    if verdict.degree is None:
        return [
            f"can take exponential time on a crafted key: {verdict.culprits[0]} can match the same text in "
            "more than one way; make its parts unable to match the same characters (for example "
            "(?:[^/]+/)* rather than (?:.+/)*) or remove the nested repetition"
        ]
    if verdict.degree <= MAX_DEGREE:
        return []
    hint = "anchor the pattern with ^, or " if _SEARCH in verdict.culprits else ""
    return [
        f"can take time proportional to n^{verdict.degree} on an n-character key (n up to {MAX_KEY_LENGTH:,}; "
        f"at most n^{MAX_DEGREE} is accepted): {', then '.join(verdict.culprits)} can match the same characters; "
        f"{hint}use classes that cannot match the same characters (for example [^/]* instead of .*)"
    ]


class _TooComplexError(GlueTriggerError):
    """The analysis would be too large; the pattern is refused rather than let through unchecked."""


class _Budget:
    def __init__(self) -> None:
        self.left = _BUDGET

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise _TooComplexError(
                "is too complex to check for slow matching; use fewer repetitions that can match the same characters"
            )


# --- From the parse tree to automata -----------------------------------------------------------


class _Leaf(NamedTuple):
    """A character class at one position: the parser's op and argument, and the flags in force."""

    op: Any
    av: Any
    flags: int


class _Frag(NamedTuple):
    """A Glushkov fragment: ways to match nothing, to start at a position, to end at one."""

    nullable: int
    first: _Ways
    last: _Ways


_EMPTY = _Frag(1, {}, {})


class _Kind:
    PATTERN = "pattern"  # the key_pattern itself, searched at every start position
    LOOKAROUND = "lookaround"  # a lookaround's body, matched on its own each time it is tried
    REPETITION = "repetition"  # a repetition's body as a loop, only to find ambiguity between iterations


@dataclass
class _Machine:
    kind: str
    text: str
    anchored: bool
    leaves: list[int] = field(default_factory=list)  # per position: index into _Build.leaves
    loops: list[tuple[int, ...]] = field(default_factory=list)  # per position: enclosing loops, outermost first
    follow: dict[tuple[int, int], int] = field(default_factory=dict)
    first: _Ways = field(default_factory=dict)
    children: list[int] = field(default_factory=list)

    def link(self, last: _Ways, first: _Ways) -> None:
        for u, before in last.items():
            for v, after in first.items():
                self.follow[u, v] = min(self.follow.get((u, v), 0) + before * after, _CAP)


def _scaled(ways: _Ways, factor: int) -> _Ways:
    return {k: min(v * factor, _CAP) for k, v in ways.items()} if factor else {}


def _merged(*all_ways: _Ways) -> _Ways:
    out: _Ways = {}
    for ways in all_ways:
        for k, v in ways.items():
            out[k] = min(out.get(k, 0) + v, _CAP)
    return out


class _Build:
    """Builds the machines of one pattern: the pattern, then one per lookaround and checked repetition."""

    def __init__(self, names: dict[int, str]) -> None:
        self.names = names
        self.leaves: dict[_Leaf, int] = {}
        self.loop_texts: list[str] = []
        self.machines: list[_Machine] = []
        self.problems: list[str] = []
        self.positions = 0
        self._made: dict[tuple[str, int, int], int] = {}  # a body written out n times is checked once

    def machine(self, items: Sequence[Any], flags: int, kind: str, text: str) -> int:
        key = (kind, id(items), flags)
        if key in self._made:
            return self._made[key]
        anchored = kind != _Kind.PATTERN or _anchored(items, flags)
        m = _Machine(kind, text, anchored)
        self.machines.append(m)
        self._made[key] = len(self.machines) - 1
        frag = self._seq(m, items, flags, ())
        if kind == _Kind.REPETITION:  # any number of iterations, empty ones anywhere: the loosest loop
            m.link(frag.last, _scaled(frag.first, 1 + frag.nullable))
        m.first = frag.first
        return self._made[key]

    def _seq(self, m: _Machine, items: Iterable[Any], flags: int, loops: tuple[int, ...]) -> _Frag:
        frag = _EMPTY
        for op, av in items:
            frag = self._concat(m, frag, self._item(m, op, av, flags, loops))
        return frag

    @staticmethod
    def _concat(m: _Machine, a: _Frag, b: _Frag) -> _Frag:
        m.link(a.last, b.first)
        return _Frag(
            min(a.nullable * b.nullable, _CAP),
            _merged(a.first, _scaled(b.first, a.nullable)),
            _merged(b.last, _scaled(a.last, b.nullable)),
        )

    def _item(self, m: _Machine, op: Any, av: Any, flags: int, loops: tuple[int, ...]) -> _Frag:
        if op in _CHAR_OPS:
            return self._position(m, _Leaf(op, tuple(av) if op is _c.IN else av, flags), loops)
        if op is _c.BRANCH:
            return self._alternatives(m, av[1], flags, loops)
        if op is _c.SUBPATTERN:
            return self._seq(m, av[3], (flags | av[1]) & ~av[2], loops)
        if op is _c.ATOMIC_GROUP:  # no credit for atomicity: analysed as a plain group
            return self._seq(m, av, flags, loops)
        if op in _REPEATS:
            return self._repeat(m, (op, av), flags, loops)
        if op in (_c.ASSERT, _c.ASSERT_NOT):
            m.children.append(self.machine(av[1], flags, _Kind.LOOKAROUND, _render([(op, av)], self.names)))
            return _EMPTY
        if op is _c.GROUPREF_EXISTS:  # a conditional costs at most as much as both branches
            return self._alternatives(m, [av[1], av[2] or []], flags, loops)
        if op is not _c.AT:  # a backreference (or a construct this module does not know, refused as well)
            self.problems.append(
                f"uses {_render([(op, av)], self.names)}: a backreference can make matching take exponential "
                "time; match the text itself instead"
            )
        return _EMPTY

    def _position(self, m: _Machine, leaf: _Leaf, loops: tuple[int, ...]) -> _Frag:
        self.positions += 1
        if self.positions > _MAX_POSITIONS:
            raise _TooComplexError(
                f"is too complex to check for slow matching (more than {_MAX_POSITIONS:,} character positions "
                "once {m,n} repetitions are written out); use smaller counts"
            )
        index = len(m.leaves)
        m.leaves.append(self.leaves.setdefault(leaf, len(self.leaves)))
        m.loops.append(loops)
        return _Frag(0, {index: 1}, {index: 1})

    def _alternatives(self, m: _Machine, branches: Iterable[Any], flags: int, loops: tuple[int, ...]) -> _Frag:
        frags = [self._seq(m, branch, flags, loops) for branch in branches]
        nullable = min(sum(f.nullable for f in frags), _CAP)
        return _Frag(nullable, _merged(*(f.first for f in frags)), _merged(*(f.last for f in frags)))

    def _repeat(self, m: _Machine, node: tuple[Any, Any], flags: int, loops: tuple[int, ...]) -> _Frag:
        low, high, body = node[1]
        unbounded = high == _c.MAXREPEAT or high - low > _EXPANDED
        if low > _MAX_POSITIONS:
            raise _TooComplexError(f"repeats something at least {low:,} times; use a smaller count")
        simple = len(body) == 1 and body[0][0] in _CHAR_OPS
        if not simple and (low >= 2 or (high >= 2 and not unbounded)):  # iterations the count forces or allows
            m.children.append(self.machine(body, flags, _Kind.REPETITION, _render([node], self.names)))
        frag = _EMPTY
        for _ in range(low):
            frag = self._concat(m, frag, self._seq(m, body, flags, loops))
        if not unbounded:
            return self._concat(m, frag, self._optional(m, body, flags, loops, high - low))
        self.loop_texts.append(_render([node], self.names))
        inner = self._seq(m, body, flags, (*loops, len(self.loop_texts) - 1))
        m.link(inner.last, inner.first)  # the next iteration; re stops iterating after an empty one
        star = _Frag(min(1 + inner.nullable, _CAP), inner.first, _scaled(inner.last, 1 + inner.nullable))
        return self._concat(m, frag, star)

    def _optional(self, m: _Machine, body: Any, flags: int, loops: tuple[int, ...], count: int) -> _Frag:
        """Up to ``count`` more iterations; each one that consumed something may be followed by another."""
        tail = _EMPTY
        for _ in range(count):
            inner = self._seq(m, body, flags, loops)
            m.link(inner.last, tail.first)
            last = _merged(tail.last, _scaled(inner.last, tail.nullable))
            tail = _Frag(min(1 + inner.nullable, _CAP), inner.first, last)
        return tail


def _anchored(items: Sequence[Any], flags: int) -> bool:
    """Whether every match must start at the key's first character (``^`` outside MULTILINE, ``\\A``)."""
    if not items:
        return False
    op, av = items[0]
    if op is _c.AT:
        return av is _c.AT_BEGINNING_STRING or (av is _c.AT_BEGINNING and not flags & re.MULTILINE)
    if op is _c.SUBPATTERN:
        return _anchored(av[3], (flags | av[1]) & ~av[2])
    if op is _c.BRANCH:
        return all(_anchored(branch, flags) for branch in av[1])
    return False


# --- Characters --------------------------------------------------------------------------------


class _Cell(NamedTuple):
    """Code points [low, high) that the pattern's classes cannot tell apart.

    A single character (``vector`` None), or the characters of one (is \\d, is \\w, is \\s)
    ``vector`` in an interval between characters the pattern names; ``cased``: it may hold a
    letter with case variants, which a case-insensitive class may match without naming it.
    """

    low: int
    high: int
    vector: tuple[bool, bool, bool] | None = None
    cased: bool = False


class _Alphabet:
    """Each character class as a bit mask over cells."""

    def __init__(self, leaves: Iterable[_Leaf]) -> None:
        bounds = {*range(129), sys.maxunicode + 1}  # every ASCII character is a cell of its own
        for leaf in leaves:
            bounds.update(_bounds(leaf))
        self.cells = [cell for low, high in pairwise(sorted(bounds)) for cell in _cells(low, high)]
        self.everything = (1 << len(self.cells)) - 1
        self._single = [i for i, cell in enumerate(self.cells) if cell.vector is None]
        self._text = "".join(chr(self.cells[i].low) for i in self._single)

    def mask(self, leaf: _Leaf) -> int:
        matcher = re.compile(_flag_prefix(leaf.flags) + _render_leaf(leaf.op, leaf.av))
        bits = 0
        for found in matcher.finditer(self._text):  # exact for single characters: re itself decides
            bits |= 1 << self._single[found.start()]
        relevant = _case_relevant(leaf)
        for i, cell in enumerate(self.cells):
            if cell.vector is not None and _cell_member(leaf, cell, relevant):
                bits |= 1 << i
        return bits


def _cells(low: int, high: int) -> list[_Cell]:
    if high - low == 1:
        return [_Cell(low, high)]
    if high - low > _SCAN:  # assume every kind of character is there
        return [_Cell(low, high, vector, vector in _CASED_VECTORS) for vector in _VECTORS]
    text = "".join(map(chr, range(low, high)))
    digits, words, spaces = (len(matcher.findall(text)) for matcher in _CLASSES)
    present = (digits > 0, words > digits, spaces > 0, words + spaces < len(text))  # \d within \w, \w apart from \s
    cased = _has_cased(text)
    return [
        _Cell(low, high, vector, cased and vector in _CASED_VECTORS)
        for vector, here in zip(_VECTORS, present, strict=True)
        if here
    ]


def _bounds(leaf: _Leaf) -> list[int]:
    items = leaf.av if leaf.op is _c.IN else [(leaf.op, leaf.av)]
    out: list[int] = []
    for op, av in items:
        if op in (_c.LITERAL, _c.NOT_LITERAL):
            out += [av, av + 1]
        elif op is _c.RANGE:
            out += [av[0], av[1] + 1]
    return out


def _cell_member(leaf: _Leaf, cell: _Cell, case_relevant: bool) -> bool:
    """Whether the characters of a multi-character cell belong to ``leaf`` (True when unsure)."""
    assert cell.vector is not None
    if case_relevant and cell.cased:
        return True  # a letter here may be a case variant of one the class names
    if leaf.op is _c.LITERAL:
        return False  # named characters are cells of their own
    if leaf.op in (_c.NOT_LITERAL, _c.ANY):
        return True  # '\n', the one character '.' excludes, is ASCII
    ascii_only = bool(leaf.flags & re.ASCII)
    hit = any(_item_member(op, av, cell, ascii_only) for op, av in leaf.av)
    return hit != (leaf.av[0][0] is _c.NEGATE)


def _item_member(op: Any, av: Any, cell: _Cell, ascii_only: bool) -> bool:
    assert cell.vector is not None
    if op is _c.RANGE:
        return bool(av[0] <= cell.low and cell.high - 1 <= av[1])
    if op is _c.CATEGORY:
        axis, positive, _ = _CATEGORIES[av]
        return (cell.vector[axis] and not ascii_only) == positive
    return False


def _case_relevant(leaf: _Leaf) -> bool:
    """Whether case-insensitive matching could make ``leaf`` accept a letter it does not name."""
    if not leaf.flags & re.IGNORECASE or leaf.op is _c.ANY:
        return False
    items = leaf.av if leaf.op is _c.IN else [(_c.LITERAL, leaf.av)]
    for op, av in items:
        if op is _c.LITERAL and _has_cased(chr(av)):
            return True
        if op is _c.RANGE and (av[1] - av[0] >= _SCAN or _has_cased("".join(map(chr, range(av[0], av[1] + 1))))):
            return True
    return False


def _has_cased(text: str) -> bool:
    return text.lower() != text or text.upper() != text or text.casefold() != text


def _flag_prefix(flags: int) -> str:
    letters = "".join(letter for flag, letter in _FLAG_LETTERS if flags & flag)
    return f"(?{letters})" if letters else ""


# --- Rendering (for messages, and the one-character patterns that classify characters) ---------


def _char(code: int) -> str:
    char = chr(code)
    if char.isprintable():
        return re.escape(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _render_leaf(op: Any, av: Any) -> str:
    if op is _c.LITERAL:
        return _char(av)
    if op is _c.NOT_LITERAL:
        return f"[^{_char(av)}]"
    if op is _c.ANY:
        return "."
    if len(av) == 1 and av[0][0] is _c.CATEGORY:
        return _CATEGORIES[av[0][1]][2]
    parts = ["^" if o is _c.NEGATE else _render_set_item(o, a) for o, a in av]
    return "[" + "".join(parts) + "]"


def _render_set_item(op: Any, av: Any) -> str:
    if op is _c.RANGE:
        return f"{_char(av[0])}-{_char(av[1])}"
    return _CATEGORIES[av][2] if op is _c.CATEGORY else _char(av)


def _render(items: Iterable[Any], names: dict[int, str]) -> str:
    return "".join(_render_item(op, av, names) for op, av in items)


def _render_item(op: Any, av: Any, names: dict[int, str]) -> str:
    if op in _CHAR_OPS:
        return _render_leaf(op, av)
    if op is _c.BRANCH:
        return "(?:" + "|".join(_render(branch, names) for branch in av[1]) + ")"
    if op is _c.SUBPATTERN:
        return _render_group(av, names)
    if op in _REPEATS:
        return _render_repeat(op, av, names)
    if op is _c.ATOMIC_GROUP:
        return f"(?>{_render(av, names)})"
    if op in (_c.ASSERT, _c.ASSERT_NOT):
        kind = ("<" if av[0] < 0 else "") + ("=" if op is _c.ASSERT else "!")
        return f"(?{kind}{_render(av[1], names)})"
    if op is _c.GROUPREF:
        return f"(?P={names[av]})" if av in names else f"\\{av}"
    if op is _c.GROUPREF_EXISTS:
        no = f"|{_render(av[2], names)}" if av[2] else ""
        return f"(?({names.get(av[0], av[0])}){_render(av[1], names)}{no})"
    return _ANCHORS.get(av, "") if op is _c.AT else str(op)


def _render_group(av: Any, names: dict[int, str]) -> str:
    group, _, _, items = av
    inner = _render(items, names)
    if len(items) == 1 and items[0][0] is _c.BRANCH:
        inner = inner[3:-1]  # the group already delimits the alternatives
    opening = "(?:" if group is None else f"(?P<{names[group]}>" if group in names else "("
    return f"{opening}{inner})"


def _render_repeat(op: Any, av: Any, names: dict[int, str]) -> str:
    low, high, body = av
    inner = _render(body, names)
    if not (len(body) == 1 and body[0][0] in _WRAPPED):
        inner = f"(?:{inner})"
    if high == _c.MAXREPEAT:
        count = {0: "*", 1: "+"}.get(low, f"{{{low},}}")
    else:
        count = "?" if (low, high) == (0, 1) else f"{{{low}}}" if low == high else f"{{{low},{high}}}"
    return inner + count + ("?" if op is _c.MIN_REPEAT else "+" if op is _c.POSSESSIVE_REPEAT else "")


# --- The analysis ------------------------------------------------------------------------------


class _Verdict(NamedTuple):
    degree: int | None
    culprits: tuple[str, ...]


class _Graph:
    """A machine's automaton; a second way into a state becomes a twin state, so paths stay distinct."""

    def __init__(self, m: _Machine, labels: list[int], everything: int) -> None:
        size = len(m.leaves)
        self.start = size
        self.label = [labels[leaf] for leaf in m.leaves] + [0]
        self.loops = [*m.loops, ()]
        edges = dict(m.follow)
        edges.update(((self.start, v), ways) for v, ways in m.first.items())
        self.prefix = None if m.anchored else size + 1
        if self.prefix is not None:  # re.search: any number of characters skipped before the match
            self.label.append(everything)
            self.loops.append(())
            edges.update({(self.start, self.prefix): 1, (self.prefix, self.prefix): 1})
            edges.update(((self.prefix, v), ways) for v, ways in m.first.items())
        twins: dict[int, int] = {}
        for (_, v), ways in edges.items():
            if ways > 1 and v not in twins:
                twins[v] = len(self.label)
                self.label.append(self.label[v])
                self.loops.append(self.loops[v])
        self.succ: list[list[int]] = [[] for _ in self.label]
        for (u, v), ways in edges.items():
            self.succ[u] += [v, twins[v]] if ways > 1 else [v]
        for v, twin in twins.items():
            self.succ[twin] = self.succ[v]

    def reachable(self, state: int) -> set[int]:
        seen = {state}
        frontier = [state]
        while frontier:
            for nxt in self.succ[frontier.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        return seen


class _Analysis:
    def __init__(self, build: _Build) -> None:
        self.build = build
        alphabet = _Alphabet(build.leaves)
        self.everything = alphabet.everything
        self.labels = [alphabet.mask(leaf) for leaf in build.leaves]
        self.budget = _Budget()
        self._verdicts: dict[int, _Verdict] = {}

    def verdict(self, index: int) -> _Verdict:
        """The machine's own cost times that of the costliest lookaround it tries (repetitions: ambiguity only)."""
        if index not in self._verdicts:
            self._verdicts[index] = self._verdict(self.build.machines[index])
        return self._verdicts[index]

    def _verdict(self, m: _Machine) -> _Verdict:
        own = self._own(m)
        worst = 0
        worst_text: tuple[str, ...] = ()
        for child in m.children:
            verdict = self.verdict(child)
            if verdict.degree is None:
                return verdict
            if verdict.degree > worst:
                text = self.build.machines[child].text
                worst, worst_text = verdict.degree, tuple(f"{c} (in the lookaround {text})" for c in verdict.culprits)
        if own.degree is None or m.kind == _Kind.REPETITION:
            return own
        return _Verdict(own.degree + worst, own.culprits + worst_text)

    def _own(self, m: _Machine) -> _Verdict:
        graph = _Graph(m, self.labels, self.everything)
        components = _components([graph.start], graph.succ.__getitem__, self.budget)
        loops = [c for c in reversed(components) if len(c) > 1 or c[0] in graph.succ[c[0]]]
        for component in loops:
            if _exponential(graph, set(component), self.budget):
                return _Verdict(None, (self._name(graph, component, m),))
        if m.kind == _Kind.REPETITION:
            return _Verdict(0, ())
        chain = self._chain(graph, loops)
        return _Verdict(len(chain), tuple(self._name(graph, c, m) for c in chain))

    def _chain(self, graph: _Graph, loops: list[list[int]]) -> list[list[int]]:
        """The longest sequence of loops (in order) each of which can read the same text as the next."""
        reach = [graph.reachable(loop[0]) for loop in loops]
        best: list[list[list[int]]] = []
        for j, target in enumerate(loops):
            chain = [target]
            for i in sorted(range(j), key=lambda i: -len(best[i])):  # the longest chain that links wins
                if target[0] in reach[i] and self._linked(graph, loops[i], target):
                    chain = [*best[i], target]
                    break
            best.append(chain)
        return max(best, key=len, default=[])

    def _linked(self, graph: _Graph, source: list[int], target: list[int]) -> bool:
        """Some p in source and q in target read one word w as p -> p, p -> q and q -> q."""
        first, second = set(source), set(target)
        succ, label = graph.succ, graph.label

        def step(node: tuple[int, int, int]) -> list[tuple[int, int, int]]:
            x, y, z = node
            return [
                (x2, y2, z2)
                for x2 in succ[x]
                if x2 in first
                for y2 in succ[y]
                if label[x2] & label[y2]
                for z2 in succ[z]
                if z2 in second and label[x2] & label[y2] & label[z2]
            ]

        return any(_reaches(step, (p, p, q), (p, q, q), self.budget) for p in source for q in target)

    def _name(self, graph: _Graph, component: list[int], m: _Machine) -> str:
        if graph.prefix in component:
            return _SEARCH
        shared = _common_prefix([graph.loops[state] for state in component])
        return self.build.loop_texts[shared[0]] if shared else m.text  # the outermost loop closes the cycle


def _common_prefix(sequences: list[tuple[int, ...]]) -> tuple[int, ...]:
    shortest = min(sequences, key=len)
    for i, item in enumerate(shortest):
        if any(seq[i] != item for seq in sequences):
            return shortest[:i]
    return shortest


def _exponential(graph: _Graph, members: set[int], budget: _Budget) -> bool:
    """Two different cycles through one state read the same text (a loop's pair product)."""
    succ, label = graph.succ, graph.label

    def step(node: tuple[int, int]) -> list[tuple[int, int]]:
        a, b = node
        return [(x, y) for x in succ[a] if x in members for y in succ[b] if y in members and label[x] & label[y]]

    for component in _components([(q, q) for q in members], step, budget):
        if any(a == b for a, b in component) and any(a != b for a, b in component):
            return True
    return False


def _reaches(step: Callable[[_Node], list[_Node]], start: _Node, target: _Node, budget: _Budget) -> bool:
    seen: set[_Node] = set()
    frontier = step(start)
    while frontier:
        node = frontier.pop()
        if node == target:
            return True
        if node not in seen:
            seen.add(node)
            budget.spend()
            frontier += step(node)
    return False


def _components(roots: Iterable[_Node], step: Callable[[_Node], list[_Node]], budget: _Budget) -> list[list[_Node]]:
    """Strongly connected components reachable from ``roots`` (Tarjan), each after those it reaches."""
    index: dict[_Node, int] = {}
    low: dict[_Node, int] = {}
    stack: list[_Node] = []
    on_stack: set[_Node] = set()
    out: list[list[_Node]] = []

    def open_(node: _Node) -> None:
        budget.spend()
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)

    for root in roots:
        if root in index:
            continue
        open_(root)
        work = [(root, iter(step(root)))]
        while work:
            node, pending = work[-1]
            for nxt in pending:
                if nxt not in index:
                    open_(nxt)
                    work.append((nxt, iter(step(nxt))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    cut = stack.index(node)
                    out.append(stack[cut:])
                    on_stack.difference_update(out[-1])
                    del stack[cut:]
    return out
