"""A trigger's retries: a run it started that failed is started again, without a human, up to a limit.

A trigger with ``retry: {max_attempts, on, delay_seconds}`` hears Glue's "Glue Job State Change"
events for its job (the stack routes them to its queue). A run that ended in a state of ``on``
is retried when it is the trigger's own, and when fewer than ``max_attempts`` retries came
before it: StartJobRun with ``JobRunId`` set to the failed run (Glue's own retry of a run: the
new run's ``PreviousRunId`` names it), the failed run's arguments, and a per-attempt run key.

- Whose run: the run's arguments carry the trigger's run-key argument with a run key
  (:mod:`gluetrigger.core.run_key`). A run without one was started by someone else and is left
  alone. Two triggers of one config that start the same job with the same run-key argument could
  not be told apart, so a retry trigger must be the only one (:func:`retry_conflicts`).
- Which attempt: the run key says. The first run's is the planned run's key; the n-th retry's is
  that key followed by ``-n`` (:func:`attempt_run_key`). A retry is found again by its own run
  key when its StartJobRun's outcome is unknown, like any run, and the chain needs no store.
- Exactly once: the retry's idempotency key is the failed run's id, so a state event delivered
  twice starts one retry.
- ``max_attempts`` counts retries, as Step Functions' ``MaxAttempts`` does: ``max_attempts: 2``
  allows the first run and two retries. ``delay_seconds`` holds the state event back on the
  trigger's queue (SQS's DelaySeconds, so at most 900 s) before the retry starts.

This module holds the pure rules (the block, the event, the decision); the Glue calls and the
delay are :mod:`gluetrigger.runtime.retrying`'s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from gluetrigger.core.events import printable
from gluetrigger.core.run_key import RUN_KEY_LENGTH
from gluetrigger.core.start_job_run import is_int, request

if TYPE_CHECKING:
    from collections.abc import Iterable

    from gluetrigger.core.events import InboundEvent
    from gluetrigger.core.model import Retry, Trigger
    from gluetrigger.core.planner import PlannedRun

__all__ = [
    "DEFAULT_DELAY_SECONDS",
    "MAX_ATTEMPTS_LIMIT",
    "MAX_DELAY_SECONDS",
    "RETRY_FIELDS",
    "RETRY_STATES",
    "STATE_CHANGE_DETAIL_TYPE",
    "STATE_CHANGE_SOURCE",
    "FailedRun",
    "PlannedRetry",
    "RetryLimitReached",
    "StateChange",
    "attempt_run_key",
    "plan_retry",
    "read_retry",
    "retry_conflicts",
    "state_change",
    "state_change_pattern",
]

RETRY_FIELDS = ("max_attempts", "on", "delay_seconds")
# The states a run ends in that a retry may help with (JobRunState's failures; STOPPED is a person's choice).
RETRY_STATES = ("FAILED", "TIMEOUT", "ERROR")
# Each retry is another whole run of the job: ten is beyond any failure a retry still helps with.
MAX_ATTEMPTS_LIMIT = 10
# SQS's longest DelaySeconds: the state event is held back on the trigger's queue.
MAX_DELAY_SECONDS = 900
DEFAULT_DELAY_SECONDS = 60
STATE_CHANGE_SOURCE = "aws.glue"
STATE_CHANGE_DETAIL_TYPE = "Glue Job State Change"
# A run key as this trigger writes it: the planned run's, or a retry's (``-n`` after it).
_RUN_KEY = re.compile(rf"^[0-9a-f]{{{RUN_KEY_LENGTH}}}(?:-([1-9][0-9]*))?$")


def read_retry(raw: object) -> tuple[Retry | None, list[tuple[str, str]]]:
    """The ``retry`` block (None when absent) and its problems as (field, message), every one at once.

    Unknown fields are the caller's to name (the config's did-you-mean hints).
    """
    from gluetrigger.core.model import Retry

    if raw is None:
        return None, []
    if not isinstance(raw, Mapping):
        return None, [("retry", "must be a mapping with max_attempts, on, delay_seconds")]
    problems: list[tuple[str, str]] = []
    attempts = raw.get("max_attempts")
    if not is_int(attempts) or not 1 <= cast("int", attempts) <= MAX_ATTEMPTS_LIMIT:
        rule = f"a whole number of retries from 1 to {MAX_ATTEMPTS_LIMIT}"
        problems.append(("retry.max_attempts", f"required: {rule}" if attempts is None else f"must be {rule}"))
        attempts = 1
    delay = raw.get("delay_seconds", DEFAULT_DELAY_SECONDS)
    if not is_int(delay) or not 0 <= cast("int", delay) <= MAX_DELAY_SECONDS:
        problems.append(("retry.delay_seconds", f"must be a whole number of seconds from 0 to {MAX_DELAY_SECONDS}"))
        delay = DEFAULT_DELAY_SECONDS
    states = raw.get("on", list(RETRY_STATES))
    if not isinstance(states, list) or not states or not all(s in RETRY_STATES for s in states):
        problems.append(("retry.on", f"must be a non-empty list of {', '.join(RETRY_STATES)} (got {states!r})"))
        states = list(RETRY_STATES)
    return Retry(max_attempts=cast("int", attempts), on=tuple(dict.fromkeys(states)), delay_seconds=delay), problems


def retry_conflicts(triggers: Iterable[Trigger]) -> list[tuple[str, str, str]]:
    """(trigger, field, message) for each retry trigger whose runs cannot be told from another trigger's."""
    triggers = list(triggers)
    problems = []
    for trigger in triggers:
        if trigger.retry is None:
            continue
        argument = trigger.job.run_key_argument
        if argument is None:
            problems.append((trigger.name, "retry", "needs the run key to know its runs: turn job.run_key_argument on"))
            continue
        for other in triggers:
            if other is not trigger and other.job.name == trigger.job.name and other.job.run_key_argument == argument:
                problems.append(
                    (
                        trigger.name,
                        "retry",
                        f"trigger {other.name} also starts job {trigger.job.name} with run-key argument {argument}, "
                        "so their failed runs cannot be told apart: give one of them its own job.run_key_argument",
                    )
                )
    return problems


def state_change_pattern(trigger: Trigger) -> dict[str, Any]:
    """The EventBridge pattern of the state events ``trigger`` retries: its job's runs that ended in ``on``."""
    states = list(trigger.retry.on if trigger.retry is not None else RETRY_STATES)
    return {
        "source": [STATE_CHANGE_SOURCE],
        "detail-type": [STATE_CHANGE_DETAIL_TYPE],
        "detail": {"jobName": [trigger.job.name], "state": states},
    }


@dataclass(frozen=True)
class StateChange:
    """What a Glue Job State Change event says: which run of which job ended in which state."""

    job_name: str
    job_run_id: str
    state: str


def state_change(event: InboundEvent) -> StateChange | None:
    """The state change ``event`` reports; None when it is not a Glue Job State Change of a run."""
    envelope = event.envelope
    if envelope is None or envelope.get("source") != STATE_CHANGE_SOURCE:
        return None
    detail = envelope.get("detail")
    if envelope.get("detail-type") != STATE_CHANGE_DETAIL_TYPE or not isinstance(detail, dict):
        return None
    job, run, state = detail.get("jobName"), detail.get("jobRunId"), detail.get("state")
    if not (isinstance(job, str) and isinstance(run, str) and isinstance(state, str) and job and run and state):
        return None
    return StateChange(job, run, state)


@dataclass(frozen=True)
class FailedRun:
    """A run of ``trigger``'s job that ended in a state its ``retry.on`` lists, told by ``event``."""

    trigger: Trigger
    change: StateChange
    event: InboundEvent

    def describe(self) -> str:
        change = self.change
        return printable(f"run {change.job_run_id} of job {change.job_name} ({change.state})")


@dataclass(frozen=True)
class PlannedRetry:
    """The retry of ``failed``: ``run`` (its StartJobRun request), the ``attempt``-th retry of the chain.

    ``max_attempts`` and ``delay_seconds`` are the trigger's ``retry`` settings it was planned with.
    """

    failed: FailedRun
    run: PlannedRun
    attempt: int
    max_attempts: int
    delay_seconds: int


@dataclass(frozen=True)
class RetryLimitReached:
    """``failed`` was the ``attempts``-th retry already: its trigger's max_attempts: nothing more is started."""

    failed: FailedRun
    attempts: int


def attempt_run_key(first: str, attempt: int) -> str:
    """The run key of the ``attempt``-th retry of the run whose run key was ``first``."""
    return f"{first}-{attempt}"


def plan_retry(failed: FailedRun, arguments: Mapping[str, str]) -> PlannedRetry | RetryLimitReached | str:
    """What to do with ``failed``, whose run had ``arguments``: retry it, give up, or why it is not ours."""
    from gluetrigger.core.planner import PlannedRun

    trigger, job_run_id = failed.trigger, failed.change.job_run_id
    argument, retry = trigger.job.run_key_argument, trigger.retry
    found = None if argument is None else _RUN_KEY.match(arguments.get(argument, ""))
    if argument is None or found is None or retry is None:
        return f"{failed.describe()} carries no run key of trigger {trigger.name}: it did not start it"
    done = int(found.group(1) or 0)
    if done >= retry.max_attempts:
        return RetryLimitReached(failed, done)
    first = found.group(0).split("-", 1)[0]
    tag = attempt_run_key(first, done + 1)
    new_arguments = {**arguments, argument: tag}
    fields: dict[str, object] = {
        **trigger.job.settings,
        "name": trigger.job.name,
        "job_run_id": job_run_id,
        "arguments": new_arguments,
    }
    # The failed run's id keys the retry: a state event delivered twice starts one retry.
    key = f"{trigger.name}:retry:{job_run_id}"
    run = PlannedRun(trigger=trigger, idempotency_key=key, request=request(fields), event=failed.event, run_key=tag)
    return PlannedRetry(failed, run, done + 1, retry.max_attempts, retry.delay_seconds)
