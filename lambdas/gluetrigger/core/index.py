"""Which triggers an event can concern, found without trying every trigger.

Matching used to try every trigger on every event: at 1,000 triggers an EventBridge event cost
hundreds of microseconds, most of it on triggers that could never match it. The index, built once
with the planner, narrows an event to its candidates:

* an S3 event to the s3 triggers of its bucket whose prefix starts its key (a dict of prefixes per
  bucket, looked up once per distinct prefix length);
* an EventBridge event to the event triggers whose pattern requires, of ``source`` and
  ``detail-type``, plain values the event has; a pattern that uses an operator on both, or names
  neither, cannot be indexed by them and is a candidate for every event.

Schedules need no index here: a scheduled event names its owner (:func:`~gluetrigger.core.naming.schedule_owner`).
The index never decides a match, it only leaves out triggers that cannot match: the planner checks
every candidate in full, and candidates come in config order, so the plan is the one a scan of
every trigger gives (tests/unit/test_index.py compares the two).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from gluetrigger.core.model import EventSource, S3Source

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from gluetrigger.core.model import Trigger
    from gluetrigger.core.patterns import CompiledPattern, FlatEvent

__all__ = ["EventEntry", "EventIndex", "S3Entry", "S3Index"]

# The envelope fields EventBridge events are indexed by: every event has both, as strings.
_SOURCE = "source"
_DETAIL_TYPE = "detail-type"
# Distinct (source, detail-type) pairs whose explanations EventIndex.misses keeps: events of a
# few kinds recur, and the bound keeps hostile variety from growing the cache.
_KEPT_PAIRS = 64

# A trigger's place in the config, and why its pattern does not match: "name: path: reason".
_Explained: TypeAlias = tuple[int, str]


@dataclass(frozen=True)
class S3Entry:
    """An s3 trigger and its place in the config (candidates keep config order)."""

    position: int
    trigger: Trigger
    source: S3Source


@dataclass(frozen=True)
class EventEntry:
    """An event trigger, its pattern compiled once, and its place in the config."""

    position: int
    trigger: Trigger
    pattern: CompiledPattern


class S3Index:
    """s3 triggers by bucket, then by prefix."""

    def __init__(self, triggers: Iterable[Trigger]) -> None:
        self._by_bucket: dict[str, list[S3Entry]] = {}
        self._by_prefix: dict[str, dict[str, list[S3Entry]]] = {}
        for position, trigger in enumerate(triggers):
            if isinstance(trigger.source, S3Source):
                entry = S3Entry(position, trigger, trigger.source)
                self._by_bucket.setdefault(entry.source.bucket, []).append(entry)
                self._by_prefix.setdefault(entry.source.bucket, {}).setdefault(entry.source.prefix, []).append(entry)
        # Shortest first; an empty prefix (any key) has length 0.
        self._lengths = {
            bucket: sorted({len(prefix) for prefix in prefixes}) for bucket, prefixes in self._by_prefix.items()
        }

    def on_bucket(self, bucket: str) -> Sequence[S3Entry]:
        """Every s3 trigger on ``bucket``, in config order: those an explanation of a miss names."""
        return self._by_bucket.get(bucket, ())

    def candidates(self, bucket: str, key: str) -> list[S3Entry]:
        """The s3 triggers on ``bucket`` whose prefix starts ``key``, in config order.

        Suffix and key_pattern are left to the caller, which needs the key_pattern's groups anyway.
        """
        prefixes = self._by_prefix.get(bucket)
        if prefixes is None:
            return []
        groups = [prefixes[key[:length]] for length in self._lengths[bucket] if key[:length] in prefixes]
        if len(groups) == 1:
            return groups[0]
        return sorted(itertools.chain.from_iterable(groups), key=_position)


class EventIndex:
    """Event triggers by the plain values their patterns require of ``source`` and ``detail-type``."""

    def __init__(self, triggers: Iterable[Trigger]) -> None:
        self.entries = _event_entries(triggers)  # config order: the order of an explanation's misses
        # The top-level keys of an event some pattern reads: the only ones worth flattening.
        self.roots: frozenset[str] = frozenset().union(*(entry.pattern.roots for entry in self.entries))
        self._by_pair: dict[tuple[str, str], list[EventEntry]] = {}
        self._by_source: dict[str, list[EventEntry]] = {}
        self._by_type: dict[str, list[EventEntry]] = {}
        self._unindexed: list[EventEntry] = []
        # The fields at the head of each pattern that require plain values of source or detail-type.
        self._leads: dict[int, list[tuple[str, frozenset[str]]]] = {}
        self._kept: dict[tuple[str, str], tuple[tuple[_Explained, ...], tuple[EventEntry, ...]]] = {}
        for entry in self.entries:
            lead = list(itertools.takewhile(_indexed, entry.pattern.leading_exact()))
            if lead:
                self._leads[entry.position] = lead
            sources = entry.pattern.exact_values(_SOURCE)
            types = entry.pattern.exact_values(_DETAIL_TYPE)
            if sources is not None and types is not None:
                for pair in itertools.product(sources, types):
                    self._by_pair.setdefault(pair, []).append(entry)
            elif sources is not None:
                for source in sources:
                    self._by_source.setdefault(source, []).append(entry)
            elif types is not None:
                for detail_type in types:
                    self._by_type.setdefault(detail_type, []).append(entry)
            else:
                self._unindexed.append(entry)

    def candidates(self, envelope: Mapping[str, Any]) -> Sequence[EventEntry]:
        """The event triggers whose pattern may match ``envelope``, in config order."""
        source, detail_type = envelope.get(_SOURCE), envelope.get(_DETAIL_TYPE)
        if not (isinstance(source, str) and isinstance(detail_type, str)):
            # Not an envelope normalize lets through; a list there could hold any value.
            return self.entries
        groups = [
            group
            for group in (
                self._by_pair.get((source, detail_type)),
                self._by_source.get(source),
                self._by_type.get(detail_type),
                self._unindexed,
            )
            if group
        ]
        if len(groups) == 1:
            return groups[0]
        return sorted(itertools.chain.from_iterable(groups), key=_position)

    def misses(self, envelope: Mapping[str, Any], flat: FlatEvent) -> list[str]:
        """Why each event trigger's pattern does not match, ``"name: path: reason"`` in config order;
        the matching ones left out.

        A pattern that begins with fields on source and detail-type, one of which refuses the
        event's value, is explained by that field alone, the same for every event of that source
        and detail-type: those explanations are kept, so an unmatched event costs only the others.
        """
        source, detail_type = envelope.get(_SOURCE), envelope.get(_DETAIL_TYPE)
        if not (isinstance(source, str) and isinstance(detail_type, str)):
            return [text for _, text in _explained(self.entries, flat)]
        kept = self._kept.get((source, detail_type))
        if kept is None:
            kept = self._keep(source, detail_type, flat)
        explained, others = kept
        if not others:
            return [text for _, text in explained]
        return [text for _, text in sorted([*explained, *_explained(others, flat)])]

    def _keep(
        self, source: str, detail_type: str, flat: FlatEvent
    ) -> tuple[tuple[_Explained, ...], tuple[EventEntry, ...]]:
        """The explanations that hold for every event of this source and detail-type, and the
        entries left to explain event by event."""
        values = {_SOURCE: source, _DETAIL_TYPE: detail_type}
        refused: list[EventEntry] = []
        others: list[EventEntry] = []
        for entry in self.entries:
            lead = self._leads.get(entry.position, ())
            (refused if any(values[path] not in allowed for path, allowed in lead) else others).append(entry)
        if len(self._kept) >= _KEPT_PAIRS:
            self._kept.clear()
        kept = self._kept[source, detail_type] = (tuple(_explained(refused, flat)), tuple(others))
        return kept


def _indexed(field: tuple[str, frozenset[str]]) -> bool:
    return field[0] in (_SOURCE, _DETAIL_TYPE)


def _explained(entries: Iterable[EventEntry], flat: FlatEvent) -> list[_Explained]:
    found = ((entry, entry.pattern.explain(flat)) for entry in entries)
    return [(entry.position, f"{entry.trigger.name}: {why[0]}: {why[1]}") for entry, why in found if why is not None]


def _event_entries(triggers: Iterable[Trigger]) -> tuple[EventEntry, ...]:
    """The event triggers among ``triggers``, each with its pattern compiled."""
    events = [
        (position, trigger, trigger.source)
        for position, trigger in enumerate(triggers)
        if isinstance(trigger.source, EventSource)
    ]
    if not events:
        return ()  # a function without event triggers never imports the pattern engine (cold start)
    from gluetrigger.core.patterns import CompiledPattern

    return tuple(EventEntry(position, trigger, CompiledPattern(source.pattern)) for position, trigger, source in events)


def _position(entry: S3Entry | EventEntry) -> int:
    return entry.position
