"""The idempotency record's names must be the ones Powertools writes, or the table would refuse its records."""

from __future__ import annotations

import inspect

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from gluetrigger.core.idempotency_record import EXPIRY_ATTRIBUTE, KEY_ATTRIBUTE, key_schema, time_to_live


def test_attribute_names_are_powertools_defaults() -> None:
    defaults = inspect.signature(DynamoDBPersistenceLayer.__init__).parameters
    assert (defaults["key_attr"].default, defaults["expiry_attr"].default) == (KEY_ATTRIBUTE, EXPIRY_ATTRIBUTE)


def test_table_shape_names_the_key_and_the_ttl_attribute() -> None:
    assert key_schema() == {
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    }
    assert time_to_live() == {"Enabled": True, "AttributeName": "expiration"}
