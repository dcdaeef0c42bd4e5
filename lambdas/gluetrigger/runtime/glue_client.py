"""The Glue adapter: StartJobRun, its errors sorted into retryable and permanent, bounded retries.

Whether a failed StartJobRun is worth retrying decides where an event ends up: a retryable
error (throttling, too many concurrent runs, a Glue-side fault, a network timeout) goes back
to the platform, which redelivers it later; a permanent one (no such job, an invalid request,
no permission) would fail the same way forever, so it must not be retried in a loop but reach
an operator with its reason. Before giving up on a retryable error this adapter retries a few
times in-process, with jittered exponential backoff, and only while the invocation has time
left for another attempt; except when Glue is at a concurrency limit (ConcurrentRunsExceeded,
ResourceNumberLimitExceeded), which only a finishing run lifts: that failure is returned at once,
marked as capacity, and the event waits for a slot (:mod:`gluetrigger.runtime.backpressure`).
botocore's own retries are off for Glue: with both layers retrying, one throttled call becomes a
storm of up to 4 x 4 requests that also overruns the deadline.

The starter logs nothing itself: it tells its caller of each retry (``on_retry``), and the
caller turns that into an outcome its observers see (:mod:`gluetrigger.runtime.starting`). Its
client, configured for one attempt per call, comes from :mod:`gluetrigger.runtime.aws_clients`.

Never resend a start whose outcome is unknown: every run carries its run-key argument
(:mod:`gluetrigger.core.run_key`), and when an attempt may have reached Glue without an answer
(a read timeout, a connection closed mid-call, a 5xx), the run is looked up by that key and
adopted if it exists; the request goes out again only when Glue's list shows it did not start.
Deadlines: no attempt begins unless it can finish (connect and read timeouts) with a margin
before the invocation's end, which leaves time to record the outcome.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gluetrigger.core.errors import GlueTriggerError
from gluetrigger.runtime.aws_clients import GLUE_CALL_BUDGET_MS, RECORDING_MARGIN_MS
from gluetrigger.runtime.failures import Failure, classify
from gluetrigger.runtime.run_lookup import RunLookup, RunLookupError
from gluetrigger.runtime.values import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "DEADLINE_FAILURE",
    "GlueJobStarter",
    "OnRetry",
    "RetryPolicy",
    "RunTag",
    "StartJobRunError",
    "StartOutcomeUnknownError",
    "Started",
]

# on_retry(failure, attempt, delay_seconds): attempt number ``attempt`` failed and is retried after the delay.
OnRetry = Callable[[Failure, int, float], None]


class StartJobRunError(GlueTriggerError):
    """StartJobRun failed for good in this invocation (after ``attempts`` attempts)."""

    def __init__(self, failure: Failure, attempts: int) -> None:
        self.failure = failure
        self.attempts = attempts
        super().__init__(f"StartJobRun failed with {failure.code} after {attempts} attempt(s): {failure.message}")


class StartOutcomeUnknownError(StartJobRunError):
    """The run may have started, and Glue could not be asked: never start it again without a lookup."""


# Not even a first attempt fits in the invocation's remaining time: nothing was sent.
DEADLINE_FAILURE = Failure(
    "InvocationDeadline",
    "too little time left in this invocation to start the run; a redelivery will",
    retryable=True,
    from_glue=False,
)


@dataclass(frozen=True, eq=False, repr=False)
class RetryPolicy(FrozenValue):
    """How often and how long to retry in-process; the platform's redelivery does the rest.

    Backoff is "full jitter" (a uniform draw below an exponentially growing cap), which spreads
    the retries of many concurrent invocations throttled at the same moment. A retry happens only
    if, after its delay, the invocation still has time for a whole attempt (connect and read
    timeouts) plus a safety margin, which leaves room to record the outcome in the idempotency
    table and to return, instead of being killed by Lambda's timeout mid-call.
    """

    max_attempts: int = 4
    base_delay_seconds: float = 0.2
    max_delay_seconds: float = 2.0
    attempt_budget_ms: int = GLUE_CALL_BUDGET_MS
    safety_margin_ms: int = RECORDING_MARGIN_MS

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        cap = min(self.max_delay_seconds, self.base_delay_seconds * 2 ** (attempt - 1))
        return rng.uniform(0, cap)

    def may_attempt(self, remaining_ms: int) -> bool:
        """Whether a whole attempt (and recording its outcome) still fits in ``remaining_ms``."""
        return remaining_ms >= self.attempt_budget_ms + self.safety_margin_ms

    def may_retry(self, attempt: int, delay_seconds: float, remaining_ms: int) -> bool:
        """Whether another attempt fits after ``attempt`` attempts and a wait of ``delay_seconds``."""
        if attempt >= self.max_attempts:
            return False
        needed_ms = delay_seconds * 1000 + self.attempt_budget_ms + self.safety_margin_ms
        return remaining_ms >= needed_ms


@dataclass(frozen=True, eq=False, repr=False)
class RunTag(FrozenValue):
    """How a planned run is found again in Glue: its job, its run-key argument and that argument's value."""

    job_name: str
    argument: str
    key: str


@dataclass(frozen=True, eq=False, repr=False)
class Started(FrozenValue):
    """A run that exists: started by this call, or ``adopted`` (an earlier attempt started it)."""

    job_run_id: str
    adopted: bool = False


class GlueJobStarter:
    """Starts Glue job runs through one boto3 client, retrying retryable failures within bounds.

    With a :class:`RunTag`, a start whose outcome is unknown is never simply sent again: the run
    is looked up by its run key (:class:`~gluetrigger.runtime.run_lookup.RunLookup`) and adopted
    when found; only when Glue's list shows it did not start is the request sent again. When the
    lookup itself cannot answer, :class:`StartOutcomeUnknownError` says so, and the caller must
    keep the run marked as possibly started.
    """

    def __init__(self, client: Any, policy: RetryPolicy | None = None, lookup: RunLookup | None = None) -> None:
        self._client = client
        self._policy = policy or RetryPolicy()
        self._lookup = lookup or RunLookup(client)
        self._rng = random.SystemRandom()

    def may_attempt(self, remaining_ms: int) -> bool:
        """Whether one whole attempt, and recording its outcome, fits in ``remaining_ms``."""
        return self._policy.may_attempt(remaining_ms)

    def start_job_run(
        self,
        request: Mapping[str, Any],
        remaining_ms: Callable[[], int],
        on_retry: OnRetry | None = None,
        tag: RunTag | None = None,
        earlier_attempt_since: datetime | None = None,
    ) -> Started:
        """The run, started now or adopted; StartJobRunError when it cannot be started in this invocation.

        ``request`` is StartJobRun's request in API field names; ``remaining_ms`` is the
        invocation's ``context.get_remaining_time_in_millis``; ``on_retry`` hears of each failed
        attempt that is about to be retried, before the backoff. ``earlier_attempt_since``: an
        earlier invocation may have started this run at or after that time (it died, or timed
        out, before recording the outcome), so the run is looked up before anything is sent.
        """
        if tag is not None and earlier_attempt_since is not None:
            found = self._find(tag, earlier_attempt_since, remaining_ms, None, 0)
            if found is not None:
                return Started(found, adopted=True)
        attempt = 0
        while True:
            attempt += 1
            if not self._policy.may_attempt(remaining_ms()):
                raise StartJobRunError(DEADLINE_FAILURE, attempt - 1)
            sent_at = datetime.now(UTC)
            try:
                return Started(self._send(request))
            except Exception as error:
                failure = classify(error)
                if failure is None:
                    raise
                found = self._settle_unknown(failure, tag, sent_at, remaining_ms, attempt)
                if found is not None:
                    return Started(found, adopted=True)
                delay = self._backoff_or_raise(failure, attempt, remaining_ms(), error)
            if on_retry is not None:
                on_retry(failure, attempt, delay)
            time.sleep(delay)

    def _backoff_or_raise(self, failure: Failure, attempt: int, remaining_ms: int, error: Exception) -> float:
        delay = self._policy.backoff(attempt, self._rng)
        # A run slot or an account quota frees only when a run finishes, seconds to hours away:
        # retrying within milliseconds only wastes calls. The event waits instead (backpressure).
        if not failure.retryable or failure.waits_for_a_run or not self._policy.may_retry(attempt, delay, remaining_ms):
            raise StartJobRunError(failure, attempt) from error
        return delay

    def _settle_unknown(
        self, failure: Failure, tag: RunTag | None, sent_at: datetime, remaining_ms: Callable[[], int], attempt: int
    ) -> str | None:
        """After a failure whose outcome is unknown, the run the attempt started; None if it did not start."""
        if not failure.outcome_unknown or tag is None:
            return None
        return self._find(tag, sent_at, remaining_ms, failure, attempt)

    def _find(
        self,
        tag: RunTag,
        since: datetime,
        remaining_ms: Callable[[], int],
        failure: Failure | None,
        attempt: int,
    ) -> str | None:
        try:
            found = self._lookup.find(tag.job_name, tag.argument, tag.key, since, remaining_ms)
        except RunLookupError as error:
            raise StartOutcomeUnknownError(_unknown(failure, str(error)), attempt) from error
        return None if found is None else found.job_run_id

    def _send(self, request: Mapping[str, Any]) -> str:
        """One StartJobRun call: the only place a run is ever requested."""
        response = self._client.start_job_run(**request)
        return str(response["JobRunId"])


def _unknown(failure: Failure | None, why: str) -> Failure:
    """The failure to report when nobody can tell whether the run started."""
    cause = "an earlier attempt did not record its outcome" if failure is None else f"{failure.code}: {failure.message}"
    return Failure(
        failure.code if failure is not None else "StartOutcomeUnknown",
        f"the run may have started ({cause}) and could not be looked up ({why}); retry once the lookup can answer",
        retryable=True,
        from_glue=failure is not None,
        outcome_unknown=True,
    )
