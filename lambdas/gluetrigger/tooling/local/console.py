"""What local mode prints: where the emulator is, what to try, and one line per outcome.

Lines are written whole and flushed at once, from whichever thread produced them, so that a
person watching a terminal and a test reading a pipe both see each outcome as it happens. The
``ready`` line is the contract a script or test waits for: everything is provisioned and the
pollers are running.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gluetrigger.core.model import EventSource, S3Source, ScheduleSource
from gluetrigger.tooling.local.endpoint import FAKE_CREDENTIALS, LOCAL_REGION
from gluetrigger.tooling.local.examples import example_entry, example_key
from gluetrigger.tooling.local.provision import MAX_RECEIVE_COUNT
from gluetrigger.tooling.local.scheduler import next_fire

if TYPE_CHECKING:
    from gluetrigger.core.model import Config, Trigger
    from gluetrigger.core.templates import Template
    from gluetrigger.tooling.local.bursts import Bursts
    from gluetrigger.tooling.local.outcomes import Outcome

__all__ = ["READY", "Console", "aws_command", "program", "table"]

READY = "ready:"
JOB_RUNS = "job runs"


def program(argv0: str, on_path: str | None, python: str) -> str:
    """How to run gluetrigger again from the user's shell, so that the commands printed work as pasted.

    ``gluetrigger`` when that is the command on ``PATH`` that runs now; the path it was started by
    (``.venv/bin/gluetrigger`` without the virtualenv activated) otherwise; ``python -m gluetrigger``
    for a process started that way (``argv0`` is then the package's ``__main__.py``).
    """
    if Path(argv0).name != "gluetrigger":
        return f"{shlex.quote(python)} -m gluetrigger"
    if on_path is not None and os.path.realpath(on_path) == os.path.realpath(argv0):
        return "gluetrigger"
    return shlex.quote(argv0)


def aws_command(endpoint: str) -> str:
    """The start of an aws CLI command that works as pasted, in any shell, against ``endpoint``.

    The aws CLI refuses to sign a request without credentials, and a fresh shell has none; the
    emulator accepts any. So the command carries throwaway ones inline (never the user's, which it
    also keeps from being sent), and the region as an option, which outranks AWS_REGION, a
    profile's region and AWS_DEFAULT_REGION: local mode's resources are in that region only.
    """
    credentials = " ".join(f"{name}={value}" for name, value in FAKE_CREDENTIALS.items())
    return f"{credentials} aws --endpoint-url {endpoint} --region {LOCAL_REGION}"


def table(rows: list[list[str]]) -> str:
    """Rows (header first) as left-aligned columns separated by two spaces."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


class Console:
    """Serialized, flushed output lines."""

    def __init__(self, config: Config, out: TextIO | None = None, program: str = "gluetrigger") -> None:
        """``program``: how the user's shell runs gluetrigger (:func:`program`), for the commands printed."""
        self._config = config
        self._program = program
        self._out = out or sys.stdout
        self._lock = threading.Lock()
        self._width = max(len(JOB_RUNS), *(len(t.name) for t in config.triggers))

    def line(self, text: str = "") -> None:
        with self._lock:
            print(text, file=self._out, flush=True)

    def banner(self, config_path: str, endpoint: str, *, embedded: bool) -> None:
        """The endpoint and, per trigger, a command that makes it fire."""
        config = self._config
        emulator = "embedded moto server" if embedded else "emulator"
        self.line(f"gluetrigger local: {len(config.triggers)} triggers from {config_path}")
        self.line(f"endpoint: {endpoint} ({emulator}; export AWS_ENDPOINT_URL={endpoint} to reuse it)")
        self.line("try (the aws commands carry throwaway credentials the emulator accepts; yours are never used):")
        for trigger in config.triggers:
            self.line(f"  {trigger.name.ljust(self._width)}  {self._try(trigger, config_path, endpoint)}")
        self.line(f"  {JOB_RUNS.ljust(self._width)}  {self._program} runs --endpoint-url {endpoint}")

    def bursts(self, bursts: Bursts) -> None:
        """What ``--run-seconds`` and ``--max-concurrent-runs`` change, when given."""
        said = []
        if bursts.run_seconds is not None:
            said.append(f"job runs last at least {bursts.run_seconds:g} s")
        if bursts.max_concurrent_runs is not None:
            said.append(
                f"placeholder jobs allow {bursts.max_concurrent_runs} run(s) at once "
                "unless their triggers set max_concurrent_runs"
            )
        if said:
            self.line(f"bursts: {'; '.join(said)}")

    def ready(self) -> None:
        self.line(f"{READY} watching {len(self._config.triggers)} triggers; Ctrl-C to stop")

    def outcome(self, outcome: Outcome) -> None:
        clock = outcome.at.astimezone().strftime("%H:%M:%S")
        self.line(f"{clock}  {outcome.trigger.ljust(self._width)}  {_what(outcome)}")

    def _try(self, trigger: Trigger, config_path: str, endpoint: str) -> str:
        aws = aws_command(endpoint)
        source = trigger.source
        if isinstance(source, S3Source):
            key = example_key(source, datetime.now(UTC).date())
            where = f"s3://{source.bucket}/{key}" if key else f"s3://{source.bucket}/KEY (KEY matching the trigger)"
            return f"{aws} s3 cp FILE {where}"
        if isinstance(source, ScheduleSource):
            when = next_fire(trigger, datetime.now(UTC))
            fires = f"next {when:%Y-%m-%d %H:%M} UTC" if when else "never fires again"
            zone = f" {source.timezone}" if source.timezone else ""
            where = f"--config {shlex.quote(config_path)} --endpoint-url {endpoint}"
            fire = f"{self._program} local fire {trigger.name} {where}"
            return f"{source.expression}{zone} ({fires}); fire it now: {fire}"
        entry = example_entry(source, _templates(trigger)) if isinstance(source, EventSource) else None
        if entry is None:
            return f"{aws} events put-events --entries '[{{...an event matching the pattern...}}]'"
        return f"{aws} events put-events --entries {shlex.quote(json.dumps([entry]))}"


def _what(outcome: Outcome) -> str:
    """What an outcome's line says after its time and trigger."""
    if outcome.kind == "started":
        return f"started    {outcome.subject} -> JobRunId {outcome.job_run_id}"
    if outcome.kind == "batched":
        return f"batched    {outcome.subject} -> {outcome.reason}"
    if outcome.kind == "held back":
        return f"held back  {outcome.subject}: {outcome.reason}"
    if outcome.kind == "duplicate":
        earlier = f"already started {outcome.job_run_id}" if outcome.job_run_id else outcome.reason
        return f"duplicate suppressed: {outcome.subject} ({earlier})"
    if outcome.kind == "ignored":
        return f"ignored: {outcome.reason}"
    reason = outcome.reason or ""
    what = f"{outcome.kind}: {reason if outcome.subject in reason else f'{outcome.subject}: {reason}'}"
    if outcome.dead_lettered:
        return what + " -> DLQ"
    if outcome.receive_count is not None:
        # A permanent failure is dead-lettered at once (the next line says so); others come back.
        what += f" [delivery {outcome.receive_count} of at most {MAX_RECEIVE_COUNT} before the DLQ]"
    return what


def _templates(trigger: Trigger) -> list[Template]:
    """Every template of ``trigger``: its arguments, job_run_id and idempotency_key."""
    optional = (trigger.job.job_run_id, trigger.idempotency_key)
    return [*trigger.job.arguments.values(), *(template for template in optional if template is not None)]
