"""Outcomes are frozen values: they compare, hash and print as the frozen dataclasses they were."""

from __future__ import annotations

import dataclasses

import pytest

from gluetrigger.runtime.delivery import Delivery
from gluetrigger.runtime.outcomes import DeadLettered, DeadLetterRefused, HoldBackRefused, MessageDeferred, Settlement

MESSAGE = Delivery.message({"messageId": "m1", "body": "x"})


def test_an_outcome_cannot_be_changed() -> None:
    dead = DeadLettered(MESSAGE, "bad", "sales")
    with pytest.raises(dataclasses.FrozenInstanceError):
        dead.reason = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del dead.trigger


def test_outcomes_of_other_classes_or_values_differ() -> None:
    assert DeadLetterRefused(MESSAGE, "queue gone") != HoldBackRefused(MESSAGE, "queue gone")
    assert DeadLettered(MESSAGE, "bad", "sales") != DeadLettered(MESSAGE, "bad", None)
    assert DeadLettered(MESSAGE, "bad", "sales") != ("bad", "sales")


def test_equal_outcomes_compare_and_hash_alike() -> None:
    first, second = DeadLettered(MESSAGE, "bad", "sales"), DeadLettered(MESSAGE, "bad", "sales")
    assert first == second
    assert hash(first) == hash(second)
    assert len({MessageDeferred(MESSAGE), MessageDeferred(MESSAGE)}) == 1
    assert dataclasses.replace(Settlement(MESSAGE), unreadable="bad") == Settlement(MESSAGE, unreadable="bad")


def test_an_outcome_prints_its_fields_as_a_dataclass_does() -> None:
    # ClassVars (MessageDeferred.handled) are not fields, and are not shown.
    assert repr(MessageDeferred(MESSAGE)) == f"MessageDeferred(delivery={MESSAGE!r})"
    assert repr(HoldBackRefused(MESSAGE, "gone")) == f"HoldBackRefused(delivery={MESSAGE!r}, error='gone')"
