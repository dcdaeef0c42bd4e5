"""The chaos suite: the real handler, in killable worker processes behind fault proxies, on moto's server.

Layout, all on 127.0.0.1: moto's server in a child process (:class:`EmulatorProcess`: its own
state and its own interpreter lock, away from the proxies and from a test process that may run
another emulator); per trigger of ``tests/chaos/triggers.yaml``, an SQS queue with a redrive
policy to one dead-letter queue, and a Glue job with room for every run; worker processes
(:mod:`tests.chaos.worker`), each serving one trigger's queue as one Lambda execution
environment, each with a fault proxy of its own (:mod:`tests.chaos.faults`), which is how a
proxy knows which process a kill fault kills. Killed workers are respawned, as Lambda starts a
new environment.

A run: make the seeded events (:mod:`tests.chaos.scenario`), feed every copy into its queue in
order, wait until the queues are empty and nothing is in flight, then read what is left: the runs
GetJobRuns shows (from moto directly), the DLQ's messages with their attributes, and the
workers' logs. :mod:`tests.chaos.verdict` judges each event; :class:`Figures` holds the result.

Timing follows the stack's rules at a smaller scale: the function timeout is below the queue's
visibility timeout, so a message comes back only after the invocation that held it has ended
(finished, timed out or killed), by when its in-progress idempotency record has expired too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import boto3

import gluetrigger
from gluetrigger.core.config import compile_config
from gluetrigger.runtime.dead_letters import REASON_ATTRIBUTE
from gluetrigger.runtime.environment import CONFIG_JSON_ENV, DEAD_LETTER_QUEUE_URL_ENV, IDEMPOTENCY_TABLE_ENV
from gluetrigger.tooling.config_file import load_config
from gluetrigger.tooling.local.emulator import EmulatorProcess
from gluetrigger.tooling.local.provision import Queue
from tests.chaos.faults import TARGETS, fault_mix
from tests.chaos.scenario import CONFIG_PATH, EVENT_ARGUMENT, delivery_order, make_events
from tests.chaos.verdict import MAX_PROBLEMS, RUN_KEY_ARGUMENT, DeadLetter, Observed, Run, judge
from tests.chaos.worker import TIMED_OUT_EXIT_CODE
from tests.integration.fault_proxy import FaultProxy

if TYPE_CHECKING:
    from collections.abc import Iterator

    from gluetrigger.core.model import Config
    from tests.chaos.scenario import ChaosEvent
    from tests.chaos.verdict import Judgement

__all__ = ["ChaosError", "ChaosSettings", "Figures", "run"]

REPO = Path(__file__).parents[2]
# The directory gluetrigger is imported from: workers import the very same code as this process.
PACKAGE_ROOT = Path(gluetrigger.__file__).parents[1]
REGION = "eu-west-1"
TABLE = "chaos-idempotency"
DEAD_LETTER_QUEUE = "chaos-dlq"
ROLE = "arn:aws:iam::123456789012:role/chaos-glue"
JOB_SLOTS = 1_000_000  # MaxConcurrentRuns: moto's runs never finish, and the suite counts runs, not slots
SQS_BATCH_LIMIT = 10
BACKLOG_PER_WORKER = 20  # visible messages kept in a queue per worker serving it: two batches each
VISIBLE = ["ApproximateNumberOfMessages"]
ALL_MESSAGES = [*VISIBLE, "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
POLL_SECONDS = 0.25
QUIET_CHECKS = 4  # the queues must look empty this many polls in a row
STOP_SECONDS = 3.0
MAX_CRASHES = 5  # worker exits that are neither kills nor timeouts: a broken harness, not chaos
LIFETIME_MARGIN_SECONDS = 120.0
DLQ_SPARE_RECEIVES = 5  # receives beyond what the DLQ's message count calls for, in case it grew
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class ChaosError(Exception):
    """The harness itself failed (workers crash, SQS refuses messages): no figures to give."""


@dataclass(frozen=True)
class ChaosSettings:
    """One chaos run's knobs; the defaults are ``make chaos``'s.

    ``kill_rate`` is a fraction of the faultable requests, like ``fault_rate``, and much lower: a
    kill fails the whole batch of ten the worker holds, so 1% of requests would kill about a
    third of all invocations. ``deadline_seconds`` (default: from the number of events) bounds
    the whole run.

    The function timeout is the stack's (60 s) scaled down, not below what a batch needs: the
    handler begins no StartJobRun it could not finish before its deadline (connect and read
    timeouts plus a margin, about 9 s), so a 10-s function would send most of each batch back to
    the queue for want of time, which a deployed function never does. The visibility timeout is
    just above it, which keeps the retries quick (the stack's is six times the function timeout).
    """

    events: int = 2000
    fault_rate: float = 0.2
    kill_rate: float = 0.003
    workers: int = 6
    seed: int = 1
    function_timeout_seconds: float = 20.0
    visibility_timeout_seconds: int = 23
    max_receive_count: int = 5
    deadline_seconds: float | None = None
    log_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.visibility_timeout_seconds <= self.function_timeout_seconds:
            raise ValueError("the visibility timeout must exceed the function timeout, as the stack's does")
        if self.workers < 2:
            raise ValueError("at least 2 workers: one per trigger")

    @property
    def deadline(self) -> float:
        """Seconds the run may take, sending and draining included."""
        return self.deadline_seconds or 120.0 + 0.3 * self.events


@dataclass(frozen=True)
class Figures:
    """What a chaos run did and what it left; ``line()`` is the one line ``make chaos`` prints."""

    seed: int
    events: int
    deliveries: int
    fault_kinds: Counter[str]
    kills: int
    timeouts: int
    crashes: int
    drained: bool
    seconds: float
    judgement: Judgement
    logs: Path | None = None  # the workers' logs: kept when the run failed or a log directory was given

    @property
    def faults(self) -> int:
        """Faults injected, kills excluded (they have a figure of their own)."""
        return sum(n for kind, n in self.fault_kinds.items() if not kind.startswith("kill"))

    @property
    def passed(self) -> bool:
        return self.drained and self.judgement.passed

    def line(self) -> str:
        j = self.judgement
        return (
            f"chaos: seed={self.seed} events={self.events} deliveries={self.deliveries} faults={self.faults}"
            f" kills={self.kills} timeouts={self.timeouts} runs={j.runs} duplicates={j.duplicates} lost={j.lost}"
            f" dlq={j.dlq} dlq_without_reason={j.dlq_without_reason} ignored={j.ignored}"
            f" dead_lettered_starts={j.dead_lettered_starts}"
            f" runs_without_run_key={j.runs_without_run_key} crashes={self.crashes}"
            f" drained={'yes' if self.drained else 'no'} seconds={round(self.seconds)}"
        )

    def report(self) -> str:
        """The line; after a failure, the faults by kind, the first problems (one per event) and the logs."""
        lines = [self.line()]
        if not self.passed:
            kinds = ", ".join(f"{kind}={count}" for kind, count in sorted(self.fault_kinds.items()))
            lines.append(f"  faults injected: {kinds or 'none'}")
        if not self.drained:
            lines.append("  the queues were not drained before the deadline")
        problems = self.judgement.problems
        lines.extend(f"  {problem}" for problem in problems[:MAX_PROBLEMS])
        if len(problems) > MAX_PROBLEMS:
            lines.append(f"  ... and {len(problems) - MAX_PROBLEMS} more")
        if self.logs is not None:
            lines.append(f"  worker logs: {self.logs}")
        return "\n".join(lines)


def run(settings: ChaosSettings) -> Figures:
    """One chaos run, from an empty emulator to its figures; every process it starts is ended.

    The workers' logs go to ``settings.log_dir``, else to a temporary directory that is kept only
    when the run fails (the figures say where).
    """
    logs = settings.log_dir or Path(tempfile.mkdtemp(prefix="chaos-"))
    logs.mkdir(parents=True, exist_ok=True)
    try:
        figures = _run(settings, logs)
    except BaseException:
        if settings.log_dir is None:
            shutil.rmtree(logs, ignore_errors=True)
        raise
    if figures.passed and settings.log_dir is None:
        shutil.rmtree(logs, ignore_errors=True)
        return dataclasses.replace(figures, logs=None)
    return figures


def _run(settings: ChaosSettings, logs: Path) -> Figures:
    started = time.monotonic()
    events = make_events(settings.events, settings.seed)
    order = delivery_order(events, settings.seed)
    with contextlib.ExitStack() as stack:
        moto = _Moto(stack.enter_context(_emulator()))
        resources = _provision(moto, load_config(CONFIG_PATH), settings)
        assigned = _assign(settings.workers, order)
        pool = _Pool(settings, resources, logs, assigned)
        stack.callback(pool.stop)
        pool.start()
        feeder = _Feeder(moto.sqs, resources.queues, order, assigned)
        drained = _drive(pool, feeder, moto.sqs, resources.queues, started + settings.deadline)
        pool.stop()
        pool.write_request_logs()
        observed = _observe(moto, resources, pool.log_files())
    return Figures(
        seed=settings.seed,
        events=len(events),
        deliveries=len(order),
        fault_kinds=pool.fault_kinds(),
        kills=pool.exits["kill"],
        timeouts=pool.exits["timeout"],
        crashes=pool.exits["crash"],
        drained=drained,
        seconds=time.monotonic() - started,
        judgement=judge(events, observed),
        logs=logs,
    )


@contextlib.contextmanager
def _emulator() -> Iterator[str]:
    emulator = EmulatorProcess()
    endpoint = emulator.start()
    try:
        yield endpoint.url
    finally:
        emulator.stop()


class _Moto:
    """Clients straight to the emulator: the suite's own calls are never faulted."""

    def __init__(self, url: str) -> None:
        self.url = url
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        self.sqs = session.client("sqs", endpoint_url=url)
        self.glue = session.client("glue", endpoint_url=url)
        self.dynamodb = session.client("dynamodb", endpoint_url=url)


@dataclass(frozen=True)
class _Resources:
    """What the workers serve, on the emulator at ``url``."""

    url: str
    config: Config
    queues: dict[str, Queue]  # trigger name -> its queue
    dead_letter_queue: Queue

    @property
    def jobs(self) -> list[str]:
        return [trigger.job.name for trigger in self.config.triggers]


def _provision(moto: _Moto, config: Config, settings: ChaosSettings) -> _Resources:
    """The idempotency table, the DLQ, a queue and a job per trigger."""
    # The key schema Powertools expects, as tests/integration/conftest.py creates it.
    moto.dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    moto.dynamodb.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
    )
    dead_letter_queue = _queue(moto.sqs, DEAD_LETTER_QUEUE, {})
    redrive = {
        "VisibilityTimeout": str(settings.visibility_timeout_seconds),
        "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dead_letter_queue.arn, "maxReceiveCount": str(settings.max_receive_count)}
        ),
    }
    queues = {t.name: _queue(moto.sqs, t.name, redrive) for t in config.triggers}
    for trigger in config.triggers:
        moto.glue.create_job(
            Name=trigger.job.name,
            Role=ROLE,
            Command={"Name": "glueetl", "ScriptLocation": f"s3://chaos-scripts/{trigger.job.name}.py"},
            ExecutionProperty={"MaxConcurrentRuns": JOB_SLOTS},
        )
    return _Resources(moto.url, config, queues, dead_letter_queue)


def _queue(sqs: Any, name: str, attributes: dict[str, str]) -> Queue:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return Queue(url=url, arn=arn)


def _assign(workers: int, order: list[ChaosEvent]) -> list[str]:
    """The trigger each worker serves: one each, the rest where the most messages per worker wait."""
    load = Counter(event.trigger for event in order)
    assigned = Counter(dict.fromkeys(load, 1))
    for _ in range(workers - len(load)):
        busiest = max(sorted(load), key=lambda trigger: load[trigger] / assigned[trigger])
        assigned[busiest] += 1
    return sorted(assigned.elements())


@dataclass
class _Worker:
    """One execution environment: its trigger, its proxy, and the process it is now (respawned when it dies)."""

    trigger: str
    proxy: FaultProxy
    command: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    files: list[IO[bytes]] = field(default_factory=list)

    def spawn(self) -> None:
        self.close_files()
        stdout = self.log.open("ab")
        stderr = self.log.with_suffix(".err").open("ab")
        self.files = [stdout, stderr]
        self.process = subprocess.Popen(
            self.command, stdin=subprocess.PIPE, stdout=stdout, stderr=stderr, cwd=REPO, env=self.env
        )
        self.proxy.client_pid = self.process.pid

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.close_files()

    def close_files(self) -> None:
        for file in self.files:
            file.close()
        self.files = []

    def stderr_tail(self) -> str:
        return self.log.with_suffix(".err").read_text(errors="replace")[-2000:]


class _Pool:
    """The workers, respawned as they die; ``exits`` counts deaths by kill, timeout and crash."""

    def __init__(self, settings: ChaosSettings, resources: _Resources, logs: Path, triggers: list[str]) -> None:
        self.exits: Counter[str] = Counter()
        self._settings = settings
        self._workers = []
        for index, trigger in enumerate(triggers):
            proxy = FaultProxy(resources.url, seed=settings.seed * 1000 + index)
            queue = resources.queues[trigger]
            command = [
                *(sys.executable, "-m", "tests.chaos.worker", "--queue-url", queue.url, "--queue-arn", queue.arn),
                *("--endpoint-url", resources.url, "--region", REGION, "--function-name", trigger),
                *("--timeout", str(settings.function_timeout_seconds)),
                *("--lifetime", str(settings.deadline + LIFETIME_MARGIN_SECONDS)),
            ]
            compiled = json.dumps(compile_config(resources.config, only=trigger))
            env = _worker_env(proxy.url, compiled, resources.dead_letter_queue.url, settings.max_receive_count)
            self._workers.append(_Worker(trigger, proxy, command, env, logs / f"worker-{index}-{trigger}.log"))

    def start(self) -> None:
        for worker in self._workers:
            worker.proxy.start()
            worker.spawn()
            for target in TARGETS:
                worker.proxy.inject(target, *fault_mix(target, self._settings.fault_rate, self._settings.kill_rate))

    def tend(self) -> None:
        """Count and respawn the workers that died since the last call."""
        for worker in self._workers:
            code = worker.process.poll() if worker.process is not None else None
            if code is None:
                continue
            kind = {-9: "kill", TIMED_OUT_EXIT_CODE: "timeout"}.get(code, "crash")
            self.exits[kind] += 1
            if self.exits["crash"] > MAX_CRASHES:
                raise ChaosError(f"workers keep crashing (exit {code}); the last one said:\n{worker.stderr_tail()}")
            worker.spawn()

    def stop(self) -> None:
        for worker in self._workers:
            worker.stop()
        for worker in self._workers:
            worker.proxy.stop()

    def log_files(self) -> list[Path]:
        return [worker.log for worker in self._workers]

    def write_request_logs(self) -> None:
        """Next to each worker's log, every request its proxy saw: when, what, and the fault it got."""
        for worker in self._workers:
            lines = [
                f"{datetime.fromtimestamp(r.at, UTC):%H:%M:%S.%f} {r.target} {r.fault or '-'} {_subject(r.body)}\n"
                for r in worker.proxy.records()
            ]
            worker.log.with_suffix(".requests").write_text("".join(lines))

    def fault_kinds(self) -> Counter[str]:
        return Counter(r.fault for w in self._workers for r in w.proxy.records() if r.fault is not None)


def _subject(body: bytes) -> str:
    """What a request is about, to find it next to the handler's log: the event a StartJobRun names,
    the idempotency record a DynamoDB call reads or writes."""
    with contextlib.suppress(ValueError):
        request = json.loads(body)
        if isinstance(request, dict):
            arguments, key = request.get("Arguments") or {}, request.get("Key") or request.get("Item") or {}
            return str(arguments.get(EVENT_ARGUMENT) or key.get("id", {}).get("S") or "")
    return ""


def _worker_env(
    proxy_url: str, compiled_config: str, dead_letter_queue_url: str, max_receive_count: int
) -> dict[str, str]:
    """A Lambda function's environment, with every AWS call going to the worker's proxy."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "GLUETRIGGER_", "POWERTOOLS_")) and k != "PYTHONPATH"
    }
    python_path = [str(PACKAGE_ROOT), str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(python_path),
            "PYTHONUNBUFFERED": "1",
            "AWS_ENDPOINT_URL": proxy_url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            CONFIG_JSON_ENV: compiled_config,
            IDEMPOTENCY_TABLE_ENV: TABLE,
            DEAD_LETTER_QUEUE_URL_ENV: dead_letter_queue_url,
            # The queue's maxReceiveCount, as the stack passes it, for a handler that dead-letters
            # on a message's last receive (named here: a handler without that feature ignores it).
            "GLUETRIGGER_MAX_RECEIVE_COUNT": str(max_receive_count),
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    return env


class _Feeder:
    """Sends the deliveries in order, each queue topped up to a few batches per worker that serves it.

    Events arrive over time rather than all at once, which also keeps the queues short: moto's SQS
    looks at every message of a queue on each call, so a queue of thousands slows it to a crawl.
    """

    def __init__(self, sqs: Any, queues: dict[str, Queue], order: list[ChaosEvent], workers: list[str]) -> None:
        self._sqs = sqs
        self._urls = {trigger: queue.url for trigger, queue in queues.items()}
        self._pending: dict[str, deque[str]] = {trigger: deque() for trigger in queues}
        for event in order:
            self._pending[event.trigger].append(event.body)
        self._backlog = {trigger: BACKLOG_PER_WORKER * workers.count(trigger) for trigger in queues}

    @property
    def done(self) -> bool:
        return not any(self._pending.values())

    def top_up(self) -> None:
        for trigger, bodies in self._pending.items():
            room = self._backlog[trigger] - _count(self._sqs, self._urls[trigger], VISIBLE)
            while room > 0 and bodies:
                batch = [bodies.popleft() for _ in range(min(SQS_BATCH_LIMIT, room, len(bodies)))]
                entries = [{"Id": str(index), "MessageBody": body} for index, body in enumerate(batch)]
                failed = self._sqs.send_message_batch(QueueUrl=self._urls[trigger], Entries=entries).get("Failed")
                if failed:
                    raise ChaosError(f"SQS refused {len(failed)} message(s): {failed[0]}")
                room -= len(batch)


def _drive(pool: _Pool, feeder: _Feeder, sqs: Any, queues: dict[str, Queue], deadline: float) -> bool:
    """Feed the queues and tend the workers until all is sent and handled; False at the deadline.

    Handled: no queue holds a message, visible, in flight or delayed, for a few polls in a row.
    """
    quiet = 0
    while time.monotonic() < deadline:
        pool.tend()
        feeder.top_up()
        empty = feeder.done and all(_count(sqs, queue.url, ALL_MESSAGES) == 0 for queue in queues.values())
        quiet = quiet + 1 if empty else 0
        if quiet >= QUIET_CHECKS:
            return True
        time.sleep(POLL_SECONDS)
    return False


def _count(sqs: Any, url: str, names: list[str]) -> int:
    """The sum of the queue's message counts ``names``."""
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes.get(name, 0)) for name in names)


def _observe(moto: _Moto, resources: _Resources, logs: list[Path]) -> Observed:
    return Observed(
        runs=[run for job in resources.jobs for run in _runs(moto.glue, job)],
        dead_letters=_dead_letters(moto.sqs, resources.dead_letter_queue.url),
        ignored=_ignored(logs),
    )


def _runs(glue: Any, job: str) -> list[Run]:
    """Every run of ``job``, page by page, with the event it names and its run key."""
    runs = []
    for page in glue.get_paginator("get_job_runs").paginate(JobName=job):
        for job_run in page["JobRuns"]:
            arguments = job_run.get("Arguments", {})
            runs.append(Run(job_run["Id"], arguments.get(EVENT_ARGUMENT), arguments.get(RUN_KEY_ARGUMENT)))
    return runs


def _dead_letters(sqs: Any, url: str) -> list[DeadLetter]:
    """Every message in the DLQ (received, so hidden for the rest of the run), with its reason."""
    expected = _count(sqs, url, VISIBLE)
    letters: list[DeadLetter] = []
    for _ in range(expected // SQS_BATCH_LIMIT + DLQ_SPARE_RECEIVES):
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=SQS_BATCH_LIMIT, VisibilityTimeout=3600, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            reason = message.get("MessageAttributes", {}).get(REASON_ATTRIBUTE, {}).get("StringValue")
            letters.append(DeadLetter(_event_id(message["Body"]), reason))
    return letters


def _event_id(body: str) -> str | None:
    """The id of the event a message body carries: its ``id`` if JSON, else the first UUID in it."""
    with contextlib.suppress(ValueError):
        document = json.loads(body)
        if isinstance(document, dict) and isinstance(document.get("id"), str):
            return str(document["id"])
    found = UUID.search(body)
    return found.group(0) if found else None


def _ignored(logs: list[Path]) -> set[str]:
    """The ids of the events that an "event ignored" line of the handler's log names."""
    ids: set[str] = set()
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict) and record.get("message") == "event ignored":
                    ids.update(UUID.findall(f"{record.get('event')} {record.get('reason')}"))
    return ids
