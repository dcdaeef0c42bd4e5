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

A batch trigger's batches (:mod:`gluetrigger.core.batching`) live in the same table, under the
same prefix, so the same condition covers them: :func:`batch_head_key` (the open batch's number
and fill; never expires, or batch numbers would repeat), :func:`batch_file_key` (which batch a
file joined), :func:`batch_member_key` (a batch's file, by slot) and :func:`batch_key` (a closed
batch). No Powertools key collides with them: its keys end in a hex digest.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "EXPIRY_ATTRIBUTE",
    "IN_PROGRESS",
    "IN_PROGRESS_EXPIRY_ATTRIBUTE",
    "KEY_ATTRIBUTE",
    "KEY_PREFIX",
    "MANUAL_START",
    "STATUS_ATTRIBUTE",
    "batch_file_key",
    "batch_head_key",
    "batch_key",
    "batch_member_key",
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
# The records of manual starts (``gluetrigger start-job-run --idempotency-key``), in place of a
# trigger's name: no trigger can be called this (names are [a-z0-9-]), so a manual start's record
# (``gluetrigger#_manual#<hash>``) never shares a key with a trigger's, nor its IAM condition.
MANUAL_START = "_manual"


def record_key_prefix(trigger: str) -> str:
    """What every record key of ``trigger`` starts with, before ``#`` and the hashed idempotency key."""
    return f"{KEY_PREFIX}#{trigger}"


def batch_head_key(trigger: str) -> str:
    """The item holding ``trigger``'s open batch: its number, how many files it holds, when it opened."""
    return f"{record_key_prefix(trigger)}#batch-head"


def batch_file_key(trigger: str, file_digest: str) -> str:
    """The item saying which batch, and which slot of it, the file with ``file_digest`` joined."""
    return f"{record_key_prefix(trigger)}#batch-file#{file_digest}"


def batch_member_key(trigger: str, seq: int, slot: int) -> str:
    """The item holding the manifest's record of the file in ``slot`` (from 1) of batch ``seq``."""
    return f"{batch_key(trigger, seq)}#{slot}"


def batch_key(trigger: str, seq: int) -> str:
    """The item of batch number ``seq`` once closed: its size and when it opened and closed."""
    return f"{record_key_prefix(trigger)}#batch#{seq}"


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
