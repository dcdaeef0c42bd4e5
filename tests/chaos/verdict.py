"""Judge a chaos run by its outcome only: the runs Glue shows, the DLQ's messages, the handler's log.

Every event must end in exactly one of the ways the service promises (README, "Nothing lost
silently"): one run, ignored with a reason, or in the dead-letter queue with a reason. Which
ending counts depends on what the event was built to be:

- a "start" event: exactly one run; or, if the chaos kept it from starting until the handler gave
  up on it, no run and a DLQ message with a reason (an operator can redrive it). Such events are
  counted apart: a handler that gave up too easily would show there;
- an "ignore" event: no run, and an "event ignored" log line naming it (the line holds the reason);
- a "dlq" event: no run, and a DLQ message carrying it with a non-empty ``gluetrigger-reason``.

An event with more than one run is a duplicate; any other event without its ending is lost. A
DLQ message without a reason is counted whatever its event became: it is what SQS puts there
when a message exhausts its receives, and no operator can tell from it what went wrong.

When runs carry the handler's run key (``--gluetrigger-run-key``), all runs of one event must
carry the same one, and runs without one are counted.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.chaos.scenario import ChaosEvent

__all__ = ["RUN_KEY_ARGUMENT", "DeadLetter", "Judgement", "Observed", "Run", "judge"]

RUN_KEY_ARGUMENT = "--gluetrigger-run-key"
# The per-event list a failed run prints is cut here: the first few tell a developer where to look.
MAX_PROBLEMS = 20
RUN_ID_SHOWN = 15  # characters of a JobRunId ("jr_" and 64 hex digits) a problem line shows
KEYLESS_SHOWN = 5  # runs without a run key named in the problem line about them


@dataclass(frozen=True)
class Run:
    """One job run GetJobRuns shows: which event it names, and the run key it carries if any."""

    job_run_id: str
    marker: str | None
    run_key: str | None

    def describe(self) -> str:
        """The run's id, cut (the event's marker finds it again), and its run key if it has one."""
        short = self.job_run_id[:RUN_ID_SHOWN] + "..." if len(self.job_run_id) > RUN_ID_SHOWN else self.job_run_id
        return short if self.run_key is None else f"{short} (run key {self.run_key})"


@dataclass(frozen=True)
class DeadLetter:
    """One DLQ message: the event it carries (by id, if found in its body) and its reason attribute."""

    event_id: str | None
    reason: str | None


@dataclass
class Observed:
    """What the run left behind, read after the queues drained."""

    runs: list[Run] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    ignored: set[str] = field(default_factory=set)  # ids of events an "event ignored" line names


@dataclass(frozen=True)
class Judgement:
    """The verdict's figures, and what went wrong, one line per event (all of them; cut when printed)."""

    runs: int
    duplicates: int
    lost: int
    ignored: int
    dead_lettered_starts: int  # start events that ended in the DLQ with a reason instead of running
    dlq: int
    dlq_without_reason: int
    runs_without_run_key: int
    problems: list[str]

    @property
    def passed(self) -> bool:
        return self.duplicates == 0 and self.lost == 0 and self.dlq_without_reason == 0


def judge(events: list[ChaosEvent], observed: Observed) -> Judgement:
    """Compare each event's expected ending with what ``observed`` shows."""
    problems: list[str] = []
    runs, letters = _by_event(events, observed, problems)
    duplicates = lost = ignored = dead_lettered_starts = 0
    for event in events:
        mine, dead = runs[event.number], letters[event.number]
        ending = _ending(event, mine, dead, event.event_id in observed.ignored)
        duplicates += len(mine) > 1
        lost += ending is not None and len(mine) <= 1
        ignored += event.expect == "ignore" and ending is None
        dead_lettered_starts += event.expect == "start" and ending is None and not mine
        complaints = _complaints(ending, mine, dead)
        if complaints:
            problems.append(f"{event.describe()}: {'; '.join(complaints)}")
    keyless = [r for r in observed.runs if r.run_key is None]
    if keyless and len(keyless) < len(observed.runs):
        shown = ", ".join(r.describe() for r in keyless[:KEYLESS_SHOWN])
        problems.append(f"{len(keyless)} run(s) carry no run key while the others do: {shown}")
    return Judgement(
        runs=len(observed.runs),
        duplicates=duplicates,
        lost=lost,
        ignored=ignored,
        dead_lettered_starts=dead_lettered_starts,
        dlq=len(observed.dead_letters),
        dlq_without_reason=sum(not letter.reason for letter in observed.dead_letters),
        runs_without_run_key=len(keyless),
        problems=problems,
    )


def _by_event(
    events: list[ChaosEvent], observed: Observed, problems: list[str]
) -> tuple[dict[int, list[Run]], dict[int, list[DeadLetter]]]:
    """Runs (by the marker they carry) and DLQ messages (by the event id in them) per event number.

    What belongs to no event is a problem of its own: the suite made every event there is.
    """
    by_marker = {e.marker: e.number for e in events if e.marker is not None}
    by_id = {e.event_id: e.number for e in events}
    runs: dict[int, list[Run]] = defaultdict(list)
    letters: dict[int, list[DeadLetter]] = defaultdict(list)
    for run in observed.runs:
        if run.marker in by_marker:
            runs[by_marker[run.marker]].append(run)
        else:
            problems.append(f"run {run.job_run_id} names no event of this run ({run.marker!r})")
    for letter in observed.dead_letters:
        if letter.event_id in by_id:
            letters[by_id[letter.event_id]].append(letter)
        else:
            problems.append(f"a DLQ message carries no event of this run (reason: {letter.reason!r})")
    return runs, letters


def _ending(event: ChaosEvent, runs: list[Run], letters: list[DeadLetter], logged_ignored: bool) -> str | None:
    """Why the event did not end as it should; None when it did."""
    explained = any(letter.reason for letter in letters)
    if len(runs) > 1:
        return f"{len(runs)} runs: " + ", ".join(r.describe() for r in runs)
    if event.expect == "start":
        if runs or explained:
            return None
        return "no run, and not in the DLQ with a reason"
    if runs:
        return f"expected {event.expect}, got run {runs[0].job_run_id}"
    if event.expect == "ignore":
        return None if logged_ignored else "no run, but no 'event ignored' log line names it"
    return None if explained else "not in the DLQ with a reason"


def _complaints(ending: str | None, runs: list[Run], letters: list[DeadLetter]) -> list[str]:
    """Every problem of one event: its ending, DLQ messages without a reason, run keys that differ."""
    complaints = [ending] if ending is not None else []
    silent = sum(not letter.reason for letter in letters)
    if silent:
        complaints.append(f"{silent} DLQ message(s) without a reason")
    keys = {r.run_key for r in runs if r.run_key is not None}
    if len(keys) > 1:
        complaints.append(f"its runs carry {len(keys)} different run keys")
    return complaints
