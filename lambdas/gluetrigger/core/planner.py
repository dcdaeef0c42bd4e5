"""Decide, for normalized events, which triggers fire and with which StartJobRun request.

This is the pure heart of the service: no I/O, so the CLI's ``render``, the Lambda handler and
local mode all make the same decision for the same event. Each event ends as exactly one of: a
planned run per matching trigger, ignored (with the reason), or rejected (with the trigger and
the reason), so nothing is dropped silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeAlias

from gluetrigger.core.batching import BatchFile, BatchFlush
from gluetrigger.core.errors import RenderError
from gluetrigger.core.events import Ignored, InboundEvent, Malformed
from gluetrigger.core.index import EventIndex, S3Index
from gluetrigger.core.model import ScheduleSource
from gluetrigger.core.naming import schedule_owner
from gluetrigger.core.retry import FailedRun, state_change
from gluetrigger.core.run_key import run_key
from gluetrigger.core.start_job_run import ARGUMENTS_MAX_BYTES, RequestShape, arguments_size
from gluetrigger.core.templates import local_time
from gluetrigger.core.variables import event_variables

if TYPE_CHECKING:
    from collections.abc import Iterable

    from jmespath.parser import ParsedResult

    from gluetrigger.core.events import Item
    from gluetrigger.core.model import Config, Trigger
    from gluetrigger.core.patterns import FlatEvent
    from gluetrigger.core.templates import Placeholder

__all__ = ["Plan", "PlannedRun", "Planner", "Rejection", "RunLayout", "Skip", "build_request", "planned_run"]

# A trigger that matched an event, and the variables its key_pattern's named groups captured.
_Match: TypeAlias = tuple["Trigger", dict[str, str | None]]


@dataclass(frozen=True)
class PlannedRun:
    trigger: Trigger
    idempotency_key: str
    request: dict[str, Any]
    event: InboundEvent
    # The run-key argument's value in ``request`` (gluetrigger.core.run_key); None when turned off.
    run_key: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger.name,
            "idempotency_key": self.idempotency_key,
            "request": self.request,
        }


@dataclass(frozen=True)
class Skip:
    """An event deliberately ignored, and why."""

    reason: str
    origin: str
    message_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "event": self.origin}


@dataclass(frozen=True)
class Rejection:
    """An event a trigger matched but cannot turn into a valid run, or a malformed record."""

    trigger: str | None
    reason: str
    origin: str
    message_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"trigger": self.trigger, "reason": self.reason, "event": self.origin}


@dataclass
class Plan:
    runs: list[PlannedRun] = field(default_factory=list)
    ignored: list[Skip] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    # Files that batch triggers matched: each joins its trigger's open batch (gluetrigger.core.batching).
    batched: list[BatchFile] = field(default_factory=list)
    # Batches whose window is over: each closes and starts (a flush message's plan).
    flushes: list[BatchFlush] = field(default_factory=list)
    # Runs of retry triggers' jobs that failed: each is retried, or not (gluetrigger.core.retry).
    retries: list[FailedRun] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``{"runs", "ignored"}``, plus ``"rejected"``, ``"batched"`` and ``"retries"`` only when there are some."""
        document: dict[str, Any] = {
            "runs": [r.to_json() for r in self.runs],
            "ignored": [i.to_json() for i in self.ignored],
        }
        if self.rejected:
            document["rejected"] = [r.to_json() for r in self.rejected]
        if self.batched:
            document["batched"] = [b.to_json() for b in self.batched]
        if self.retries:
            document["retries"] = [{"trigger": r.trigger.name, "failed_run": r.describe()} for r in self.retries]
        return document


class Planner:
    """Matches events against a config's triggers; built once (at Lambda init), used per event.

    The triggers are indexed (:mod:`gluetrigger.core.index`) and event patterns compiled here, so
    an event costs the triggers that can match it, not every trigger of the config. Only an event
    that matches nothing is checked against every trigger that could have taken it, to say why.
    """

    def __init__(self, config: Config, only: str | None = None) -> None:
        self.only = only
        triggers = [t for t in config.triggers if only is None or t.name == only]
        self._s3 = S3Index(triggers)
        self._schedules = {t.name: t for t in triggers if isinstance(t.source, ScheduleSource)}
        self._events = EventIndex(triggers)
        self._batching = {t.name for t in triggers if t.batch is not None}
        self._retrying = [t for t in triggers if t.retry is not None]
        self._layouts = {t.name: RunLayout(t) for t in triggers if t.batch is None}

    def plan(self, items: Iterable[Item]) -> Plan:
        plan = Plan()
        for item in items:
            if isinstance(item, Ignored):
                plan.ignored.append(Skip(item.reason, item.origin, item.message_id))
            elif isinstance(item, Malformed):
                plan.rejected.append(Rejection(None, item.reason, item.origin, item.message_id))
            else:
                self._plan_event(item, plan)
        return plan

    def plan_flush(self, flush: BatchFlush, origin: str) -> Plan:
        """A flush message's plan: close and start its batch, if it names one of these batch triggers."""
        if flush.trigger in self._batching:
            return Plan(flushes=[flush])
        reason = f"a batch flush for {flush.trigger!r}, which is not a batch trigger of this function"
        return Plan(rejected=[Rejection(None, reason, origin, origin)])

    def _plan_event(self, event: InboundEvent, plan: Plan) -> None:
        if self._retrying and self._plan_retries(event, plan):
            return
        flat = _Flat(event, self._events.roots)
        matched = [*self._s3_matches(event), *self._schedule_matches(event), *self._event_matches(event, flat)]
        if not matched:
            misses = self._misses(event, flat)
            detail = f" ({'; '.join(misses)})" if misses else ""
            plan.ignored.append(Skip(f"no trigger matches {event.describe()}{detail}", event.origin, event.message_id))
            return
        for trigger, groups in matched:
            if trigger.batch is not None:
                plan.batched.append(BatchFile(trigger, event))
                continue
            try:
                plan.runs.append(self._planned_run(trigger, event, groups))
            except RenderError as exc:
                plan.rejected.append(Rejection(exc.trigger, exc.reason, event.origin, event.message_id))

    def _planned_run(self, trigger: Trigger, event: InboundEvent, groups: dict[str, str | None]) -> PlannedRun:
        layout = self._layouts[trigger.name]
        return planned_run(trigger, event, event_variables(trigger.name, event, groups, layout.names), layout)

    def _plan_retries(self, event: InboundEvent, plan: Plan) -> bool:
        """A state change of a retry trigger's job: a failed run to retry, or why not; whether it was one."""
        change = state_change(event)
        if change is None:
            return False
        owners = [t for t in self._retrying if t.job.name == change.job_name]
        for trigger in owners:
            failed = FailedRun(trigger, change, event)
            if trigger.retry is not None and change.state in trigger.retry.on:
                plan.retries.append(failed)
            else:
                reason = f"{trigger.name}: {failed.describe()} is not a state its retry.on lists"
                plan.ignored.append(Skip(reason, event.origin, event.message_id))
        return bool(owners)

    def _s3_matches(self, event: InboundEvent) -> list[_Match]:
        """S3 triggers on the event's bucket whose prefix, suffix and key_pattern pass, with key_pattern's groups."""
        if event.s3 is None:
            return []
        key = event.s3.key
        matched: list[_Match] = []
        for entry in self._s3.candidates(event.s3.bucket, key):
            source = entry.source
            if not key.endswith(source.suffix):
                continue
            if source.key_pattern is None:
                matched.append((entry.trigger, {}))
            elif (found := source.key_pattern.search(key)) is not None:
                matched.append((entry.trigger, found.groupdict()))
        return matched

    def _schedule_matches(self, event: InboundEvent) -> list[_Match]:
        if event.kind != "schedule":
            return []
        owner = self.only if self.only in self._schedules else schedule_owner(event.schedule_name or "")
        return [(self._schedules[owner], {})] if owner in self._schedules else []

    def _event_matches(self, event: InboundEvent, flat: _Flat) -> list[_Match]:
        """Event triggers whose pattern matches."""
        if event.envelope is None or not self._events.entries:
            return []
        return [
            (entry.trigger, {})
            for entry in self._events.candidates(event.envelope)
            if entry.pattern.matches(flat.get())
        ]

    def _misses(self, event: InboundEvent, flat: _Flat) -> list[str]:
        """Why each trigger that could have taken an event matched by none did not, in config order.

        The s3 triggers on its bucket say which filter stopped the key; the event triggers name the
        first field of their pattern that failed. An ignored event then says what stopped it.
        """
        misses: list[str] = []
        if event.s3 is not None:
            for s3 in self._s3.on_bucket(event.s3.bucket):
                why_not = s3.source.key_matches(event.s3.key)
                if why_not:
                    misses.append(f"{s3.trigger.name}: {why_not}")
        if event.envelope is not None and self._events.entries:
            misses += self._events.misses(event.envelope, flat.get())
        return misses


class _Flat:
    """An event's envelope as patterns read it: flattened once, and only when a pattern needs it."""

    def __init__(self, event: InboundEvent, roots: frozenset[str]) -> None:
        self._envelope = event.envelope
        self._roots = roots
        self._flat: FlatEvent | None = None

    def get(self) -> FlatEvent:
        if self._flat is None:
            from gluetrigger.core.patterns import flatten

            self._flat = flatten(self._envelope or {}, self._roots)
        return self._flat


class RunLayout:
    """What every run of one trigger shares, whatever the event: worked out once per trigger.

    The planner lays out each of its triggers when it is built, so that an event pays only for
    what depends on it: the request's fixed members are encoded once
    (:class:`~gluetrigger.core.start_job_run.RequestShape`), the arguments without placeholders
    are counted once against Glue's size limit, and only the ``${name}`` variables the trigger's
    templates use are computed (:func:`~gluetrigger.core.variables.event_variables`).
    """

    def __init__(self, trigger: Trigger) -> None:
        job = trigger.job
        templates = [*job.arguments.values(), *(t for t in (job.job_run_id, trigger.idempotency_key) if t)]
        self.names = frozenset(p.arg for t in templates for p in t.placeholders if p.kind == "var")
        self.shape = RequestShape({**job.settings, "name": job.name}, ("job_run_id", "arguments"))
        # The arguments whose size depends on the event, by name: those with placeholders, and the
        # run key's when it is sent. The others are counted once, unless one has the run key's name
        # (the run key would replace its value).
        rendered = [name for name, t in job.arguments.items() if t.placeholders]
        if job.run_key_argument is not None:
            rendered.append(job.run_key_argument)
        # Each with its own size in bytes, counted once.
        self._counted = tuple((name, len(name.encode())) for name in rendered)
        self._fixed_size: int | None = None
        if job.run_key_argument not in job.arguments:
            # A template without placeholders is all literal text: its parts are strings.
            fixed = {name: "".join(map(str, t.parts)) for name, t in job.arguments.items() if not t.placeholders}
            self._fixed_size = arguments_size(fixed)

    def arguments_size(self, arguments: dict[str, str]) -> int:
        """:func:`~gluetrigger.core.start_job_run.arguments_size` of a run's rendered ``arguments``."""
        if self._fixed_size is None:
            return arguments_size(arguments)
        size = self._fixed_size
        for name, name_size in self._counted:
            value = arguments.get(name)
            if value is not None:  # the run key's argument, when it is not sent
                size += name_size + len(value.encode())
        return size


def planned_run(
    trigger: Trigger, event: InboundEvent, values: dict[str, str | None], layout: RunLayout | None = None
) -> PlannedRun:
    """The run ``trigger`` plans for ``event``, its ``${name}`` placeholders given ``values``.

    ``layout``: the trigger's, when the caller keeps it (the planner does); else it is laid out here.
    RenderError when a value the templates need is missing or the request is too large.
    """
    resolve = _Resolver(trigger, event, values)
    if trigger.idempotency_key is not None:
        key = f"{trigger.name}:{trigger.idempotency_key.render(resolve)}"
    else:
        key = f"{trigger.name}:{_default_key(event)}"
    tag = None if trigger.job.run_key_argument is None else run_key(key)
    request = build_request(trigger, resolve, tag, layout or RunLayout(trigger))
    return PlannedRun(trigger=trigger, idempotency_key=key, request=request, event=event, run_key=tag)


def _default_key(event: InboundEvent) -> str:
    if event.s3 is not None:
        obj = event.s3
        version = obj.sequencer or obj.version_id or obj.etag or event.event_id
        return f"{obj.bucket}/{obj.key}@{version}"
    if event.kind == "schedule":
        return event.event_time_iso
    return event.event_id


def build_request(trigger: Trigger, resolve: _Resolver, tag: str | None, layout: RunLayout) -> dict[str, Any]:
    """The StartJobRun request, in API field names and order; unset fields omitted.

    ``tag`` is the run key, sent in the trigger's run-key argument after the job's own arguments;
    ``layout`` is the trigger's.
    """
    job = trigger.job
    job_run_id = None if job.job_run_id is None else job.job_run_id.render(resolve)
    arguments = {name: template.render(resolve) for name, template in job.arguments.items()}
    if tag is not None and job.run_key_argument is not None:
        arguments[job.run_key_argument] = tag
    size = layout.arguments_size(arguments)
    if size > ARGUMENTS_MAX_BYTES:
        raise RenderError(
            trigger.name,
            f"arguments are {size} bytes after rendering; Glue's limit is {ARGUMENTS_MAX_BYTES}",
        )
    # The typed JobSpec attributes, rendered, next to the plain settings (start_job_run says why).
    return layout.shape.fill({"job_run_id": job_run_id, "arguments": arguments or None})


class _Resolver:
    """Gives each placeholder its value for one event; a missing or empty value rejects the event."""

    def __init__(self, trigger: Trigger, event: InboundEvent, values: dict[str, str | None]) -> None:
        self.trigger = trigger.name
        self.timezone = trigger.templates_timezone
        self.event = event
        self.values = values

    def __call__(self, placeholder: Placeholder) -> str:
        # ${name} first: the most common placeholder.
        if placeholder.kind == "var":
            value: str | None = self.values.get(placeholder.arg)
        elif placeholder.kind == "time":
            value = self._time(placeholder)
        else:  # event
            from jmespath.exceptions import JMESPathError, JMESPathTypeError

            try:
                value = _query(placeholder.arg, self.event.raw)
            except JMESPathError as exc:
                # A function given the wrong type (length() of a number) fails only on the event;
                # the reason names the types, never the event's value (it may be sensitive).
                if isinstance(exc, JMESPathTypeError):
                    expected = " or ".join(exc.expected_types)
                    why = f"{exc.function_name}() got {exc.actual_type}, expected {expected}"
                else:
                    why = str(exc).splitlines()[0]
                raise RenderError(
                    self.trigger, f"{placeholder} cannot be evaluated on {self.event.describe()}: {why}"
                ) from None
        if not value:
            raise RenderError(self.trigger, f"variable {placeholder} is missing or empty in {self.event.describe()}")
        return value

    def _time(self, placeholder: Placeholder) -> str:
        try:
            moment = local_time(self.event.event_time, placeholder.offset, self.timezone)
        except OverflowError:
            # An event dated at the edge of year 1 or 9999, shifted or seen in a zone beyond it.
            raise RenderError(
                self.trigger, f"{placeholder} falls outside the years 1 to 9999 for {self.event.describe()}"
            ) from None
        return moment.strftime(placeholder.arg)


@lru_cache(maxsize=256)
def _compiled(expression: str) -> ParsedResult:
    """The ``${event:EXPR}`` expression parsed once, not on every event (config expressions are few)."""
    import jmespath

    return jmespath.compile(expression)


def _query(expression: str, raw: object) -> str | None:
    found = _compiled(expression).search(raw)
    if found is None or isinstance(found, str):
        return found
    if isinstance(found, bool):
        return "true" if found else "false"
    return json.dumps(found, separators=(",", ":"), ensure_ascii=False)
