"""The idempotency table's record layout, named once for the stack, local mode, the tests and the runner.

Powertools' DynamoDBPersistenceLayer keeps one item per planned run: its partition key,
:data:`KEY_ATTRIBUTE`, holds ``"<KEY_PREFIX>#<trigger>#<hash of the idempotency key>"``
(:func:`record_key_prefix`), and DynamoDB's TTL deletes
it after :data:`EXPIRY_ATTRIBUTE` (epoch seconds). The attribute names are Powertools' defaults
(a unit test compares them); the table the stack or local mode creates must use the same ones,
or every StartJobRun would fail on its idempotency write. The prefix is fixed, rather than
Powertools' default of the function's name, so renaming or splitting functions forgets no run;
it names the trigger, so each function's role can be limited to its own trigger's records
(:func:`leading_key_pattern`, a ``dynamodb:LeadingKeys`` condition).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "EXPIRY_ATTRIBUTE",
    "IN_PROGRESS",
    "IN_PROGRESS_EXPIRY_ATTRIBUTE",
    "KEY_ATTRIBUTE",
    "KEY_PREFIX",
    "STATUS_ATTRIBUTE",
    "key_schema",
    "leading_key_pattern",
    "record_key_prefix",
    "time_to_live",
]

KEY_ATTRIBUTE = "id"
EXPIRY_ATTRIBUTE = "expiration"
KEY_PREFIX = "gluetrigger"
# Written by Powertools with each record: its state, and until when (epoch milliseconds) an
# in-progress record holds (the invocation's deadline).
STATUS_ATTRIBUTE = "status"
IN_PROGRESS = "INPROGRESS"
IN_PROGRESS_EXPIRY_ATTRIBUTE = "in_progress_expiration"


def record_key_prefix(trigger: str) -> str:
    """What every record key of ``trigger`` starts with, before ``#`` and the hashed idempotency key."""
    return f"{KEY_PREFIX}#{trigger}"


def leading_key_pattern(trigger: str) -> str:
    """An IAM ``StringLike`` pattern that matches exactly ``trigger``'s record keys."""
    return f"{record_key_prefix(trigger)}#*"


def key_schema() -> dict[str, Any]:
    """The table's key as DynamoDB's CreateTable takes it: a string partition key, nothing else."""
    return {
        "KeySchema": [{"AttributeName": KEY_ATTRIBUTE, "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": KEY_ATTRIBUTE, "AttributeType": "S"}],
    }


def time_to_live() -> dict[str, Any]:
    """The table's TTL as UpdateTimeToLive's TimeToLiveSpecification takes it."""
    return {"Enabled": True, "AttributeName": EXPIRY_ATTRIBUTE}
