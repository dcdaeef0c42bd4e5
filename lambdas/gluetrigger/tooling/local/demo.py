"""``gluetrigger local --once``: the example triggers.yaml end to end, every outcome checked.

The scenario exercises what the service promises, against the real handler on the emulator:
a file lands and starts one run; a notification delivered twice (SQS delivers at least once)
starts nothing more; identical content uploaded again is a duplicate for a trigger keyed on the
ETag, but a new run for one keyed on the write (the default key includes S3's sequencer); an
object that passes the rule but not the key_pattern is ignored with the reason; objects outside
prefix or suffix and a custom event the pattern does not match reach nothing; a burst of files
landing at once under a batch trigger becomes a few runs (full batches at once, the rest when
its window ends), each with a manifest that lists its files; a schedule fires; a custom event
starts a run with arguments taken from it.

Each step waits for the outcomes it causes (or, when it goes wrong, until its events have been
handled without them), so steps do not overlap and the console reads as a story. At the end
every queue must have drained, the counts per trigger must equal :data:`EXPECTED` exactly, and
GetJobRuns must show the expected number of new runs per job, including every JobRunId the
handler reported, and the burst's manifests must list each of its files exactly once. File
contents and the burst's keys carry a session stamp, so that rerunning against a long-lived
emulator (``--endpoint-url``) does not meet the previous session's idempotency records.
"""

from __future__ import annotations

import json
import shlex
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from gluetrigger.core.errors import GlueTriggerError
from gluetrigger.core.model import EventSource, S3Source, ScheduleSource
from gluetrigger.tooling.local.console import table
from gluetrigger.tooling.local.outcomes import KINDS
from gluetrigger.tooling.local.runs import format_runs, list_runs

if TYPE_CHECKING:
    from gluetrigger.core.model import Config, Source
    from gluetrigger.tooling.local.console import Console
    from gluetrigger.tooling.local.outcomes import Kind
    from gluetrigger.tooling.local.runs import JobRun
    from gluetrigger.tooling.local.service import LocalService

__all__ = ["EXPECTED", "EXPECTED_RUNS", "Demo", "DemoConfigError"]

# The example's triggers and the source type each must have.
REQUIRED: dict[str, type[Source]] = {
    "sales-arrival": S3Source,
    "partner-drop": S3Source,
    "nightly-rollup": ScheduleSource,
    "orders-exported": EventSource,
    "sales-burst": S3Source,
}
# Per trigger, how many events end each way; kinds not listed must not occur (errors included).
EXPECTED: dict[str, dict[Kind, int]] = {
    "sales-arrival": {"started": 1, "duplicate": 1, "ignored": 1},
    "partner-drop": {"started": 2, "duplicate": 1},
    "nightly-rollup": {"started": 1},
    "orders-exported": {"started": 1},
    "sales-burst": {"started": 3, "batched": 50},
}
# New job runs per Glue job, as GetJobRuns shows them.
EXPECTED_RUNS = {"sales-etl": 1, "partner-ingest": 2, "sales-rollup": 1, "orders-load": 1, "sales-burst-load": 3}
# The burst: this many files land at once under the batch trigger; its job gets the manifest in this argument.
BURST = "sales-burst"
BURST_FILES = 50
MANIFEST_ARGUMENT = "--manifest"
# A step's outcomes normally arrive in well under a second. A step whose events have all been
# handled for SETTLE_SECONDS without them is done (and wrong); STEP_TIMEOUT_SECONDS bounds the rest.
STEP_TIMEOUT_SECONDS = 15.0
SETTLE_SECONDS = 2.0
DRAIN_TIMEOUT_SECONDS = 15.0
POLL_SECONDS = 0.1


class DemoConfigError(GlueTriggerError):
    """The config is not the example the scenario is written for; the message says what is missing."""


@dataclass(frozen=True)
class _Step:
    says: str
    act: Callable[[], None]
    expect: dict[str, dict[Kind, int]]  # outcomes the step adds, per trigger


@dataclass(frozen=True)
class _Upload:
    bucket: str
    key: str
    body: bytes

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


class _Files(NamedTuple):
    """The files a session uploads."""

    sales: _Upload  # sales-arrival's, stamped with the session
    partner: _Upload  # partner-drop's, stamped with the session
    archive: _Upload  # passes sales-arrival's prefix and suffix, not its key_pattern
    outside: tuple[_Upload, ...]  # outside every trigger's prefix/suffix


def _lacking(config: Config) -> list[str]:
    """The example's triggers ``config`` lacks, in plain words ([] when it has them all)."""
    lacking = []
    for name, kind in REQUIRED.items():
        found = next((trigger.source for trigger in config.triggers if trigger.name == name), None)
        if found is None:
            lacking.append(f"{name} (source type {kind.type})")
        elif not isinstance(found, kind):
            lacking.append(f"{name} with source type {kind.type} (it has {found.type})")
        elif name == BURST and config.trigger(name).batch is None:
            lacking.append(f"{name} with a batch block (it has none)")
    return lacking


def _put(s3: Any, *uploads: _Upload) -> Callable[[], None]:
    """A step's action: upload each of ``uploads``, in order."""

    def act() -> None:
        for upload in uploads:
            s3.put_object(Bucket=upload.bucket, Key=upload.key, Body=upload.body)

    return act


class Demo:
    """The scenario; pass :meth:`observe` to the service so the demo can redeliver a message."""

    def __init__(self, config: Config, config_path: str) -> None:
        """DemoConfigError unless ``config`` (read from ``config_path``) has the example's triggers."""
        lacking = _lacking(config)
        if lacking:
            triggers = f"trigger{'s' if len(lacking) > 1 else ''} {', '.join(lacking)}"
            raise DemoConfigError(
                "--once plays a scenario written for the example triggers.yaml (the one `make demo` uses), and "
                f"{config_path} lacks its {triggers}; to try your own triggers, run "
                f"`gluetrigger local --config {shlex.quote(config_path)}` without --once and use the commands it prints"
            )
        self._config = config
        self._received: dict[str, Mapping[str, Any]] = {}
        self._lock = threading.Lock()
        self._burst: list[_Upload] = []  # the burst step's files

    def observe(self, trigger: str, message: Mapping[str, Any]) -> None:
        """Remember the first message each trigger's queue delivered."""
        with self._lock:
            self._received.setdefault(trigger, message)

    def run(self, service: LocalService, console: Console) -> list[str]:
        """Play the scenario; the differences from what the example expects ([] when none)."""
        glue = service.endpoint.client("glue")
        runs_before = Counter(run.job for run in list_runs(glue))
        for step in self._steps(service):
            console.line(f"-- {step.says}")
            target = _plus(service.outcomes.counts(), step.expect)
            step.act()
            _settle(service, target)
        problems = [] if _drained(service) else [f"messages were still queued after {DRAIN_TIMEOUT_SECONDS:.0f} s"]
        problems += _report(service, console, list_runs(glue), runs_before)
        return problems + self._check_burst(service, console, list_runs(glue, self._config.trigger(BURST).job.name))

    def _check_burst(self, service: LocalService, console: Console, runs: list[JobRun]) -> list[str]:
        """Say how the burst's files became runs; whether their manifests list every file exactly once."""
        reported = {o.job_run_id for o in service.outcomes.snapshot() if o.trigger == BURST and o.kind == "started"}
        s3 = service.endpoint.client("s3")
        sizes, listed = [], Counter[str]()
        for run in runs:
            if run.run_id in reported:
                bucket, key = run.arguments.get(MANIFEST_ARGUMENT, "s3:///").removeprefix("s3://").split("/", 1)
                manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
                sizes.append(len(manifest["files"]))
                listed.update(f"s3://{f['bucket']}/{f['key']}" for f in manifest["files"])
        expected = Counter(str(upload) for upload in self._burst)
        console.line()
        console.line(
            f"{BURST}: {sum(sizes)} files became {len(sizes)} runs ({' + '.join(map(str, sizes))} files), "
            f"each given its manifest ({MANIFEST_ARGUMENT})"
        )
        if listed == expected:
            return []
        missing, twice = len(expected - listed), sum(1 for n in listed.values() if n > 1)
        return [f"{BURST}: the manifests miss {missing} of the {len(expected)} files and list {twice} more than once"]

    def _steps(self, service: LocalService) -> list[_Step]:
        """The scenario: files land (twice, redelivered, filtered out), a schedule fires, events arrive."""
        return [*self._upload_steps(service), self._burst_step(service), *self._event_steps(service)]

    def _upload_steps(self, service: LocalService) -> list[_Step]:
        put = partial(_put, service.endpoint.client("s3"))
        sales, partner, archive, outside = self._files()
        return [
            _Step(f"upload {sales}", put(sales), {"sales-arrival": {"started": 1}}),
            _Step(f"upload {partner}", put(partner), {"partner-drop": {"started": 1}}),
            _Step(
                "deliver that notification a second time, as SQS may",
                partial(self._redeliver, service, "partner-drop"),
                {"partner-drop": {"duplicate": 1}},
            ),
            _Step(
                f"upload {sales} again, same content (sales-arrival's key uses the ETag)",
                put(sales),
                {"sales-arrival": {"duplicate": 1}},
            ),
            _Step(
                f"upload {partner} again, same content (partner-drop's key uses the write)",
                put(partner),
                {"partner-drop": {"started": 1}},
            ),
            _Step(
                f"upload {archive} (prefix and suffix match, key_pattern does not)",
                put(archive),
                {"sales-arrival": {"ignored": 1}},
            ),
            _Step("upload two objects outside every prefix/suffix: nothing may happen", put(*outside), {}),
        ]

    def _burst_step(self, service: LocalService) -> _Step:
        """Files landing together under the batch trigger: a run per full batch, one for the rest at the window."""
        source, batch = self._config.trigger(BURST).source, self._config.trigger(BURST).batch
        if not isinstance(source, S3Source) or batch is None:
            raise TypeError(BURST)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        self._burst = [
            _Upload(source.bucket, f"{source.prefix}{stamp}/part-{n:02}{source.suffix}", f"{n}\n".encode())
            for n in range(1, BURST_FILES + 1)
        ]
        says = (
            f"upload {BURST_FILES} files at once under s3://{source.bucket}/{source.prefix} (sales-burst batches up "
            f"to {batch.max_files} files, or what arrived within {batch.window_seconds} s of a batch's first file)"
        )
        runs = -(-BURST_FILES // batch.max_files)
        return _Step(
            says, _put(service.endpoint.client("s3"), *self._burst), {BURST: {"batched": BURST_FILES, "started": runs}}
        )

    def _files(self) -> _Files:
        """This session's files.

        Their stamp keeps an earlier session's idempotency records, on a long-lived emulator
        (``--endpoint-url``), from making them duplicates.
        """
        sales, partners = self._bucket("sales-arrival"), self._bucket("partner-drop")
        day = datetime.now(UTC).date().isoformat()
        stamp = f"gluetrigger local --once at {datetime.now(UTC).isoformat()}"
        return _Files(
            _Upload(sales, f"sales/{day}/store-7.csv", f"store,amount\n7,120.50\n# {stamp}\n".encode()),
            _Upload(partners, f"partners/acme/orders-{day}.json", json.dumps({"orders": 42, "note": stamp}).encode()),
            _Upload(sales, "sales/archive/2019.csv", b"old"),
            (
                _Upload(sales, f"sales/{day}/readme.txt", b"not a CSV"),
                _Upload(sales, f"exports/{day}/orders.csv", b"not under sales/"),
            ),
        )

    def _event_steps(self, service: LocalService) -> list[_Step]:
        events = service.endpoint.client("events")
        orders = self._config.trigger("orders-exported").source
        bus = orders.event_bus if isinstance(orders, EventSource) else "default"
        sales = self._bucket("sales-arrival")

        def export(status: str, rows: int, export_id: str) -> Callable[[], None]:
            detail = {"status": status, "rows": rows, "exportId": export_id}
            detail["manifest"] = f"s3://{sales}/exports/{export_id}/manifest.json"
            entry = {"Source": "com.example.orders", "DetailType": "Export Finished", "Detail": json.dumps(detail)}
            return lambda: events.put_events(Entries=[{**entry, "EventBusName": bus}])

        return [
            _Step(
                "fire nightly-rollup's schedule now",
                partial(service.fire, self._config.trigger("nightly-rollup")),
                {"nightly-rollup": {"started": 1}},
            ),
            _Step(
                "put-events: orders export exp-42 SUCCEEDED with 1200 rows",
                export("SUCCEEDED", 1200, "exp-42"),
                {"orders-exported": {"started": 1}},
            ),
            _Step("put-events: an export that FAILED: the pattern does not match", export("FAILED", 0, "exp-43"), {}),
        ]

    def _redeliver(self, service: LocalService, trigger: str) -> None:
        """Send the first message ``trigger``'s queue delivered once more, as SQS's at-least-once delivery may."""
        with self._lock:
            message = self._received[trigger]
        service.endpoint.client("sqs").send_message(
            QueueUrl=service.routing.queues[trigger].url, MessageBody=message["Body"]
        )

    def _bucket(self, trigger: str) -> str:
        source = self._config.trigger(trigger).source
        if not isinstance(source, S3Source):
            raise TypeError(trigger)
        return source.bucket


def _report(service: LocalService, console: Console, runs: list[JobRun], runs_before: Counter[str]) -> list[str]:
    """Print the summary and this session's runs; what differs from :data:`EXPECTED` and :data:`EXPECTED_RUNS`."""
    counts = service.outcomes.counts()
    reported = {o.job_run_id for o in service.outcomes.snapshot() if o.kind == "started"}
    console.line()
    console.line(_summary(counts))
    console.line()
    console.line("the runs, as GetJobRuns shows them (`gluetrigger runs`):")
    console.line(table(format_runs([run for run in runs if run.run_id in reported])))
    problems = _count_problems(counts)
    runs_now = Counter(run.job for run in runs)
    for job, expected in EXPECTED_RUNS.items():
        new = runs_now[job] - runs_before[job]
        if new != expected:
            problems.append(f"job {job}: GetJobRuns shows {new} new runs, expected {expected}")
    missing = reported - {run.run_id for run in runs}
    return problems + [
        f"JobRunId {run_id} was reported started but is not in GetJobRuns" for run_id in sorted(map(str, missing))
    ]


def _plus(counts: dict[str, Counter[Kind]], extra: dict[str, dict[Kind, int]]) -> dict[str, Counter[Kind]]:
    target = {trigger: Counter(kinds) for trigger, kinds in counts.items()}
    for trigger, kinds in extra.items():
        target.setdefault(trigger, Counter()).update(kinds)
    return target


def _reached(counts: dict[str, Counter[Kind]], target: dict[str, Counter[Kind]]) -> bool:
    return all(
        counts.get(trigger, Counter())[kind] >= n for trigger, kinds in target.items() for kind, n in kinds.items()
    )


def _settle(service: LocalService, target: dict[str, Counter[Kind]]) -> None:
    """Wait for a step's expected outcomes, or until its events were handled without producing them.

    The second case ends a step that goes wrong within seconds instead of at the deadline; what
    went wrong shows in the final counts.
    """
    began = time.monotonic()
    while not service.outcomes.wait_for(partial(_reached, target=target), POLL_SECONDS):
        waited = time.monotonic() - began
        if waited > STEP_TIMEOUT_SECONDS or (waited > SETTLE_SECONDS and _queued(service) == 0):
            return


def _drained(service: LocalService) -> bool:
    """Whether every trigger queue empties (nothing waiting, nothing in flight) before the deadline."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    while _queued(service):
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


def _queued(service: LocalService) -> int:
    """Messages in the trigger queues, waiting, delayed (held back, a batch window's flush) or being handled."""
    sqs = service.endpoint.client("sqs")
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    return sum(
        int(value)
        for queue in service.routing.queues.values()
        for value in sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=names)["Attributes"].values()
    )


def _triggers(counts: dict[str, Counter[Kind]]) -> list[str]:
    """The example's triggers in its order, then any other trigger that had outcomes."""
    return [*EXPECTED, *sorted(set(counts) - set(EXPECTED))]


def _count_problems(counts: dict[str, Counter[Kind]]) -> list[str]:
    problems = []
    for trigger in _triggers(counts):
        expected, actual = EXPECTED.get(trigger, {}), counts.get(trigger, Counter())
        for kind in KINDS:
            if actual[kind] != expected.get(kind, 0):
                problems.append(f"{trigger}: {actual[kind]} {kind}, expected {expected.get(kind, 0)}")
    return problems


def _summary(counts: dict[str, Counter[Kind]]) -> str:
    headings = {
        "started": "RUNS STARTED",
        "batched": "FILES BATCHED",
        "duplicate": "DUPLICATES SUPPRESSED",
        "error": "ERRORS",
    }
    rows = [["TRIGGER", *(headings.get(kind, kind.upper()) for kind in KINDS), "AS EXPECTED"]]
    for trigger in _triggers(counts):
        actual = counts.get(trigger, Counter())
        expected = EXPECTED.get(trigger, {})
        ok = all(actual[kind] == expected.get(kind, 0) for kind in KINDS)
        rows.append([trigger, *(str(actual[kind]) for kind in KINDS), "yes" if ok else "NO"])
    return table(rows)
