"""The idempotency table's record layout, named once for the stack, local mode, the tests and the runner.

Powertools' DynamoDBPersistenceLayer keeps one item per run key: its partition key,
:data:`KEY_ATTRIBUTE`, holds ``"<KEY_PREFIX>#<hash of the run key>"``, and DynamoDB's TTL deletes
it after :data:`EXPIRY_ATTRIBUTE` (epoch seconds). The attribute names are Powertools' defaults
(a unit test compares them); the table the stack or local mode creates must use the same ones,
or every StartJobRun would fail on its idempotency write. The prefix is fixed, rather than
Powertools' default of the function's name, so renaming or splitting functions forgets no run.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EXPIRY_ATTRIBUTE", "KEY_ATTRIBUTE", "KEY_PREFIX", "key_schema", "time_to_live"]

KEY_ATTRIBUTE = "id"
EXPIRY_ATTRIBUTE = "expiration"
KEY_PREFIX = "gluetrigger"


def key_schema() -> dict[str, Any]:
    """The table's key as DynamoDB's CreateTable takes it: a string partition key, nothing else."""
    return {
        "KeySchema": [{"AttributeName": KEY_ATTRIBUTE, "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": KEY_ATTRIBUTE, "AttributeType": "S"}],
    }


def time_to_live() -> dict[str, Any]:
    """The table's TTL as UpdateTimeToLive's TimeToLiveSpecification takes it."""
    return {"Enabled": True, "AttributeName": EXPIRY_ATTRIBUTE}
