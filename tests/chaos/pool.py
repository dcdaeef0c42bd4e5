"""The workers: one process per Lambda execution environment, each behind a fault proxy of its own.

Each worker (:mod:`tests.chaos.worker`) serves one trigger's queue; its proxy fails its Glue and
DynamoDB calls as :mod:`tests.chaos.faults` says, and kills it now and then, which is why every
worker has its own: a proxy knows which process it serves. The pool respawns a worker that died,
as Lambda starts a new environment, and counts why it died: killed, timed out, or crashed (the
harness's fault, not chaos: too many and the run stops).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

import gluetrigger
from gluetrigger.core.config import compile_config
from gluetrigger.runtime.environment import (
    CONFIG_JSON_ENV,
    DEAD_LETTER_QUEUE_URL_ENV,
    IDEMPOTENCY_TABLE_ENV,
    MAX_RECEIVE_COUNT_ENV,
)
from tests.chaos import ChaosError
from tests.chaos.faults import TARGETS, fault_mix
from tests.chaos.scenario import EVENT_ARGUMENT
from tests.chaos.stack import REGION, TABLE
from tests.chaos.worker import TIMED_OUT_EXIT_CODE
from tests.integration.fault_proxy import FaultProxy

if TYPE_CHECKING:
    from tests.chaos.harness import ChaosSettings
    from tests.chaos.stack import Resources

__all__ = ["WorkerPool"]

REPO = Path(__file__).parents[2]
# The directory gluetrigger is imported from: workers import the very same code as this process.
PACKAGE_ROOT = Path(gluetrigger.__file__).parents[1]
STOP_SECONDS = 3.0
MAX_CRASHES = 5  # worker exits that are neither kills nor timeouts: a broken harness, not chaos
LIFETIME_MARGIN_SECONDS = 120.0


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


class WorkerPool:
    """The workers, respawned as they die; ``exits`` counts deaths by kill, timeout and crash."""

    def __init__(self, settings: ChaosSettings, resources: Resources, logs: Path, triggers: list[str]) -> None:
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
            # The queue's maxReceiveCount, as the stack passes it: the handler dead-letters a message
            # still failing on its last receive, with the reason.
            MAX_RECEIVE_COUNT_ENV: str(max_receive_count),
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    return env
