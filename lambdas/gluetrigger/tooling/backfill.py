"""``gluetrigger backfill``: start the runs of the files that landed before their trigger existed.

An S3 trigger hears of new objects only; what was in its bucket before it was deployed (or while
its rule was off) starts nothing. Backfill lists the trigger's bucket under its prefix
(ListObjectsV2, page by page, never the whole listing in memory), keeps the objects last
modified in ``[--since, --until)``, and hands each one to the trigger's own handler as the
EventBridge "Object Created" event S3 would have sent: the core's planner decides, with the
trigger's suffix and key_pattern, which ones match (nothing is matched twice in two places),
and the handler's service, built by the handler's own composition, starts each run through the
same path as a live event (idempotency record, run-key argument, unknown outcomes looked up
again), or puts each file in a batch for a batch trigger.

Run keys. The event's id, object size and time come from the listing (the time is the object's
LastModified, so ``${time...}`` renders when the file landed); S3's ``sequencer`` exists only in
a notification, so a backfilled object has none, and the default idempotency key falls back to
its ETag: ``<trigger>:<bucket>/<key>@<etag>``. Hence:

- backfilling twice starts nothing new: the same object gives the same key (and the same run
  key, which is also looked for in the job's run history before each start, so even a backfill
  after the idempotency record expired finds the run it started);
- an object that a live event already started is not recognized under the default key, which
  the live event made from its sequencer: limit backfills to what landed before the trigger
  was deployed (``--until``), or key the trigger on content (``idempotency_key:
  "${bucket}/${key}@${etag}"``), which a live event and a backfill compute alike;
- a trigger whose templates use ``${sequencer}`` or ``${version_id}`` rejects backfilled objects
  (the listing gives neither): each is reported failed, with the handler's reason.

Batch triggers: each file joins the trigger's open batch exactly as a live one does (a second
backfill finds its marker and joins nothing); batches that fill start at once, the last one when
its window's flush message arrives on the trigger's queue. Exit code: 0 when no object failed,
1 otherwise (each failure on its own line on stderr, with the reason).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TextIO

from gluetrigger.core.errors import GlueTriggerError
from gluetrigger.core.events import format_time, normalize, printable
from gluetrigger.core.model import S3Source
from gluetrigger.core.planner import Planner
from gluetrigger.runtime.outcomes import (
    BatchingFailed,
    EventRejected,
    FileBatched,
    InvocationEnded,
    RunDuplicate,
    RunFailed,
    RunStarted,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from gluetrigger.core.model import Config, Trigger
    from gluetrigger.core.planner import Plan
    from gluetrigger.runtime.outcomes import Outcome
    from gluetrigger.runtime.service import Service
    from gluetrigger.tooling.place import Place

__all__ = [
    "Backfill",
    "BackfillError",
    "LastInvocation",
    "Progress",
    "Summary",
    "Window",
    "object_created_event",
    "parse_moment",
]

# Backfilled events' ids: one per object version (bucket, key, ETag), the same on every backfill.
_EVENT_ID_NAMESPACE = uuid.UUID("6c1e5a43-2f0e-4f0b-9d43-0b8f6b1d7a51")
# Each object gets as long as a deployed function's invocation (the stack's default timeout).
BACKFILL_TIMEOUT_SECONDS = 60.0
EXAMPLE_MOMENTS = "e.g. 2026-03-14, 2026-03-14T10:00:00Z or 2026-03-14T11:00:00+01:00"


class BackfillError(GlueTriggerError):
    """The backfill cannot run as asked (a bad date, a trigger that is not an S3 one)."""


def parse_moment(text: str, option: str) -> datetime:
    """``text`` (ISO 8601: a date, or a date and time, with a zone or in UTC) as an aware UTC datetime."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BackfillError(f"{option} {text!r}: not an ISO 8601 date or time ({EXAMPLE_MOMENTS})") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


@dataclass(frozen=True)
class Window:
    """Objects last modified at or after ``since`` and before ``until`` (None: unbounded)."""

    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise BackfillError(f"--since {self.since.isoformat()} is not before --until {self.until.isoformat()}")

    def holds(self, modified: datetime) -> bool:
        return (self.since is None or modified >= self.since) and (self.until is None or modified < self.until)


def object_created_event(bucket: str, listed: dict[str, Any], region: str | None) -> dict[str, Any]:
    """The EventBridge "Object Created" event of a ListObjectsV2 entry, as S3 sends it, less what only S3 knows."""
    etag = str(listed.get("ETag", "")).strip('"')
    key = str(listed["Key"])
    obj: dict[str, Any] = {"key": key, "size": listed.get("Size", 0)}
    if etag:
        obj["etag"] = etag
    event: dict[str, Any] = {
        "version": "0",
        "id": str(uuid.uuid5(_EVENT_ID_NAMESPACE, f"{bucket}/{key}@{etag}")),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "time": format_time(listed["LastModified"]),
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {"version": "0", "bucket": {"name": bucket}, "object": obj},
    }
    if region:
        event["region"] = region
    return event


@dataclass
class Summary:
    """What a backfill did, counted per object (``runs`` counts the runs it started, batch runs too)."""

    listed: int = 0
    matched: int = 0
    started: int = 0
    already: int = 0
    batched: int = 0
    failed: int = 0
    runs: int = 0
    failures: list[str] = field(default_factory=list)

    def line(self, trigger: str, *, dry_run: bool) -> str:
        if dry_run:
            return (
                f"dry run {trigger}: {self.listed} listed, {self.matched} matched: {self.started} would start, "
                f"{self.already} already started, {self.batched} would join a batch, {self.failed} would be rejected"
            )
        batches = f", {self.runs} runs started" if self.batched or self.runs != self.started else ""
        return (
            f"backfill {trigger}: {self.listed} listed, {self.matched} matched: {self.started} started, "
            f"{self.already} already started, {self.batched} batched, {self.failed} failed{batches}"
        )


class Progress:
    """One line on ``stream`` that counts as the backfill goes, redrawn in place; only on a terminal."""

    def __init__(self, stream: TextIO, trigger: str) -> None:
        self._stream = stream
        self._trigger = trigger
        self._on = stream.isatty()
        self._drawn = False

    def show(self, summary: Summary) -> None:
        if self._on:
            self._stream.write(f"\r{summary.line(self._trigger, dry_run=False)}")
            self._stream.flush()
            self._drawn = True

    def clear(self) -> None:
        if self._drawn:
            self._stream.write("\r\x1b[2K")
            self._stream.flush()
            self._drawn = False


@dataclass(frozen=True)
class Backfill:
    """One trigger's backfill: the objects ``place`` lists in ``window``, planned by the core."""

    config: Config
    trigger: Trigger
    place: Place
    window: Window

    @classmethod
    def of(cls, config: Config, name: str, place: Place, window: Window) -> Backfill:
        trigger = config.trigger(name)  # KeyError: the caller says which triggers exist
        if not isinstance(trigger.source, S3Source):
            raise BackfillError(f"{name} is a {trigger.source.type} trigger; only s3 triggers are backfilled")
        return cls(config, trigger, place, window)

    def events(self) -> Iterator[dict[str, Any]]:
        """The Object Created event of each object under the trigger's prefix, modified in the window."""
        source = self.trigger.source
        assert isinstance(source, S3Source)  # checked by of()
        pages = (
            self.place.aws("s3")
            .get_paginator("list_objects_v2")
            .paginate(Bucket=source.bucket, Prefix=source.prefix or "")
        )
        region = self.place.region
        for page in pages:
            for listed in page.get("Contents", []):
                if self.window.holds(listed["LastModified"]):
                    yield object_created_event(source.bucket, listed, region)

    @cached_property
    def planner(self) -> Planner:
        return Planner(self.config, self.trigger.name)

    def plan(self, event: dict[str, Any]) -> Plan:
        return self.planner.plan(normalize(event))

    def dry_run(self, out: TextIO) -> Summary:
        """What a backfill would do, one line per matched object; only the listing and the job's runs are read.

        An object whose run key is in the job's history is "already started"; the idempotency table is
        not read, so a run started but not in the history (a batch, a run whose record is newer) shows as to start.
        """
        summary = Summary()
        started = self._started_run_keys()
        for event in self.events():
            summary.listed += 1
            plan = self.plan(event)
            where = _describe(event)
            summary.matched += bool(plan.runs or plan.batched or plan.rejected)
            for run in plan.runs:
                known = run.run_key in started
                summary.already += known
                summary.started += not known
                print(
                    f"{'already started' if known else 'would start'} {where} (run key {run.run_key or '-'})", file=out
                )
            for _ in plan.batched:
                print(f"would join a batch: {where}", file=out)
            for rejection in plan.rejected:
                print(f"would be rejected: {where}: {printable(rejection.reason)}", file=out)
            summary.batched += len(plan.batched)
            summary.failed += len(plan.rejected)
        return summary

    def run(self, service: Service, outcomes: LastInvocation, progress: Progress) -> Summary:
        """Hand each matched object to ``service``; ``outcomes`` observes it, ``progress`` shows the counts."""
        summary = Summary()
        started = self._started_run_keys()
        for event in self.events():
            summary.listed += 1
            plan = self.plan(event)
            if plan.runs or plan.batched or plan.rejected:
                summary.matched += 1
                if plan.runs and all(run.run_key in started for run in plan.runs):
                    summary.already += 1  # its run is in the job's history, whatever the idempotency table says
                else:
                    _count(summary, event, _invoke(service, event, outcomes))
            progress.show(summary)
        progress.clear()
        return summary

    def service(self, observer: LastInvocation) -> Service:
        """The trigger's handler, as deployed: its compiled config, the idempotency table, its queue for batches.

        No dead-letter queue: a backfilled object that fails is reported here, and a second backfill retries it.
        """
        from gluetrigger.core.config import compile_config
        from gluetrigger.runtime.composition import build_service
        from gluetrigger.runtime.environment import HandlerEnvironment
        from gluetrigger.tooling.local.function import SERVICE_NAME, capture_handler_log

        batch = self.trigger.batch is not None
        environment = HandlerEnvironment(
            idempotency_table=self.place.idempotency_table(),
            config_json=json.dumps(compile_config(self.config, self.trigger.name)),
            service_name=SERVICE_NAME,
            queue_url=self.place.queue_url(self.trigger.name) if batch else None,
            manifest_bucket=self.place.manifest_bucket() if batch else None,
        )
        service = build_service(environment, observers=[observer])
        capture_handler_log(None)
        return service

    def _started_run_keys(self) -> set[str]:
        """The run keys of the job's runs in Glue's history (empty when the trigger has no run-key argument)."""
        from gluetrigger.tooling.local.runs import list_runs

        argument = self.trigger.job.run_key_argument
        if argument is None or self.trigger.batch is not None:
            return set()
        runs = list_runs(self.place.aws("glue"), self.trigger.job.name)
        return {value for run in runs if (value := run.arguments.get(argument)) is not None}


class LastInvocation:
    """An observer of the handler's service: the outcomes of the invocation that ended last."""

    def __init__(self) -> None:
        self.outcomes: tuple[Outcome, ...] = ()

    def observe(self, outcome: Outcome) -> None:
        if isinstance(outcome, InvocationEnded):
            self.outcomes = outcome.outcomes


def _invoke(service: Service, event: dict[str, Any], outcomes: LastInvocation) -> tuple[Outcome, ...] | str:
    """The outcomes of one direct invocation with ``event``, or why it failed when it raised."""
    from gluetrigger.runtime.delivery import EventError
    from gluetrigger.runtime.lambda_context import LocalLambdaContext

    outcomes.outcomes = ()
    context = LocalLambdaContext(function_name="gluetrigger-backfill", timeout_seconds=BACKFILL_TIMEOUT_SECONDS)
    try:
        service(event, context)
    except EventError as error:
        return str(error)
    return outcomes.outcomes


def _count(summary: Summary, event: dict[str, Any], result: tuple[Outcome, ...] | str) -> None:
    """Count one object's invocation in ``summary``: failed (with why), started, already started or batched."""
    reasons = [result] if isinstance(result, str) else [reason for o in result if (reason := _failure(o))]
    outcomes = () if isinstance(result, str) else result
    summary.runs += sum(isinstance(o, RunStarted) for o in outcomes)
    batched = [o for o in outcomes if isinstance(o, FileBatched)]
    if reasons:
        summary.failed += 1
        summary.failures.append(f"{_describe(event)}: {'; '.join(reasons)}")
    elif batched:
        new = any(not o.duplicate for o in batched)
        summary.batched += new
        summary.already += not new
    elif any(isinstance(o, RunStarted) for o in outcomes):
        summary.started += 1
    elif any(isinstance(o, RunDuplicate) for o in outcomes):
        summary.already += 1


def _failure(outcome: Outcome) -> str | None:
    if isinstance(outcome, RunFailed):
        return f"{outcome.failure.code}: {outcome.failure.message}"
    if isinstance(outcome, EventRejected | BatchingFailed):
        return outcome.reason
    return None


def _describe(event: dict[str, Any]) -> str:
    detail = event["detail"]
    return printable(f"s3://{detail['bucket']['name']}/{detail['object']['key']}")
