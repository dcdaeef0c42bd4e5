"""Backpressure's rules: the settings, the delays, the wait read from a message, which deliveries wait.

The queue itself (sending the copy, max_wait reached, a refused send) is exercised against moto
in tests/integration/test_backpressure.py.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from gluetrigger.core.backpressure import DEFAULT_MAX_WAIT_SECONDS, read_max_concurrent_runs, read_max_wait
from gluetrigger.core.config import parse_config
from gluetrigger.core.errors import ConfigError
from gluetrigger.core.planner import PlannedRun
from gluetrigger.runtime.backpressure import (
    DEFERRALS_ATTRIBUTE,
    WAITING_SINCE_ATTRIBUTE,
    HoldBackPolicy,
    TriggerQueue,
    Waiting,
)
from gluetrigger.runtime.delivery import Delivery
from gluetrigger.runtime.failures import Failure
from gluetrigger.runtime.outcomes import RunFailed, RunStarted, Settlement

from .test_service_units import MAPPING, message, run

__all__ = ["message", "run"]  # fixtures


def trigger_doc(name: str, **fields: object) -> dict[str, object]:
    return {"name": name, "source": {"type": "schedule", "expression": "rate(1 hour)"}, "job": {"name": "j"}, **fields}


@pytest.mark.parametrize("raw", [0, -5, 14 * 86400 + 1, "15d", "1w", "5 minutes", "", "s", 1.5, True, [], "-5s"])
def test_a_bad_max_wait_is_refused(raw: object) -> None:
    seconds, problem = read_max_wait(raw)
    assert problem is not None
    assert problem.startswith("must be a number of seconds or a duration such as 90s, 30m, 24h, 2d, from 1s to 14d")
    assert seconds == DEFAULT_MAX_WAIT_SECONDS


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [(None, 86400), (1, 1), (90, 90), ("90s", 90), ("30m", 1800), ("24h", 86400), (" 2d ", 172800), ("14d", 1209600)],
)
def test_max_wait_takes_seconds_or_a_duration_with_a_unit(raw: object, seconds: int) -> None:
    assert read_max_wait(raw) == (seconds, None)


@pytest.mark.parametrize("raw", [0, 1001, True, "2", 1.0])
def test_a_bad_max_concurrent_runs_is_refused(raw: object) -> None:
    assert read_max_concurrent_runs(raw) == (None, f"must be a whole number from 1 to 1000 (got {raw!r})")


def test_every_bad_backpressure_field_is_reported_at_once_naming_its_trigger() -> None:
    document = {
        "defaults": {"max_wait": "3x"},
        "triggers": [trigger_doc("a", max_concurrent_runs=0), trigger_doc("b", max_wait="1h")],
    }
    with pytest.raises(ConfigError) as raised:
        parse_config(document)

    lines = str(raised.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("a: max_wait: must be a number of seconds")  # from defaults
    assert lines[1] == "a: max_concurrent_runs: must be a whole number from 1 to 1000 (got 0)"


def test_defaults_give_every_trigger_its_backpressure_settings_unless_it_has_its_own() -> None:
    document = {
        "defaults": {"max_wait": "2h", "max_concurrent_runs": 3, "timeout": 60},
        "triggers": [trigger_doc("a"), trigger_doc("b", max_wait=90, max_concurrent_runs=1)],
    }
    a, b = parse_config(document).triggers

    assert (a.max_wait_seconds, a.max_concurrent_runs, a.job.settings["timeout"]) == (7200, 3, 60)
    assert (b.max_wait_seconds, b.max_concurrent_runs) == (90, 1)
    assert parse_config({"triggers": [trigger_doc("c")]}).triggers[0].max_concurrent_runs is None


@pytest.mark.parametrize(("deferrals", "low", "high"), [(0, 5, 5), (1, 5, 10), (3, 5, 40), (8, 5, 900), (60, 5, 900)])
def test_the_delay_grows_with_the_deferrals_never_below_the_base_nor_above_sqs_limit(
    deferrals: int, low: int, high: int
) -> None:
    rng = random.Random(7)
    delays = {HoldBackPolicy().delay(deferrals, 10**6, rng) for _ in range(200)}
    assert low <= min(delays) <= max(delays) <= high
    if high > low:
        assert len(delays) > 1  # jittered: a burst's copies do not come back together


def test_the_last_delay_brings_the_event_back_at_its_max_wait_not_later() -> None:
    rng = random.Random(7)
    assert {HoldBackPolicy().delay(9, 2.5, rng) for _ in range(50)} == {3}


def lambda_attributes(deferrals: str, since: str) -> dict[str, object]:
    return {
        DEFERRALS_ATTRIBUTE: {"stringValue": deferrals, "dataType": "Number"},
        WAITING_SINCE_ATTRIBUTE: {"stringValue": since, "dataType": "String"},
    }


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        lambda_attributes("x", "yesterday"),
        lambda_attributes("-1", ""),
        {DEFERRALS_ATTRIBUTE: "3", WAITING_SINCE_ATTRIBUTE: None},
    ],
)
def test_unreadable_wait_attributes_count_as_not_waiting(attributes: dict[str, object]) -> None:
    delivery = Delivery.message({"messageId": "m1", "body": "{}", "messageAttributes": attributes})
    assert Waiting.of(delivery) == Waiting(0, None)


def test_the_wait_is_read_from_lambdas_message_attributes() -> None:
    attributes = lambda_attributes("4", "2026-11-24T09:20:00")
    delivery = Delivery.message({"messageId": "m1", "body": "{}", "messageAttributes": attributes})
    assert Waiting.of(delivery) == Waiting(4, datetime(2026, 11, 24, 9, 20, tzinfo=UTC))


CAPACITY = Failure("ConcurrentRunsExceededException", "full", retryable=True, capacity=True)
THROTTLED = Failure("ThrottlingException", "slow down", retryable=True, capacity=True)
FAULT = Failure("InternalServiceException", "oops", retryable=True, outcome_unknown=True)
MISSING = Failure("EntityNotFoundException", "no such job", retryable=False)


def test_only_a_message_whose_every_failure_is_capacity_waits(message: Delivery, run: PlannedRun) -> None:
    direct = Delivery("event-1", lambda: "{}")
    assert TriggerQueue.applies(Settlement(message, (RunFailed(message, run, CAPACITY), RunStarted(message, run, "j"))))
    assert TriggerQueue.applies(Settlement(message, (RunFailed(message, run, THROTTLED),)))
    assert not TriggerQueue.applies(
        Settlement(message, (RunFailed(message, run, CAPACITY), RunFailed(message, run, FAULT)))
    )
    assert not TriggerQueue.applies(
        Settlement(message, (RunFailed(message, run, CAPACITY), RunFailed(message, run, MISSING)))
    )
    assert not TriggerQueue.applies(Settlement(message, (RunFailed(message, run, CAPACITY),), rejected=(MAPPING,)))
    assert not TriggerQueue.applies(
        Settlement(direct, (RunFailed(direct, run, CAPACITY),))
    )  # a schedule: Lambda retries
    assert not TriggerQueue.applies(Settlement(message, (RunStarted(message, run, "j"),)))
