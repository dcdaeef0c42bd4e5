"""The embedded emulator's TransactWriteItems is all or nothing and isolated, as DynamoDB's is.

Batch triggers' exactly-once claims rest on it (gluetrigger.tooling.local.moto_transactions
explains what moto 5.2 does without the fix): here, over HTTP, many threads run transactions at
once, half of them cancelled by a condition, against one table.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import TABLE

if TYPE_CHECKING:
    from tests.integration.conftest import Emulator

WRITERS = 200


def _claim(dynamodb: Any, index: int) -> bool:
    """Write item ``index`` and bump a shared counter, in one transaction; odd ones are cancelled."""
    condition = "attribute_not_exists(id)" if index % 2 == 0 else "attribute_exists(id)"
    try:
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {"id": {"S": f"txn#item#{index}"}},
                        "ConditionExpression": condition,
                    }
                },
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"id": {"S": "txn#counter"}},
                        "UpdateExpression": "ADD claims :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        return False
    return True


@pytest.fixture
def dynamodb(aws: Emulator) -> Any:
    return aws.client("dynamodb")


def test_concurrent_transactions_keep_every_committed_write_and_none_of_the_cancelled(dynamodb: Any) -> None:
    # Unrelated items written while the transactions run must survive their cancellations too.
    with ThreadPoolExecutor(max_workers=8) as pool:
        committed = list(pool.map(lambda i: _claim(dynamodb, i), range(WRITERS)))
        plain = list(
            pool.map(
                lambda i: dynamodb.put_item(TableName=TABLE, Item={"id": {"S": f"txn#plain#{i}"}}),
                range(WRITERS),
            )
        )
    assert committed == [index % 2 == 0 for index in range(WRITERS)]
    assert len(plain) == WRITERS
    ids = {item["id"]["S"] for item in dynamodb.scan(TableName=TABLE)["Items"]}
    assert {i for i in ids if i.startswith("txn#item#")} == {f"txn#item#{i}" for i in range(0, WRITERS, 2)}
    assert {i for i in ids if i.startswith("txn#plain#")} == {f"txn#plain#{i}" for i in range(WRITERS)}
    counter = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": "txn#counter"}}, ConsistentRead=True)["Item"]
    # Only the committed transactions counted: a cancelled one's update was undone, nobody else's.
    assert counter["claims"]["N"] == str(WRITERS // 2)


def test_a_cancelled_transaction_leaves_the_items_it_touched_as_they_were(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item={"id": {"S": "txn#kept"}, "value": {"N": "1"}})
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"id": {"S": "txn#kept"}},
                        "UpdateExpression": "SET #v = :two",
                        "ExpressionAttributeNames": {"#v": "value"},
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {"Put": {"TableName": TABLE, "Item": {"id": {"S": "txn#new"}}}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"id": {"S": "txn#missing"}},
                        "ConditionExpression": "attribute_exists(id)",
                    }
                },
            ]
        )
    kept = dynamodb.get_item(TableName=TABLE, Key={"id": {"S": "txn#kept"}}, ConsistentRead=True)["Item"]
    assert kept["value"] == {"N": "1"}
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"id": {"S": "txn#new"}}, ConsistentRead=True)
