"""The Glue adapter: StartJobRun, its errors sorted into retryable and permanent, bounded retries.

Whether a failed StartJobRun is worth retrying decides where an event ends up: a retryable
error (throttling, too many concurrent runs, a Glue-side fault, a network timeout) goes back
to the platform, which redelivers it later; a permanent one (no such job, an invalid request,
no permission) would fail the same way forever, so it must not be retried in a loop but reach
an operator with its reason. Before giving up on a retryable error this adapter retries a few
times in-process, with jittered exponential backoff, and only while the invocation has time
left for another attempt. botocore's own retries are off for Glue: with both layers retrying,
one throttled call becomes a storm of up to 4 x 4 requests that also overruns the deadline.

The starter logs nothing itself: it tells its caller of each retry (``on_retry``), and the
caller turns that into an outcome its observers see (:mod:`gluetrigger.runtime.starting`). Its
client, configured for one attempt per call, comes from :mod:`gluetrigger.runtime.aws_clients`.

A later feature will make restarts after a crash exact: add a run-key job argument to the
request and, when a previous attempt's outcome is unknown (a timeout after the request was
sent), adopt the run that GetJobRuns shows with that key instead of starting another one.
:meth:`GlueJobStarter._send` is the one place that sends the request, so that is where it goes.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, HTTPClientError, ParamValidationError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from gluetrigger.core.errors import GlueTriggerError
from gluetrigger.runtime.aws_clients import GLUE_CONNECT_TIMEOUT_SECONDS, GLUE_READ_TIMEOUT_SECONDS

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "RETRYABLE_CODES",
    "Failure",
    "GlueJobStarter",
    "OnRetry",
    "RetryPolicy",
    "StartJobRunError",
    "classify",
]

# Error codes that say "not now" rather than "never". Glue's own: ConcurrentRunsExceededException
# (a run of a job with MaxConcurrentRuns is still going), InternalServiceException,
# OperationTimeoutException, ResourceNumberLimitExceededException (an account quota that frees
# up as runs finish); the rest are the throttling and availability codes AWS services use.
RETRYABLE_CODES = frozenset(
    {
        "ConcurrentRunsExceededException",
        "InternalServiceException",
        "OperationTimeoutException",
        "ResourceNumberLimitExceededException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalError",
    }
)
HTTP_TOO_MANY_REQUESTS = 429
HTTP_SERVER_ERROR = 500


@dataclass(frozen=True)
class Failure:
    """Why a StartJobRun did not start a run: the error code (a metric dimension) and its class."""

    code: str
    message: str
    retryable: bool
    # False when the run was held back before reaching Glue (the idempotency store said wait):
    # such failures are not StartJobRun errors, and must not trip the StartJobRunErrors alarm.
    from_glue: bool = True


# on_retry(failure, attempt, delay_seconds): attempt number ``attempt`` failed and is retried after the delay.
OnRetry = Callable[[Failure, int, float], None]


class StartJobRunError(GlueTriggerError):
    """StartJobRun failed for good in this invocation (after ``attempts`` attempts)."""

    def __init__(self, failure: Failure, attempts: int) -> None:
        self.failure = failure
        self.attempts = attempts
        super().__init__(f"StartJobRun failed with {failure.code} after {attempts} attempt(s): {failure.message}")


def classify(error: BaseException) -> Failure | None:
    """The failure an exception from StartJobRun means; None when it is not an AWS call failure.

    Anything not listed as retryable is permanent when Glue answered with a 4xx
    (EntityNotFoundException, InvalidInputException, AccessDeniedException, ...), and retryable
    when it answered with a 5xx or 429 or did not answer at all (connection and read timeouts).
    """
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code") or "Unknown")
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        retryable = code in RETRYABLE_CODES or status >= HTTP_SERVER_ERROR or status == HTTP_TOO_MANY_REQUESTS
        return Failure(code, str(details.get("Message") or error), retryable)
    if isinstance(error, BotocoreConnectionError | HTTPClientError):
        return Failure(type(error).__name__, str(error), retryable=True)
    if isinstance(error, ParamValidationError):
        return Failure(type(error).__name__, str(error), retryable=False)
    return None


@dataclass(frozen=True)
class RetryPolicy:
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
    attempt_budget_ms: int = (GLUE_CONNECT_TIMEOUT_SECONDS + GLUE_READ_TIMEOUT_SECONDS) * 1000
    safety_margin_ms: int = 2000

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        cap = min(self.max_delay_seconds, self.base_delay_seconds * 2 ** (attempt - 1))
        return rng.uniform(0, cap)

    def may_retry(self, attempt: int, delay_seconds: float, remaining_ms: int) -> bool:
        """Whether another attempt fits after ``attempt`` attempts and a wait of ``delay_seconds``."""
        if attempt >= self.max_attempts:
            return False
        needed_ms = delay_seconds * 1000 + self.attempt_budget_ms + self.safety_margin_ms
        return remaining_ms >= needed_ms


class GlueJobStarter:
    """Starts Glue job runs through one boto3 client, retrying retryable failures within bounds."""

    def __init__(self, client: Any, policy: RetryPolicy | None = None) -> None:
        self._client = client
        self._policy = policy or RetryPolicy()
        self._rng = random.SystemRandom()

    def start_job_run(
        self, request: Mapping[str, Any], remaining_ms: Callable[[], int], on_retry: OnRetry | None = None
    ) -> str:
        """The new run's JobRunId; StartJobRunError when it cannot be started in this invocation.

        ``request`` is StartJobRun's request in API field names; ``remaining_ms`` is the
        invocation's ``context.get_remaining_time_in_millis``; ``on_retry`` hears of each failed
        attempt that is about to be retried, before the backoff.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._send(request)
            except Exception as error:
                failure = classify(error)
                if failure is None:
                    raise
                delay = self._policy.backoff(attempt, self._rng)
                if not failure.retryable or not self._policy.may_retry(attempt, delay, remaining_ms()):
                    raise StartJobRunError(failure, attempt) from error
                if on_retry is not None:
                    on_retry(failure, attempt, delay)
            time.sleep(delay)

    def _send(self, request: Mapping[str, Any]) -> str:
        """One StartJobRun call (the seam for adopting a run after an unknown outcome)."""
        response = self._client.start_job_run(**request)
        return str(response["JobRunId"])
