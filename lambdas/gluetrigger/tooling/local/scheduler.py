"""Fire schedule triggers: local mode plays EventBridge's part, since the emulator never fires.

A schedule fires by putting an EventBridge "Scheduled Event" on the trigger's queue, shaped as
the deployed stack's source sends it: an EventBridge rule's event without a timezone; with one,
the envelope the stack sets as its EventBridge Scheduler schedule's input. It is named with
:func:`gluetrigger.core.naming.schedule_resource_name`, so the handler knows which trigger owns it,
and timed at the scheduled time, not the moment it was sent. ``gluetrigger local fire`` sends
the same event from another process.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from gluetrigger.core.events import format_time
from gluetrigger.core.model import ScheduleSource
from gluetrigger.core.naming import schedule_resource_name
from gluetrigger.core.schedule import ScheduleError, parse_schedule
from gluetrigger.tooling.local.provision import RESOURCE_PREFIX

if TYPE_CHECKING:
    from gluetrigger.core.model import Trigger

__all__ = ["Scheduler", "next_fire", "scheduled_event", "send_scheduled_event"]

# Sleep in slices of at most this, so a changed wall clock (a laptop waking up) is noticed.
MAX_SLEEP_SECONDS = 30.0


def next_fire(trigger: Trigger, after: datetime) -> datetime | None:
    """When ``trigger``'s schedule fires next after ``after`` (UTC); None if it never fires again."""
    source = trigger.source
    if not isinstance(source, ScheduleSource):
        raise TypeError(f"{trigger.name} is not a schedule trigger")
    try:
        return parse_schedule(source.expression).next_after(after, source.timezone)
    except ScheduleError:
        return None


def scheduled_event(trigger: Trigger, when: datetime, account: str, region: str) -> dict[str, Any]:
    """The Scheduled Event the deployed stack's rule or schedule would deliver at ``when``."""
    source = trigger.source
    if not isinstance(source, ScheduleSource):
        raise TypeError(f"{trigger.name} is not a schedule trigger")
    name = schedule_resource_name(RESOURCE_PREFIX, trigger.name)
    if source.timezone is None:
        source_name, arn = "aws.events", f"arn:aws:events:{region}:{account}:rule/{name}"
    else:
        source_name, arn = "aws.scheduler", f"arn:aws:scheduler:{region}:{account}:schedule/default/{name}"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": source_name,
        "account": account,
        "time": format_time(when.replace(microsecond=0)),
        "region": region,
        "resources": [arn],
        "detail": {},
    }


def send_scheduled_event(sqs: Any, queue_url: str, event: dict[str, Any]) -> None:
    """Deliver a Scheduled Event as the rule's SQS target would: the event is the message body."""
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))


class Scheduler(threading.Thread):
    """Calls ``fire(trigger, scheduled_time)`` whenever a schedule trigger is due, until ``halt`` is set."""

    def __init__(
        self,
        triggers: list[Trigger],
        fire: Callable[[Trigger, datetime], None],
        halt: threading.Event,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        """``clock`` and ``sleep`` (default: waiting on ``halt``) let tests run days in a moment."""
        super().__init__(name="gluetrigger-scheduler", daemon=True)
        self._triggers = [t for t in triggers if isinstance(t.source, ScheduleSource)]
        self._fire = fire
        self._halt = halt
        self._clock = clock
        self._sleep = sleep or halt.wait

    def run(self) -> None:
        now = self._clock()
        due: dict[str, tuple[Trigger, datetime]] = {}
        for trigger in self._triggers:
            when = next_fire(trigger, now)
            if when is not None:
                due[trigger.name] = (trigger, when)
        while due and not self._halt.is_set():
            trigger, when = min(due.values(), key=lambda item: item[1])
            wait = (when - self._clock()).total_seconds()
            if wait > 0:
                self._sleep(min(wait, MAX_SLEEP_SECONDS))
                continue
            self._fire(trigger, when)
            # After a pause (a laptop asleep) EventBridge does not catch up on missed times; nor do we.
            following = next_fire(trigger, max(when, self._clock()))
            if following is None:
                del due[trigger.name]
            else:
                due[trigger.name] = (trigger, following)
