r"""How long ``re.search`` takes with key_patterns on crafted keys: the evidence behind the check.

Run with ``.venv/bin/python bench/key_patterns.py`` (a few minutes). For every pattern of the
corpus, the realistic ones the check accepts and the dangerous ones it refuses, it builds crafted
keys that know nothing of the check's analysis (:func:`crafted_keys`) and times the slowest of
them at 64, 256 and 1,024 characters; a key that takes longer than a second is stopped. It prints
a Markdown table: accepted patterns stay within milliseconds at 1,024 characters, refused ones take
more than a second well before that. ``tests/unit/test_key_patterns.py`` checks the verdicts on
the same corpus, and runs the accepted patterns on the same kind of keys.
"""

from __future__ import annotations

import re
import signal
import sys
import time
from collections.abc import Iterator
from types import FrameType
from typing import NamedTuple

from hypothesis import Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from gluetrigger.core.key_patterns import MAX_KEY_LENGTH, key_pattern_cost

# Key patterns the check accepts: the README's, triggers.yaml's and the tests', then realistic ones.
ACCEPTED = (
    r"^sales/(?P<day>\d{4}-\d{2}-\d{2})/(?P<file>[^/]+)$",
    r"^sales/(?P<day>[^/]+)/",
    r"^sales/\d{4}/",
    r"^(?:(?P<day>\d+)/)?x",
    r"^x/\d{9}$",
    r"(?P<key>.*)",
    r"\.(csv|json)$",
    r"(?i)\.(csv|tsv|json)(\.gz)?$",
    r"_SUCCESS$",
    r".*\.csv$",
    r"(?P<name>[^/]+)\.csv$",
    r"year=(?P<year>\d{4})/month=(?P<month>\d{2})/day=(?P<day>\d{2})/",
    r"^raw/(?P<source>[a-z0-9_-]+)/year=(?P<year>\d{4})/month=(?P<month>\d{2})/day=(?P<day>\d{2})/"
    r"(?P<file>[^/]+)\.parquet$",
    r"^(?P<table>[^/]+)/dt=(?P<dt>\d{4}-\d{2}-\d{2})/",
    r"^landing/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?P<h>\d{2})/",
    r"(?P<date>\d{8})_(?P<seq>\d+)\.csv$",
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}",
    r"(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
    r"^(?P<env>dev|test|prod)/(?P<kind>orders|returns)/",
    r"^in/(?P<name>[\w.-]+)\.(?P<ext>csv|json|parquet)$",
    r"^exports/(?P<tenant>[^/]+)/(?P<file>.+)\.csv$",
    r"^logs/(?P<service>[^/]+)/(?P<stamp>\d{4}/\d{2}/\d{2}/\d{2})/[^/]+\.gz$",
    r"^(?P<prefix>.+)/manifest\.json$",
    r"^(?:[^/]+/)*(?P<file>[^/]+)\.csv$",
    r"^(?P<dir>.*)/(?P<file>[^/]*)$",
    r"^(?P<dir>.*)/(?P<file>.*)\.csv$",
    r"^(?!.*/_temporary/).*\.parquet$",
    # Not realistic, but often taken for dangerous: repetitions with one way to match (re's parser
    # reads (a|ab) as a(?:|b): after an 'a', a 'b' or nothing).
    r"(a|ab)*$",
    r"(?:a+b)*$",
)

# Key patterns the check refuses, each because it really is slow.
REFUSED = (
    r"(a+)+$",
    r"(a*)*$",
    r"(a|a)*$",
    r"(\w+\s?)*$",
    r"(?:ab|a.)*$",
    r"(?:x{1,3})*$",
    r"^(?P<path>(?:\w+/?)+)\.csv$",
    r"(?:a?){16}b",
    r"\d+\d+\d+x",
    r"^\d+\d+\d+x",
    r".*.*.*=",
    r".*.*=",
    r"(?P<dir>.*)/(?P<file>.*)\.csv$",
    r"(?P<name>.+)_(?P<rest>.+)\.csv$",
)

# Characters every crafted key family tries, besides those the pattern names.
PROBE_CHARACTERS = "aZ09/._-= \n!é٣"
SIZES = (64, 256, MAX_KEY_LENGTH)
LIMIT_SECONDS = 1.0  # a key that takes longer is stopped
BUDGET_SECONDS = 60.0  # keys stop being tried after that long (the slowest so far is then a lower bound)


class TimeLimitError(Exception):
    """A search ran past its time limit and was interrupted."""


def sample(pattern: str) -> str:
    """A short text ``pattern`` finds: hypothesis's first example, its simplest (deterministic); or ''."""
    simplest = settings(database=None, derandomize=True, phases=[Phase.generate])
    try:
        found: str = find(st.from_regex(pattern), lambda _: True, settings=simplest)
    except Unsatisfiable:  # a pattern no text matches (or too rarely for hypothesis to find one)
        return ""
    return found


def crafted_keys(pattern: str, length: int = MAX_KEY_LENGTH, *, thorough: bool = True) -> Iterator[str]:
    """Keys of ``length`` characters meant to make backtracking slow, built without the analysis.

    Runs of every probe character and (``thorough``) of every pair of them; then a text the
    pattern matches, with each of its pieces of 1 to 3 characters (1 unless ``thorough``)
    repeated to fill the key, or a run of one probe character inserted at each place. Each is
    also followed by a character that can make the match fail. The probe characters are a few
    of every kind, and every character of the pattern's text.
    """
    text = sample(pattern)
    alphabet = sorted(set(PROBE_CHARACTERS) | set(text) | set(pattern))
    tails = ("!", "\n", "") if thorough else ("!",)
    for first in alphabet:
        for second in alphabet if thorough else (first,):
            for tail in tails:
                yield ((first + second) * length)[: length - len(tail)] + tail
    for tail in tails:
        room = max(length - len(text) - len(tail), 0)
        for start in range(len(text) + 1):
            for size in range(1, 4 if thorough else 2):
                piece = text[start : start + size]
                if len(piece) == size:
                    yield text[:start] + piece * (room // size + 1) + text[start + size :] + tail
            for char in alphabet if thorough else ("a",):
                yield text[:start] + char * room + text[start:] + tail


class Slowest(NamedTuple):
    """The slowest crafted key's time (None: one ran past the limit), and whether every key was tried."""

    seconds: float | None
    complete: bool = True


def slowest(
    pattern: str, length: int, *, thorough: bool = True, limit: float = LIMIT_SECONDS, budget: float = BUDGET_SECONDS
) -> Slowest:
    """How long ``re.search`` takes on the slowest crafted key; keys stop being tried after ``budget`` seconds.

    A search is interrupted after ``limit`` seconds by a timer signal (``re`` checks for signals
    while it matches), so this must run on the main thread.
    """
    compiled = re.compile(pattern)
    deadline = time.perf_counter() + budget
    times: list[tuple[float, str]] = []
    previous = signal.signal(signal.SIGALRM, _stop)
    try:
        for key in crafted_keys(pattern, length, thorough=thorough):
            times.append((_timed(compiled, key, limit), key))
            if time.perf_counter() > deadline:
                break
        # A machine shared with other work makes single timings noisy: the slowest keys again, best of three.
        worst = max(min(_timed(compiled, key, limit) for _ in range(3)) for _, key in sorted(times)[-5:])
    except TimeLimitError:
        return Slowest(None)
    finally:
        signal.signal(signal.SIGALRM, previous)
    return Slowest(worst, complete=time.perf_counter() <= deadline)


def _timed(compiled: re.Pattern[str], key: str, limit: float) -> float:
    started = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        compiled.search(key)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return time.perf_counter() - started


def _stop(signum: int, frame: FrameType | None) -> None:
    raise TimeLimitError


def _cell(found: Slowest) -> str:
    if found.seconds is None:
        return f"> {LIMIT_SECONDS:.0f} s"
    at_least = "" if found.complete else "≥ "
    return at_least + (f"{found.seconds:.1f} s" if found.seconds >= 1 else f"{found.seconds * 1000:.2f} ms")


def _verdict(pattern: str) -> str:
    cost = key_pattern_cost(pattern)
    growth = "exponential" if cost.degree is None else f"n^{cost.degree}"
    return f"{'refused' if cost.problems else 'accepted'}, {growth}"


def main() -> int:
    print(f"| key_pattern | check | slowest crafted key at {' / '.join(f'{n:,}' for n in SIZES)} characters |")
    print("| --- | --- | --- |")
    for pattern in (*ACCEPTED, *REFUSED):
        cells: list[str] = []
        for length in SIZES:
            stopped = any(cell.startswith((">", "-")) for cell in cells)
            cells.append("-" if stopped else _cell(slowest(pattern, length)))
        shown = pattern.replace("|", "\\|")  # a bar ends a Markdown table cell, even in code
        print(f"| `{shown}` | {_verdict(pattern)} | {' / '.join(cells)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
