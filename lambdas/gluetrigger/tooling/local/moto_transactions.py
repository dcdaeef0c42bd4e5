"""Make moto's DynamoDB TransactWriteItems atomic and isolated, as DynamoDB's are.

Batch triggers claim each file with one transaction (:mod:`gluetrigger.runtime.batch_store`), and
their exactly-once guarantee rests on DynamoDB's: a transaction is all or nothing, and no other
write interleaves with it. moto 5.2 gives neither under concurrent requests: it snapshots every
table a transaction touches (a deep copy of the whole table, which grows slower with every item)
and, when the transaction is cancelled, puts the snapshot back, erasing whatever other requests
wrote meanwhile; and its server handles requests on many threads with no lock. Under a burst of
concurrent claims, whole claims vanished.

:func:`install` serializes moto's DynamoDB item reads and writes behind one lock and makes a
cancelled transaction undo only the items it touched (the table snapshot becomes the table
itself). Only the embedded emulator installs it (local mode and the tests): an emulator the user
runs (``--endpoint-url``) is theirs.
"""

from __future__ import annotations

import copy
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["install"]

# One lock for every DynamoDB item operation of the process's moto (re-entrant: a transaction
# calls put_item, update_item, ... itself).
_LOCK = threading.RLock()
# Set while this thread runs a transaction: moto's whole-table snapshot is then the table itself.
_IN_TRANSACTION = threading.local()
_LOCKED_OPERATIONS = ("get_item", "put_item", "update_item", "delete_item", "query", "scan")
_INSTALLED = "_gluetrigger_atomic"


def install() -> None:
    """Patch moto's DynamoDB backend (idempotent)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if getattr(DynamoDBBackend, _INSTALLED, False):
        return
    for name in _LOCKED_OPERATIONS:
        setattr(DynamoDBBackend, name, _locked(getattr(DynamoDBBackend, name)))
    DynamoDBBackend.transact_write_items = _atomic(DynamoDBBackend.transact_write_items)  # type: ignore[method-assign]
    Table.__deepcopy__ = _table_deepcopy  # type: ignore[attr-defined]
    setattr(DynamoDBBackend, _INSTALLED, True)


def _locked(operation: Callable[..., Any]) -> Callable[..., Any]:
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return operation(*args, **kwargs)

    return locked


def _atomic(transact: Callable[..., Any]) -> Callable[..., Any]:
    """``transact`` under the lock, undoing only the items it touched when it is cancelled."""

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        with _LOCK:
            saved = [(table, key, _copy(table, key)) for table, key in _touched(backend, transact_items)]
            _IN_TRANSACTION.active = True
            try:
                transact(backend, transact_items)
            except Exception:
                for table, key, item in saved:
                    _restore(table, key, item)
                raise
            finally:
                _IN_TRANSACTION.active = False

    return transact_write_items


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, tuple[Any, Any]]]:
    """Each (table, (hash key, range key)) a transaction writes or checks; unknown tables are left to moto."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    touched = []
    for item in transact_items:
        for op_type, op in item.items():
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op["Item"] if op_type == "Put" else op.get("Key", {})
            hash_value, range_name = key.get(table.hash_key_attr), table.range_key_attr
            range_value = key.get(range_name) if range_name else None
            if hash_value is not None:
                touched.append(
                    (table, (DynamoType(hash_value), DynamoType(range_value) if range_value is not None else None))
                )
    return touched


def _copy(table: Any, key: tuple[Any, Any]) -> Any:
    hash_key, range_key = key
    if table.has_range_key and range_key is None:
        return None
    return copy.deepcopy(table.get_item(hash_key, range_key))


def _restore(table: Any, key: tuple[Any, Any], item: Any) -> None:
    """Put ``item`` (None: no item) back under ``key``, as it was before the transaction."""
    hash_key, range_key = key
    if table.has_range_key and range_key is None:
        return
    if item is None:
        table.delete_item(hash_key, range_key)
    elif range_key is not None:
        table.items[hash_key][range_key] = item
    else:
        table.items[hash_key] = item


def _table_deepcopy(table: Any, memo: dict[int, Any]) -> Any:
    """A table's deep copy; the table itself while this thread runs a transaction (see module doc)."""
    if getattr(_IN_TRANSACTION, "active", False):
        return table
    clone = object.__new__(type(table))
    memo[id(table)] = clone
    for name, value in table.__dict__.items():
        setattr(clone, name, copy.deepcopy(value, memo))
    return clone
