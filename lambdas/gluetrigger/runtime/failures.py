"""What a failed AWS call means: retryable or permanent, and whether it may have taken effect.

Whether a failed StartJobRun is worth retrying decides where an event ends up (see
:mod:`gluetrigger.runtime.glue_client`); whether its outcome is unknown decides whether a retry
may simply send it again or must first look for the run it may have started
(:mod:`gluetrigger.runtime.run_lookup`). botocore tells the two apart by exception type: a
``ConnectionError`` (no connection, a connect timeout) means the request never left; an
``HTTPClientError`` (a read timeout, a connection closed before the answer) means it was sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from botocore.exceptions import ClientError, HTTPClientError, ParamValidationError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from gluetrigger.runtime.values import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["CAPACITY_KINDS", "RETRYABLE_CODES", "Failure", "classify"]

# Error codes that say "not now" rather than "never", each with why: the one table of retryable codes.
# - "slots": Glue is at a concurrency limit that frees only as runs finish (seconds to hours):
#   ConcurrentRunsExceededException (the job's MaxConcurrentRuns), ResourceNumberLimitExceededException
#   (an account quota, such as concurrent runs per account). Never retried in-process.
# - "throttling": the API's request rate; frees within a second or so.
# - "availability": a fault on AWS's side (InternalServiceException, OperationTimeoutException, ...).
# "slots" and "throttling" are capacity: an event is not failing, only waiting, and backpressure
# (gluetrigger.runtime.backpressure) makes it wait without using up its delivery attempts.
RETRYABLE_CODES: Mapping[str, Literal["slots", "throttling", "availability"]] = MappingProxyType(
    {
        "ConcurrentRunsExceededException": "slots",
        "ResourceNumberLimitExceededException": "slots",
        "ThrottlingException": "throttling",
        "Throttling": "throttling",
        "ThrottledException": "throttling",
        "TooManyRequestsException": "throttling",
        "RequestLimitExceeded": "throttling",
        "RequestThrottled": "throttling",
        "RequestThrottledException": "throttling",
        "SlowDown": "throttling",
        "InternalServiceException": "availability",
        "OperationTimeoutException": "availability",
        "ServiceUnavailable": "availability",
        "ServiceUnavailableException": "availability",
        "InternalFailure": "availability",
        "InternalError": "availability",
    }
)
CAPACITY_KINDS = frozenset({"slots", "throttling"})
HTTP_TOO_MANY_REQUESTS = 429
HTTP_SERVER_ERROR = 500


@dataclass(frozen=True, eq=False, repr=False)
class Failure(FrozenValue):
    """Why a StartJobRun did not start a run: the error code (a metric dimension) and its class."""

    code: str
    message: str
    retryable: bool
    # False when the run was held back before reaching Glue (the idempotency store said wait):
    # such failures are not StartJobRun errors, and must not trip the StartJobRunErrors alarm.
    from_glue: bool = True
    # True when the request may have reached Glue and started the run although the call failed
    # (no answer, or a 5xx): a retry must look for the run first (gluetrigger.runtime.run_lookup).
    outcome_unknown: bool = False
    # True when Glue is at a capacity limit (a run slot, an account quota, the request rate), or
    # the run was held back before reaching it: the event waits (gluetrigger.runtime.backpressure).
    capacity: bool = False

    @property
    def waits_for_a_run(self) -> bool:
        """Whether only a finishing run frees what this failure lacks: no use retrying within milliseconds."""
        return RETRYABLE_CODES.get(self.code) == "slots"


def classify(error: BaseException) -> Failure | None:
    """The failure an exception from a Glue call means; None when it is not an AWS call failure.

    Anything not listed as retryable is permanent when Glue answered with a 4xx
    (EntityNotFoundException, InvalidInputException, AccessDeniedException, ...), and retryable
    when it answered with a 5xx or 429 or did not answer at all (connection and read timeouts).
    """
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code") or "Unknown")
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        retryable = code in RETRYABLE_CODES or status >= HTTP_SERVER_ERROR or status == HTTP_TOO_MANY_REQUESTS
        capacity = RETRYABLE_CODES.get(code) in CAPACITY_KINDS or status == HTTP_TOO_MANY_REQUESTS
        # A 5xx may come after Glue acted on the request: only a lookup can tell.
        unknown = status >= HTTP_SERVER_ERROR
        message = str(details.get("Message") or error)
        return Failure(code, message, retryable, outcome_unknown=unknown, capacity=capacity)
    if isinstance(error, HTTPClientError):
        # The request was sent and no answer came (a read timeout, a connection closed mid-call).
        return Failure(type(error).__name__, str(error), retryable=True, outcome_unknown=True)
    if isinstance(error, BotocoreConnectionError):
        # The request never left: no connection, a connect timeout.
        return Failure(type(error).__name__, str(error), retryable=True)
    if isinstance(error, ParamValidationError):
        return Failure(type(error).__name__, str(error), retryable=False)
    return None
