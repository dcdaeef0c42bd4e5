"""A batch trigger's batches in the idempotency table: every read and conditional write they need.

The layout is named in :mod:`gluetrigger.core.idempotency_record`: one head item per trigger
(the open batch's number and fill), and per file a marker (which batch and slot it took) and a
member (its manifest record), per closed batch an item with its size and times. Each step that
changes the batches is one DynamoDB transaction whose conditions hold only if nothing changed
since the head was read (:meth:`BatchStore.claim`, :meth:`BatchStore.close`): of concurrent
claims for a slot, exactly one commits, the others are told :class:`ContendedError` and read again;
a file whose marker exists is told :class:`AlreadyClaimedError`, with the slot it took. Reads are
strongly consistent, so a read after a commit sees it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from gluetrigger.core.batching import ClosedBatch, Head
from gluetrigger.core.errors import GlueTriggerError
from gluetrigger.core.idempotency_record import (
    EXPIRY_ATTRIBUTE,
    KEY_ATTRIBUTE,
    batch_file_key,
    batch_head_key,
    batch_key,
    batch_member_key,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gluetrigger.core.batching import Claim

__all__ = ["AlreadyClaimedError", "BatchStore", "ContendedError", "FileClaim", "Started"]

# BatchGetItem reads at most 100 keys per call.
_BATCH_GET_MAX = 100
_NOT_THERE = f"attribute_not_exists({KEY_ATTRIBUTE})"
_FAILED_CONDITION = "ConditionalCheckFailed"


class ContendedError(GlueTriggerError):
    """Another claim or close changed the trigger's batches first: retry from ``head``, the head as it now is.

    ``head`` is None when DynamoDB did not return it: read it again.
    """

    def __init__(self, message: str, head: Head | None = None) -> None:
        super().__init__(message)
        self.head = head


class AlreadyClaimedError(GlueTriggerError):
    """The file joined a batch before (a duplicate delivery): ``seq`` and ``slot`` say which."""

    def __init__(self, seq: int, slot: int) -> None:
        super().__init__(f"already in slot {slot} of batch {seq}")
        self.seq = seq
        self.slot = slot


@dataclass(frozen=True)
class FileClaim:
    """What a claim writes: the file (its digest and manifest record) and where the first file came from."""

    digest: str
    record: str  # the manifest record, as JSON
    region: str | None
    account: str | None


@dataclass(frozen=True)
class Started:
    """A closed batch, and the run it started (None until one did)."""

    batch: ClosedBatch
    run_id: str | None


class BatchStore:
    """One trigger's batch items in ``table``; ``ttl_seconds``: how long markers and closed batches live."""

    def __init__(self, dynamodb: Any, table: str, trigger: str, ttl_seconds: int) -> None:
        self._dynamodb = dynamodb
        self._table = table
        self._trigger = trigger
        self._ttl_seconds = ttl_seconds

    def head(self) -> Head:
        """The open batch, as last committed (a fresh trigger's: batch 1, empty)."""
        item = self._get(batch_head_key(self._trigger))
        return Head() if item is None else _head_of(item)

    def claim(self, claim: Claim, head: Head, file: FileClaim, now: datetime) -> None:
        """Take ``claim``'s slot for ``file``, if ``head`` is still the open batch; close it when full."""
        seq, slot = claim.seq, claim.slot
        marker = {"seq": _n(seq), "slot": _n(slot)}
        writes = [
            self._put(batch_file_key(self._trigger, file.digest), marker, return_old=True),
            self._head_update(claim, head, file, now),
            self._put(batch_member_key(self._trigger, seq, slot), {"file": _s(file.record)}),
        ]
        if claim.closes:
            opened = Head(opened_at=now, region=file.region, account=file.account) if claim.opens else head
            writes.append(self._closed_put(seq, slot, opened, now))
        self._transact(writes, claims_file=True)

    def close(self, head: Head, now: datetime) -> None:
        """Close the open batch ``head`` with the files it holds (its window is over)."""
        update = {
            "Key": _key(batch_head_key(self._trigger)),
            "UpdateExpression": "SET #seq = :next, #count = :zero",
            "ConditionExpression": "#seq = :seq AND #count = :count",
            "ExpressionAttributeNames": {"#seq": "seq", "#count": "count"},
            "ExpressionAttributeValues": {
                ":next": _n(head.seq + 1),
                ":zero": _n(0),
                ":seq": _n(head.seq),
                ":count": _n(head.count),
            },
        }
        self._transact(
            [{"Update": {"TableName": self._table, **update}}, self._closed_put(head.seq, head.count, head, now)]
        )

    def marker(self, digest: str) -> tuple[int, int]:
        """The batch and slot the file with ``digest`` took."""
        item = self._get(batch_file_key(self._trigger, digest))
        if item is None:
            raise ContendedError("the file's marker is not there yet")
        return _number(item, "seq") or 0, _number(item, "slot") or 0

    def closed(self, seq: int) -> Started | None:
        """Batch ``seq`` once closed (None while it is not), and its run once one started."""
        item = self._get(batch_key(self._trigger, seq))
        opened_at, closed_at = (_time(item, "opened_at"), _time(item, "closed_at")) if item else (None, None)
        if item is None or opened_at is None or closed_at is None:
            return None
        batch = ClosedBatch(
            self._trigger,
            seq,
            _number(item, "size") or 0,
            opened_at,
            closed_at,
            _text(item, "region"),
            _text(item, "account"),
        )
        return Started(batch, _text(item, "run_id"))

    def members(self, seq: int, size: int) -> list[str]:
        """The manifest records of batch ``seq``'s slots 1..``size``, in slot order."""
        keys = [batch_member_key(self._trigger, seq, slot) for slot in range(1, size + 1)]
        found: dict[str, str] = {}
        for start in range(0, len(keys), _BATCH_GET_MAX):
            found.update(self._get_many(keys[start : start + _BATCH_GET_MAX]))
        missing = [key for key in keys if key not in found]
        if missing:
            raise ContendedError(f"batch {seq} lacks {len(missing)} of its {size} files")
        return [found[key] for key in keys]

    def mark_flush_sent(self, seq: int) -> None:
        """Note that batch ``seq``'s flush is on its way (unless the batch has closed meanwhile)."""
        self._update_if(
            batch_head_key(self._trigger), "SET flush_sent = :seq", "#seq = :seq", {":seq": _n(seq)}, {"#seq": "seq"}
        )

    def mark_started(self, seq: int, run_id: str) -> None:
        """Note batch ``seq``'s run, so a duplicate file of it starts nothing and reads nothing more."""
        self._update_if(batch_key(self._trigger, seq), "SET run_id = :run", _EXISTS, {":run": _s(run_id)}, {})

    # -- the calls -------------------------------------------------------------------------

    def _get(self, key: str) -> Mapping[str, Any] | None:
        response = self._dynamodb.get_item(TableName=self._table, Key=_key(key), ConsistentRead=True)
        item: Mapping[str, Any] | None = response.get("Item")
        return item

    def _get_many(self, keys: list[str]) -> dict[str, str]:
        """Each key's ``file`` attribute; keys DynamoDB leaves unprocessed are asked for again."""
        found: dict[str, str] = {}
        request: dict[str, Any] = {self._table: {"Keys": [_key(k) for k in keys], "ConsistentRead": True}}
        while request:
            response = self._dynamodb.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(self._table, []):
                found[item[KEY_ATTRIBUTE]["S"]] = item["file"]["S"]
            request = response.get("UnprocessedKeys") or {}
        return found

    def _transact(self, writes: list[dict[str, Any]], *, claims_file: bool = False) -> None:
        """Commit ``writes`` or raise why not; ``claims_file``: the first write is a file's marker."""
        try:
            self._dynamodb.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons") or []
            first = reasons[0] if reasons else {}
            if claims_file and first.get("Code") == _FAILED_CONDITION:
                old = first.get("Item") or {}
                raise AlreadyClaimedError(_number(old, "seq") or 0, _number(old, "slot") or 0) from None
            # A claim's second write is the head's update: a lost race returns the head that won it.
            head = reasons[1].get("Item") if claims_file and len(reasons) > 1 else None
            raise ContendedError(str(error), _head_of(head) if head else None) from None

    def _update_if(self, key: str, update: str, condition: str, values: dict[str, Any], names: dict[str, str]) -> None:
        """A conditional UpdateItem whose failed condition means there is nothing left to do."""
        extra = {"ExpressionAttributeNames": names} if names else {}
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key=_key(key),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                **extra,
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    # -- the items ---------------------------------------------------------------------------

    def _put(self, key: str, attributes: dict[str, Any], *, return_old: bool = False) -> dict[str, Any]:
        """A transaction's Put of a new item (never over an existing one), expiring with the trigger's TTL."""
        item = {KEY_ATTRIBUTE: _s(key), **attributes, EXPIRY_ATTRIBUTE: _n(int(time.time()) + self._ttl_seconds)}
        put: dict[str, Any] = {"TableName": self._table, "Item": item, "ConditionExpression": _NOT_THERE}
        if return_old:
            put["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return {"Put": put}

    def _head_update(self, claim: Claim, head: Head, file: FileClaim, now: datetime) -> dict[str, Any]:
        """The head's update for ``claim``: one more file, or the next batch when it closes this one."""
        values: dict[str, Any] = {":seq": _n(head.seq), ":count": _n(head.count)}
        if claim.closes:
            assignments = ["#seq = :next", "#count = :zero"]
            values.update({":next": _n(claim.seq + 1), ":zero": _n(0)})
        else:
            assignments = ["#seq = :seq", "#count = :filled"]
            values[":filled"] = _n(claim.slot)
        removals: list[str] = []
        names: dict[str, str] = {}
        if claim.opens and not claim.closes:
            names = {"#region": "region", "#account": "account"}
            assignments.append("opened_at = :now")
            values[":now"] = _s(now.isoformat())
            for name, value in (("region", file.region), ("account", file.account)):
                if value is None:
                    removals.append(f"#{name}")
                else:
                    assignments.append(f"#{name} = :{name}")
                    values[f":{name}"] = _s(value)
        expression = "SET " + ", ".join(assignments) + (" REMOVE " + ", ".join(removals) if removals else "")
        update = {
            "TableName": self._table,
            "Key": _key(batch_head_key(self._trigger)),
            "UpdateExpression": expression,
            # A fresh trigger has no head yet; otherwise it must be the one read.
            "ConditionExpression": f"{_NOT_THERE} OR (#seq = :seq AND #count = :count)",
            # When another claim won, its head comes back with the cancellation: no read to retry.
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            # Region is one of DynamoDB's reserved words: every name goes through a placeholder.
            "ExpressionAttributeNames": {"#seq": "seq", "#count": "count", **names},
            "ExpressionAttributeValues": values,
        }
        return {"Update": update}

    def _closed_put(self, seq: int, size: int, opened: Head, now: datetime) -> dict[str, Any]:
        attributes = {
            "size": _n(size),
            "opened_at": _s((opened.opened_at or now).isoformat()),
            "closed_at": _s(now.isoformat()),
        }
        for name, value in (("region", opened.region), ("account", opened.account)):
            if value is not None:
                attributes[name] = _s(value)
        return self._put(batch_key(self._trigger, seq), attributes)


_EXISTS = f"attribute_exists({KEY_ATTRIBUTE})"


def _head_of(item: Mapping[str, Any]) -> Head:
    """The head item as a :class:`Head`."""
    return Head(
        seq=_number(item, "seq") or 1,
        count=_number(item, "count") or 0,
        opened_at=_time(item, "opened_at"),
        flush_sent=_number(item, "flush_sent") or 0,
        region=_text(item, "region"),
        account=_text(item, "account"),
    )


def _key(key: str) -> dict[str, Any]:
    return {KEY_ATTRIBUTE: _s(key)}


def _s(text: str) -> dict[str, str]:
    return {"S": text}


def _n(number: int) -> dict[str, str]:
    return {"N": str(number)}


def _number(item: Mapping[str, Any], name: str) -> int | None:
    value = item.get(name, {}).get("N")
    return None if value is None else int(value)


def _text(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name, {}).get("S")
    return value if isinstance(value, str) else None


def _time(item: Mapping[str, Any], name: str) -> datetime | None:
    value = _text(item, name)
    return None if value is None else datetime.fromisoformat(value)
