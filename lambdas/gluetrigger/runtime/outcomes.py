"""What the handler does with each delivery, as values its observers are told, in order.

The service plans, starts and settles; it does not log, count or report. It tells each
:class:`OutcomeObserver` what happened instead, one frozen value at a time: an event ignored or
rejected, a run about to be requested, retried, started, found started by an earlier delivery
or not started, a delivery dead-lettered, and last, per delivery, its :class:`Settlement`. The
structured log (:mod:`gluetrigger.runtime.logs`), the metrics (:mod:`gluetrigger.runtime.telemetry`)
and local mode's console are observers, so what each reports comes from one stream and cannot
drift apart, and local mode no longer has to read the log to learn what happened.

Each value names the :class:`~gluetrigger.runtime.delivery.Delivery` it is about (the SQS message
or the direct invocation), so an observer attributes it without any state of its own; observers
are told from the invocation's thread, and concurrent invocations (local mode's functions, the
tests) never interleave within one invocation's stream. Every invocation's stream ends with
:class:`InvocationEnded`, which repeats all of it: what must be reported once per invocation (the
metrics) is computed from that, without a counter shared between threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol

from gluetrigger.runtime.values import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from gluetrigger.core.planner import PlannedRun, Rejection, Skip
    from gluetrigger.runtime.delivery import Delivery
    from gluetrigger.runtime.failures import Failure

__all__ = [
    "BatchingFailed",
    "DeadLetterRefused",
    "DeadLettered",
    "EventIgnored",
    "EventRejected",
    "FileBatched",
    "HoldBackRefused",
    "InvocationEnded",
    "InvocationObservers",
    "MessageDeferred",
    "MessageFailed",
    "MessageHeldBack",
    "MessageReceived",
    "Outcome",
    "OutcomeObserver",
    "RetriesExhausted",
    "RetryDelayed",
    "RetryFailed",
    "RunDuplicate",
    "RunFailed",
    "RunOutcome",
    "RunRequested",
    "RunRetried",
    "RunRetrying",
    "RunStarted",
    "Settlement",
    "rejection_reason",
]


@dataclass(frozen=True, eq=False, repr=False)
class MessageReceived(FrozenValue):
    """An SQS message of a batch is about to be processed (nothing is known about it yet)."""

    delivery: Delivery


@dataclass(frozen=True, eq=False, repr=False)
class EventIgnored(FrozenValue):
    """An event no trigger wants (a test event, a deletion, a key no trigger matches), and why."""

    delivery: Delivery
    skip: Skip


@dataclass(frozen=True, eq=False, repr=False)
class EventRejected(FrozenValue):
    """An event the handler cannot read (``trigger`` None), or that a trigger matched but cannot map.

    ``reason`` is as reported: the validation error, or ``<trigger>: <why>``.
    """

    delivery: Delivery
    reason: str
    trigger: str | None = None


@dataclass(frozen=True, eq=False, repr=False)
class _AboutRun(FrozenValue):
    """About one planned run of a delivery (each delivery may plan several)."""

    delivery: Delivery
    run: PlannedRun


@dataclass(frozen=True, eq=False, repr=False)
class RunRequested(_AboutRun):
    """A planned run is about to be started (idempotently: an earlier delivery may have started it)."""


@dataclass(frozen=True, eq=False, repr=False)
class RunRetrying(_AboutRun):
    """StartJobRun attempt number ``attempt`` failed retryably; it is tried again after ``delay_seconds``."""

    failure: Failure
    attempt: int
    delay_seconds: float


@dataclass(frozen=True, eq=False, repr=False)
class _RunExists(_AboutRun):
    """The run exists in Glue, under ``job_run_id``."""

    job_run_id: str


@dataclass(frozen=True, eq=False, repr=False)
class RunStarted(_RunExists):
    """The run was started by this delivery.

    ``adopted``: an earlier attempt for this event started it without learning so (its answer was
    lost, or it died first); this delivery found it by its run key instead of starting another.
    ``record_pending``: the run exists but its idempotency record could not be completed; the
    record stays in progress until it expires, and a later delivery would find the run again.
    """

    adopted: bool = False
    record_pending: bool = False

    outcome: ClassVar[Literal["started"]] = "started"


@dataclass(frozen=True, eq=False, repr=False)
class RunDuplicate(_RunExists):
    """An earlier delivery of the same event started the run: nothing was started now."""

    outcome: ClassVar[Literal["duplicate"]] = "duplicate"


@dataclass(frozen=True, eq=False, repr=False)
class RunFailed(_AboutRun):
    """The run was not started, for ``failure``'s reason (retryable or not)."""

    failure: Failure
    outcome: ClassVar[Literal["error"]] = "error"
    job_run_id: ClassVar[None] = None


RunOutcome = RunStarted | RunDuplicate | RunFailed


@dataclass(frozen=True, eq=False, repr=False)
class DeadLettered(FrozenValue):
    """The delivery failed for good and is now in the dead-letter queue, with why: it is handled."""

    delivery: Delivery
    reason: str
    trigger: str | None

    def to_json(self) -> dict[str, str | None]:
        """Its entry in a direct invocation's response."""
        return {"reason": self.reason, "trigger": self.trigger}


@dataclass(frozen=True, eq=False, repr=False)
class DeadLetterRefused(FrozenValue):
    """The dead-letter queue did not take the delivery: it is reported failed as if there were no DLQ."""

    delivery: Delivery
    error: str


@dataclass(frozen=True, eq=False, repr=False)
class MessageHeldBack(FrozenValue):
    """Its runs wait for Glue capacity: the message was sent to its queue again, delayed; it is handled.

    ``deferrals`` counts this one; ``waiting_since`` is when the event was first held back;
    ``codes`` are the capacity failures' error codes (see :mod:`gluetrigger.runtime.backpressure`).
    Not :class:`MessageDeferred`, a message left unprocessed for lack of invocation time.
    """

    delivery: Delivery
    delay_seconds: int
    deferrals: int
    waiting_since: datetime
    codes: tuple[str, ...]


@dataclass(frozen=True, eq=False, repr=False)
class HoldBackRefused(FrozenValue):
    """The queue did not take the held-back copy: the message is reported failed, and SQS redelivers it."""

    delivery: Delivery
    error: str


@dataclass(frozen=True, eq=False, repr=False)
class FileBatched(FrozenValue):
    """A file joined batch ``seq`` of ``trigger``, in ``slot`` (``duplicate``: an earlier delivery did)."""

    delivery: Delivery
    trigger: str
    seq: int
    slot: int
    duplicate: bool = False


@dataclass(frozen=True, eq=False, repr=False)
class _OfTrigger(FrozenValue):
    """About one trigger's work on a delivery, beside a planned run's start."""

    delivery: Delivery
    trigger: str


@dataclass(frozen=True, eq=False, repr=False)
class _StepFailed(_OfTrigger):
    """A step of ``trigger`` beside StartJobRun itself failed, for ``failure``'s reason."""

    failure: Failure

    @property
    def reason(self) -> str:
        return f"{self.trigger}: {self.failure.code}: {self.failure.message}"


@dataclass(frozen=True, eq=False, repr=False)
class BatchingFailed(_StepFailed):
    """A file could not join its batch, or a batch could not be closed or started, for ``failure``'s reason."""


@dataclass(frozen=True, eq=False, repr=False)
class RunRetried(_OfTrigger):
    """A failed run of ``trigger`` was retried (gluetrigger.runtime.retrying), as retry ``attempt`` of ``max_attempts``.

    ``chain``: the run ids from the first run to the retry, oldest first, as far as Glue's
    PreviousRunId links could be read. ``duplicate``: an earlier delivery of the state event
    started the retry; nothing was started now.
    """

    attempt: int
    max_attempts: int
    chain: tuple[str, ...]
    duplicate: bool = False


@dataclass(frozen=True, eq=False, repr=False)
class RetriesExhausted(_OfTrigger):
    """A failed run of ``trigger`` was its ``attempts``-th retry: max_attempts is reached, nothing is started."""

    attempts: int
    chain: tuple[str, ...]


@dataclass(frozen=True, eq=False, repr=False)
class RetryDelayed(_OfTrigger):
    """The state event of failed run ``job_run_id`` was sent to the trigger's queue again, ``delay_seconds``
    later: its retry starts when it comes back; this delivery is handled."""

    job_run_id: str
    delay_seconds: int


@dataclass(frozen=True, eq=False, repr=False)
class RetryFailed(_StepFailed):
    """A failed run could not be read (GetJobRun), or its state event not delayed, for ``failure``'s reason."""


def rejection_reason(rejection: Rejection) -> str:
    """A planner rejection as reported: ``<trigger>: <why>``, or ``<origin>: <why>`` for a malformed record."""
    return f"{rejection.trigger or rejection.origin}: {rejection.reason}"


@dataclass(frozen=True, eq=False, repr=False)
class Settlement(FrozenValue):
    """What became of one delivery, and so what the platform must do with it.

    ``handled``: nothing left to do (everything started, the delivery is in the DLQ, or it was held
    back: sent again, delayed, to wait for Glue capacity); a direct
    invocation returns, an SQS message is deleted. ``retry``: a run can be started later; the
    delivery comes back whole (what did start is idempotent). Neither: it failed for good and is
    not in the DLQ; a direct invocation raises PermanentEventError, an SQS message is reported
    failed (and reaches the queue's DLQ after maxReceiveCount receives).
    """

    delivery: Delivery
    runs: tuple[RunOutcome, ...] = ()
    ignored: tuple[Skip, ...] = ()
    rejected: tuple[Rejection, ...] = ()
    unreadable: str | None = None  # why the event could not be read at all (then nothing was planned)
    dead_lettered: DeadLettered | None = None
    held_back: MessageHeldBack | None = None  # sent again, delayed, to wait for Glue capacity
    batching: tuple[BatchingFailed, ...] = ()  # what batch triggers could not do with the delivery
    retrying: tuple[RetryFailed, ...] = ()  # what retry triggers could not do with a failed run

    @property
    def rejected_reasons(self) -> list[str]:
        """Why the event, or a trigger, cannot take it: permanent, and never shown as a run's failure."""
        if self.unreadable is not None:
            return [self.unreadable]
        return [rejection_reason(rejection) for rejection in self.rejected]

    @property
    def permanent(self) -> list[str]:
        """Every reason that retrying cannot help with, one per line."""
        return self.rejected_reasons + self._failures(retryable=False) + self._step_reasons(retryable=False)

    @property
    def retryable(self) -> list[str]:
        """Every run that a later delivery may start (and every batch step it may complete)."""
        return self._failures(retryable=True) + self._step_reasons(retryable=True)

    @property
    def permanent_triggers(self) -> set[str]:
        """The triggers that the permanent reasons name."""
        rejected = {r.trigger for r in self.rejected if r.trigger is not None}
        steps = {b.trigger for b in self._steps() if not b.failure.retryable}
        return rejected | steps | {o.run.trigger.name for o in self._failed(retryable=False)}

    @property
    def retry(self) -> bool:
        return bool(self._failed(retryable=True)) or bool(self._step_reasons(retryable=True))

    @property
    def handled(self) -> bool:
        """In the DLQ (also a retryable failure given up on at its last receive), held back, or nothing failed."""
        if self.dead_lettered is not None or self.held_back is not None:
            return True
        return not self.retry and not self.permanent

    def _failed(self, *, retryable: bool) -> list[RunFailed]:
        return [o for o in self.runs if isinstance(o, RunFailed) and o.failure.retryable == retryable]

    def _steps(self) -> tuple[BatchingFailed | RetryFailed, ...]:
        """What failed beside the runs: the batch triggers' and the retry triggers' steps."""
        return (*self.batching, *self.retrying)

    def _step_reasons(self, *, retryable: bool) -> list[str]:
        return [b.reason for b in self._steps() if b.failure.retryable == retryable]

    def _failures(self, *, retryable: bool) -> list[str]:
        return [
            f"{o.run.trigger.name}: {o.failure.code}: {o.failure.message}" for o in self._failed(retryable=retryable)
        ]


@dataclass(frozen=True, eq=False, repr=False)
class MessageFailed(FrozenValue):
    """Processing an SQS message raised an unexpected exception: a defect; the message is retried.

    On its last receive it goes to the DLQ with the exception as its reason instead.
    """

    delivery: Delivery
    error: Exception
    dead_lettered: DeadLettered | None = None

    @property
    def reason(self) -> str:
        return f"message processing failed: {type(self.error).__name__}: {self.error}"

    @property
    def handled(self) -> bool:
        return self.dead_lettered is not None


@dataclass(frozen=True, eq=False, repr=False)
class MessageDeferred(FrozenValue):
    """An SQS message left unprocessed for its redelivery: too little of the invocation's time was left."""

    delivery: Delivery
    handled: ClassVar[bool] = False


@dataclass(frozen=True, eq=False, repr=False)
class InvocationEnded(FrozenValue):
    """The invocation is over (returned or raised); ``outcomes`` is everything its observers were told."""

    outcomes: tuple[Outcome, ...]


Outcome = (
    MessageReceived
    | EventIgnored
    | EventRejected
    | RunRequested
    | RunRetrying
    | RunStarted
    | RunDuplicate
    | RunFailed
    | DeadLettered
    | DeadLetterRefused
    | MessageHeldBack
    | HoldBackRefused
    | Settlement
    | MessageFailed
    | MessageDeferred
    | FileBatched
    | BatchingFailed
    | RunRetried
    | RetriesExhausted
    | RetryDelayed
    | RetryFailed
    | InvocationEnded
)


class OutcomeObserver(Protocol):
    """Told every outcome of every invocation, in order, in the invocation's thread."""

    def observe(self, outcome: Outcome) -> None: ...


class InvocationObservers:
    """One invocation's stream: tells each observer every outcome, then :class:`InvocationEnded`."""

    def __init__(self, observers: Sequence[OutcomeObserver]) -> None:
        self._observers = observers
        self._told: list[Outcome] = []

    def observe(self, outcome: Outcome) -> None:
        self._told.append(outcome)
        for observer in self._observers:
            observer.observe(outcome)

    def end(self) -> None:
        ended = InvocationEnded(tuple(self._told))
        for observer in self._observers:
            observer.observe(ended)
