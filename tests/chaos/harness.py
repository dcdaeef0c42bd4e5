"""The chaos suite: the real handler, in killable worker processes behind fault proxies, on moto's server.

Layout, all on 127.0.0.1: moto's server in a child process with what the stack would deploy
for ``tests/chaos/triggers.yaml`` (:mod:`tests.chaos.stack`); worker processes, each one Lambda
execution environment serving one trigger's queue behind a fault proxy of its own, respawned
when they die (:mod:`tests.chaos.pool`, :mod:`tests.chaos.worker`, :mod:`tests.chaos.faults`).

A run: make the seeded events (:mod:`tests.chaos.scenario`), feed every copy into its queue in
order, wait until the queues are empty and nothing is in flight, then read what is left: the runs
GetJobRuns shows, the DLQ's messages with their attributes, and the workers' logs
(:mod:`tests.chaos.readback`). :mod:`tests.chaos.verdict` judges each event; :class:`Figures`
holds the result.

Timing follows the stack's rules at a smaller scale: the function timeout is below the queue's
visibility timeout, so a message comes back only after the invocation that held it has ended
(finished, timed out or killed), by when its in-progress idempotency record has expired too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gluetrigger.tooling.config_file import load_config
from tests.chaos import ChaosError
from tests.chaos.pool import WorkerPool
from tests.chaos.readback import observe
from tests.chaos.scenario import CONFIG_PATH, delivery_order, make_events
from tests.chaos.stack import ALL_MESSAGES, SQS_BATCH_LIMIT, VISIBLE, Moto, count_messages, emulator, provision
from tests.chaos.verdict import MAX_PROBLEMS, judge

if TYPE_CHECKING:
    from gluetrigger.tooling.local.provision import Queue
    from tests.chaos.scenario import ChaosEvent
    from tests.chaos.verdict import Judgement

__all__ = ["ChaosError", "ChaosSettings", "Figures", "run"]

BACKLOG_PER_WORKER = 20  # visible messages kept in a queue per worker serving it: two batches each
POLL_SECONDS = 0.25
QUIET_CHECKS = 4  # the queues must look empty this many polls in a row


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
        moto = Moto(stack.enter_context(emulator()))
        config = load_config(CONFIG_PATH)
        resources = provision(moto, config, settings.visibility_timeout_seconds, settings.max_receive_count)
        assigned = _assign(settings.workers, order)
        pool = WorkerPool(settings, resources, logs, assigned)
        stack.callback(pool.stop)
        pool.start()
        feeder = _Feeder(moto.sqs, resources.queues, order, assigned)
        drained = _drive(pool, feeder, moto.sqs, resources.queues, started + settings.deadline)
        pool.stop()
        pool.write_request_logs()
        observed = observe(moto, resources, pool.log_files())
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


def _assign(workers: int, order: list[ChaosEvent]) -> list[str]:
    """The trigger each worker serves: one each, the rest where the most messages per worker wait."""
    load = Counter(event.trigger for event in order)
    assigned = Counter(dict.fromkeys(load, 1))
    for _ in range(workers - len(load)):
        busiest = max(sorted(load), key=lambda trigger: load[trigger] / assigned[trigger])
        assigned[busiest] += 1
    return sorted(assigned.elements())


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
            room = self._backlog[trigger] - count_messages(self._sqs, self._urls[trigger], VISIBLE)
            while room > 0 and bodies:
                batch = [bodies.popleft() for _ in range(min(SQS_BATCH_LIMIT, room, len(bodies)))]
                entries = [{"Id": str(index), "MessageBody": body} for index, body in enumerate(batch)]
                failed = self._sqs.send_message_batch(QueueUrl=self._urls[trigger], Entries=entries).get("Failed")
                if failed:
                    raise ChaosError(f"SQS refused {len(failed)} message(s): {failed[0]}")
                room -= len(batch)


def _drive(pool: WorkerPool, feeder: _Feeder, sqs: Any, queues: dict[str, Queue], deadline: float) -> bool:
    """Feed the queues and tend the workers until all is sent and handled; False at the deadline.

    Handled: no queue holds a message, visible, in flight or delayed, for a few polls in a row.
    """
    quiet = 0
    while time.monotonic() < deadline:
        pool.tend()
        feeder.top_up()
        empty = feeder.done and all(count_messages(sqs, queue.url, ALL_MESSAGES) == 0 for queue in queues.values())
        quiet = quiet + 1 if empty else 0
        if quiet >= QUIET_CHECKS:
            return True
        time.sleep(POLL_SECONDS)
    return False
