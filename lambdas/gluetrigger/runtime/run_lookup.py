"""Find a job run again by its run-key argument: how an unknown StartJobRun outcome is settled.

When an earlier attempt may have started the run (its response was lost, it timed out after
sending, the function died before recording the result), starting again could start a second
run. Instead the runtime asks Glue: GetJobRuns lists the job's runs with their arguments, and a
run whose run-key argument carries this planned run's key is the one to adopt.

The search is bounded, because GetJobRuns has no filter: at most ``max_pages`` pages of
``page_size`` runs, and only runs started at or after ``not_before`` count (the earliest time
the earlier attempt can have sent its request, less a clock-skew allowance). Glue lists the
newest runs first, so a descending page whose oldest run is before the window ends the search;
an emulator that lists oldest first is still searched correctly, page by page, up to the bound.
A lookup that cannot finish (GetJobRuns failing, or no time left) raises
:class:`RunLookupError`: the outcome stays unknown and the caller must not start the run.

The same reader counts a job's active runs (:meth:`RunLookup.count_active`), which is how
backpressure holds a run back before Glue refuses it (:mod:`gluetrigger.runtime.capacity`).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from gluetrigger.core.errors import GlueTriggerError
from gluetrigger.runtime.aws_clients import GLUE_CALL_BUDGET_MS, RECORDING_MARGIN_MS
from gluetrigger.runtime.failures import classify
from gluetrigger.runtime.values import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["ACTIVE_STATES", "FoundRun", "LookupBounds", "RunLookup", "RunLookupError"]

# The states of a run that holds one of its job's concurrent-run slots.
ACTIVE_STATES = frozenset({"STARTING", "RUNNING", "STOPPING", "WAITING"})
# Glue stops a run after its timeout, at most 7 days: an older run holds no slot.
LONGEST_RUN = timedelta(days=7)


class RunLookupError(GlueTriggerError):
    """GetJobRuns could not say whether the run exists: its outcome stays unknown."""


@dataclass(frozen=True, eq=False, repr=False)
class FoundRun(FrozenValue):
    """The run an earlier attempt started."""

    job_run_id: str
    state: str | None


@dataclass(frozen=True, eq=False, repr=False)
class LookupBounds(FrozenValue):
    """How far a lookup searches, and how long it may take.

    ``clock_skew_seconds`` widens the window below ``not_before``: Glue stamps StartedOn with
    its own clock. ``call_budget_ms`` is what one GetJobRuns call may take (the Glue client's
    connect and read timeouts) plus a margin, so that a lookup never starts a call it cannot
    finish before the invocation's deadline.
    """

    max_pages: int = 10
    page_size: int = 200
    # Active runs are among the newest: counting them reads fewer pages than a lookup may.
    active_max_pages: int = 2
    clock_skew_seconds: int = 300
    max_attempts: int = 4
    base_delay_seconds: float = 0.2
    call_budget_ms: int = GLUE_CALL_BUDGET_MS + RECORDING_MARGIN_MS


class RunLookup:
    """Searches one job's runs for a run-key argument through one Glue client."""

    def __init__(self, client: Any, bounds: LookupBounds | None = None) -> None:
        self._client = client
        self._bounds = bounds or LookupBounds()
        self._rng = random.SystemRandom()

    def find(
        self, job_name: str, argument: str, key: str, not_before: datetime, remaining_ms: Callable[[], int]
    ) -> FoundRun | None:
        """The run of ``job_name`` whose ``argument`` is ``key``, None when there is none in the window."""
        window_start = not_before - timedelta(seconds=self._bounds.clock_skew_seconds)
        for run, page_is_done in self._runs(job_name, window_start, remaining_ms):
            if (run.get("Arguments") or {}).get(argument) == key:
                return FoundRun(str(run["Id"]), run.get("JobRunState"))
            if page_is_done:
                break
        return None

    def count_active(self, job_name: str, limit: int, remaining_ms: Callable[[], int]) -> int:
        """How many of ``job_name``'s runs are active, counted up to ``limit`` (the count stops there).

        RunLookupError when GetJobRuns fails, or the runs read leave fewer than ``limit`` active
        and more remain: the count is unknown.
        """
        active = 0
        window_start = datetime.now(UTC) - LONGEST_RUN
        for run, _ in self._runs(job_name, window_start, remaining_ms, self._bounds.active_max_pages):
            active += run.get("JobRunState") in ACTIVE_STATES
            if active >= limit:
                break
        return active

    def _runs(
        self, job_name: str, window_start: datetime, remaining_ms: Callable[[], int], max_pages: int | None = None
    ) -> Iterator[tuple[dict[str, Any], bool]]:
        """Each run in the window, paired with whether the search may stop after it."""
        token: str | None = None
        max_pages = max_pages or self._bounds.max_pages
        for _ in range(max_pages):
            page = self._page(job_name, token, remaining_ms)
            runs: list[dict[str, Any]] = page.get("JobRuns") or []
            past_window = _newest_first(runs) and bool(runs) and _started(runs[-1]) < window_start
            for index, run in enumerate(runs):
                if _started(run) >= window_start:
                    yield run, past_window and index == len(runs) - 1
            token = page.get("NextToken")
            if not token or past_window:
                return
        raise RunLookupError(
            f"GetJobRuns: the first {max_pages} pages of {job_name}'s runs did not settle it and more remain; "
            "the outcome stays unknown"
        )

    def _page(self, job_name: str, token: str | None, remaining_ms: Callable[[], int]) -> dict[str, Any]:
        request: dict[str, Any] = {"JobName": job_name, "MaxResults": self._bounds.page_size}
        if token:
            request["NextToken"] = token
        for attempt in range(1, self._bounds.max_attempts + 1):
            if remaining_ms() < self._bounds.call_budget_ms:
                raise RunLookupError("GetJobRuns: no time left in this invocation to look the run up")
            try:
                page: dict[str, Any] = self._client.get_job_runs(**request)
            except Exception as error:
                failure = classify(error)
                if failure is None:
                    raise
                if not failure.retryable or attempt == self._bounds.max_attempts:
                    raise RunLookupError(f"GetJobRuns failed with {failure.code}: {failure.message}") from error
                cap = self._bounds.base_delay_seconds * 2 ** (attempt - 1)
                time.sleep(self._rng.uniform(0, cap))
                continue
            return page
        raise RunLookupError("GetJobRuns: no attempt left")  # unreachable: the loop returns or raises


def _started(run: dict[str, Any]) -> datetime:
    started = run.get("StartedOn")
    if isinstance(started, datetime):
        return started if started.tzinfo is not None else started.replace(tzinfo=UTC)
    # No start time: keep the run in the window rather than miss it.
    return datetime.max.replace(tzinfo=UTC) if started is None else datetime.fromtimestamp(float(started), UTC)


def _newest_first(runs: list[dict[str, Any]]) -> bool:
    return len(runs) < 2 or _started(runs[0]) >= _started(runs[-1])
