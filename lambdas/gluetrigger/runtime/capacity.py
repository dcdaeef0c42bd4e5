"""Hold a run back before Glue refuses it: count the job's active runs against its limit.

At a job's concurrency limit every StartJobRun is refused (ConcurrentRunsExceededException), and
a burst of events calling it blindly wastes a call per event per try. The gate asks first, with
one GetJobRuns (the run lookup's reader, :meth:`~gluetrigger.runtime.run_lookup.RunLookup.count_active`),
and holds the run back, without calling StartJobRun, when the job already has as many active runs
as it may: the lower of the trigger's ``max_concurrent_runs`` and the job's own MaxConcurrentRuns
(GetJob, cached per container for :attr:`CapacityGate.limit_ttl_seconds`).

Asking costs a call, so it is done only when it is likely to save one:

- always, for a trigger with ``max_concurrent_runs`` (that is what the setting asks for);
- for an event that has waited for capacity before (it was deferred: the job was full then);
- for any event of a job that Glue refused for a slot earlier in the same invocation (the rest of
  an SQS batch would otherwise each make a call Glue refuses).

Otherwise (no refusal seen, no deferral) the common path makes no extra call. When the gate
cannot tell (GetJob or GetJobRuns fails, or no time is left for them) it lets the run through:
Glue's own limit still holds, and its refusal is handled like any other.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from gluetrigger.runtime.aws_clients import GLUE_CALL_BUDGET_MS, RECORDING_MARGIN_MS
from gluetrigger.runtime.failures import Failure
from gluetrigger.runtime.run_lookup import RunLookupError
from gluetrigger.runtime.values import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Callable

    from gluetrigger.core.model import Trigger
    from gluetrigger.runtime.run_lookup import RunLookup

__all__ = ["HELD_BACK_CODE", "Admission", "CapacityGate"]

# The code of a run held back by the gate: it never reached Glue.
HELD_BACK_CODE = "ConcurrentRunsAtLimit"
# Glue's default MaxConcurrentRuns, for a job whose ExecutionProperty does not say.
GLUE_DEFAULT_MAX_CONCURRENT_RUNS = 1


@dataclass(frozen=True, eq=False, repr=False)
class Admission(FrozenValue):
    """What the gate knows of a start: its invocation (Lambda's request id), and whether its event waited before."""

    invocation: str
    waited_before: bool


@dataclass
class _Limit:
    value: int | None  # None: unknown (GetJob failed)
    read_at: float


class CapacityGate:
    """Decides, before StartJobRun, whether a run must wait for one of its job's runs to finish.

    ``client`` is the Glue client (GetJob), ``lookup`` counts active runs; ``clock`` is monotonic
    seconds. Thread-safe: local mode invokes functions from several threads.
    """

    limit_ttl_seconds: float = 300.0

    def __init__(self, client: Any, lookup: RunLookup, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client
        self._lookup = lookup
        self._clock = clock
        self._lock = threading.Lock()
        self._full_in: dict[str, str] = {}  # job name -> the invocation in which Glue refused it a slot
        self._limits: dict[str, _Limit] = {}

    def note_full(self, job_name: str, admission: Admission) -> None:
        """Glue refused a run of ``job_name`` for a slot: check before its next calls in this invocation."""
        with self._lock:
            self._full_in[job_name] = admission.invocation

    def held_back(self, trigger: Trigger, admission: Admission, remaining_ms: Callable[[], int]) -> Failure | None:
        """Why ``trigger``'s run must wait for a slot now; None when it may be started (or nobody can tell)."""
        job = trigger.job.name
        with self._lock:
            refused_now = self._full_in.get(job) == admission.invocation
        if trigger.max_concurrent_runs is None and not admission.waited_before and not refused_now:
            return None
        limit = self._limit(job, trigger.max_concurrent_runs, remaining_ms)
        if limit is None:
            return None
        try:
            active = self._lookup.count_active(job, limit, remaining_ms)
        except RunLookupError:
            return None
        if active < limit:
            return None
        message = f"{active} run(s) of job {job} are active, its limit is {limit}: held back before StartJobRun"
        return Failure(HELD_BACK_CODE, message, retryable=True, from_glue=False, capacity=True)

    def _limit(self, job_name: str, configured: int | None, remaining_ms: Callable[[], int]) -> int | None:
        """The lower of ``configured`` and the job's MaxConcurrentRuns; whichever is known; None if neither."""
        own = self._job_limit(job_name, remaining_ms)
        known = [limit for limit in (configured, own) if limit is not None]
        return min(known) if known else None

    def _job_limit(self, job_name: str, remaining_ms: Callable[[], int]) -> int | None:
        now = self._clock()
        with self._lock:
            cached = self._limits.get(job_name)
        if cached is not None and now - cached.read_at < self.limit_ttl_seconds:
            return cached.value
        if remaining_ms() < GLUE_CALL_BUDGET_MS + RECORDING_MARGIN_MS:
            return None
        try:
            job = self._client.get_job(JobName=job_name)["Job"]
        except (BotoCoreError, ClientError):
            value = None  # remembered too: a role without glue:GetJob must not pay for a refusal per run
        else:
            runs = (job.get("ExecutionProperty") or {}).get("MaxConcurrentRuns")
            value = int(runs) if runs else GLUE_DEFAULT_MAX_CONCURRENT_RUNS
        with self._lock:
            self._limits[job_name] = _Limit(value, now)
        return value
