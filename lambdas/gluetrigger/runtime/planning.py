"""From what arrived to a plan: validate the payload, normalize its events, plan their runs.

Validation comes first so that a payload the handler cannot read is refused with one line
naming the field at fault (:mod:`gluetrigger.runtime.inbound`), never a traceback from deep in
normalization; the pure core then normalizes and plans (:mod:`gluetrigger.core.planner`). An
event the handler cannot read comes back as an :class:`~gluetrigger.runtime.outcomes.EventRejected`
value, not an exception: refusing it is a normal outcome, settled like any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gluetrigger.core.batching import read_flush
from gluetrigger.core.errors import EventShapeError
from gluetrigger.core.events import decode_json, normalize, normalize_checked_message
from gluetrigger.runtime.inbound import InvalidEventError
from gluetrigger.runtime.outcomes import EventRejected

if TYPE_CHECKING:
    from gluetrigger.core.planner import Plan, Planner
    from gluetrigger.runtime.delivery import Delivery
    from gluetrigger.runtime.inbound import InboundValidator

__all__ = ["Planning"]


class Planning:
    """Every shape's schema and the function's triggers, compiled once per container."""

    def __init__(self, validator: InboundValidator, planner: Planner) -> None:
        self._validator = validator
        self._planner = planner

    def check(self, event: object, delivery: Delivery) -> str | EventRejected:
        """The shape of a direct invocation's payload (:data:`~gluetrigger.runtime.inbound.SQS_BATCH`
        for a batch), or why the handler cannot read it."""
        try:
            return self._validator.check(event)
        except InvalidEventError as error:
            return EventRejected(delivery, str(error))

    def plan_event(self, event: object, delivery: Delivery) -> Plan | EventRejected:
        """The plan for a direct invocation's payload, once :meth:`check` has accepted it."""
        try:
            items = normalize(event)
        except EventShapeError as error:
            return EventRejected(delivery, str(error))
        return self._planner.plan(items)

    def plan_message(self, delivery: Delivery) -> Plan | EventRejected:
        """The plan for an SQS message's body: JSON, of a shape the handler knows."""
        try:
            # Not json.loads: a hostile body (thousands of levels deep, a lone surrogate) must be
            # refused with a reason, never a RecursionError.
            document = decode_json(delivery.body())
            flush = read_flush(document)  # a batch trigger's own message to itself
        except EventShapeError as error:
            return EventRejected(delivery, f"message body is {error}")
        if flush is not None:
            return self._planner.plan_flush(flush, delivery.source)
        try:
            self._validator.check_walked(document)  # decode_json has checked it
        except InvalidEventError as error:
            return EventRejected(delivery, str(error))
        # A message's source is its message id.
        return self._planner.plan(normalize_checked_message(document, delivery.source, delivery.queue_arn))
