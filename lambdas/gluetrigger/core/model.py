"""The validated configuration: frozen dataclasses, built only by :mod:`gluetrigger.core.config`.

Everything downstream (matching, rendering, the handler, the CDK app, local mode) reads these
types, never the raw YAML, so a rule checked once at load time holds everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from gluetrigger.core.backpressure import DEFAULT_MAX_WAIT_SECONDS
from gluetrigger.core.run_key import DEFAULT_RUN_KEY_ARGUMENT

if TYPE_CHECKING:
    from gluetrigger.core.errors import Problem
    from gluetrigger.core.start_job_run import Setting
    from gluetrigger.core.templates import Template

__all__ = [
    "DEFAULT_IDEMPOTENCY_TTL_SECONDS",
    "Batch",
    "Config",
    "EventSource",
    "JobSpec",
    "Retry",
    "S3Source",
    "ScheduleSource",
    "Source",
    "Trigger",
]

DEFAULT_IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60


@dataclass(frozen=True)
class S3Source:
    bucket: str
    prefix: str = ""
    suffix: str = ""
    key_pattern: re.Pattern[str] | None = None
    create: bool = False
    type: Literal["s3"] = "s3"

    def key_matches(self, key: str) -> str | None:
        """Why ``key`` does not pass prefix, suffix and key_pattern; None when it does."""
        if not key.startswith(self.prefix):
            return f"key {key!r} does not start with prefix {self.prefix!r}"
        if not key.endswith(self.suffix):
            return f"key {key!r} does not end with suffix {self.suffix!r}"
        if self.key_pattern is not None and self.key_pattern.search(key) is None:
            return f"key {key!r} does not match key_pattern {self.key_pattern.pattern!r}"
        return None


@dataclass(frozen=True)
class ScheduleSource:
    expression: str
    timezone: str | None = None
    type: Literal["schedule"] = "schedule"


@dataclass(frozen=True)
class EventSource:
    pattern: dict[str, Any]
    event_bus: str = "default"
    type: Literal["event"] = "event"


Source = S3Source | ScheduleSource | EventSource


@dataclass(frozen=True)
class Batch:
    """A batch trigger's ``batch`` block: many files, one run (:mod:`gluetrigger.core.batching`).

    A batch closes when ``max_files`` files wait in it, or ``window_seconds`` after its first
    file, whichever comes first. Its manifest goes to ``manifest_bucket``/``manifest_prefix``
    when the config names a location (``manifest_location``), else to the bucket the stack
    creates for manifests (``manifest_bucket`` None).
    """

    max_files: int = 100
    window_seconds: int = 60
    manifest_bucket: str | None = None
    manifest_prefix: str = ""


@dataclass(frozen=True)
class Retry:
    """A trigger's ``retry`` block (:mod:`gluetrigger.core.retry`): its failed runs started again.

    ``max_attempts`` retries at most (after the first run), of runs that ended in a state of
    ``on``, each ``delay_seconds`` after the state event.
    """

    max_attempts: int
    on: tuple[str, ...] = ("FAILED", "TIMEOUT", "ERROR")
    delay_seconds: int = 60


@dataclass(frozen=True)
class JobSpec:
    """A trigger's StartJobRun parameters; what is not set is not sent (the job's own default applies).

    The fields that are more than a value are typed attributes; every other StartJobRun field is in
    ``settings``, keyed by its triggers.yaml name, as :data:`gluetrigger.core.start_job_run.FIELDS`
    reads it (the module says why).
    """

    name: str
    arguments: dict[str, Template] = field(default_factory=dict)
    job_run_id: Template | None = None
    settings: dict[str, Setting] = field(default_factory=dict)
    # The argument that carries each run's run key; None when the config turned it off.
    run_key_argument: str | None = DEFAULT_RUN_KEY_ARGUMENT

    @property
    def job_type(self) -> str | None:
        """The job's JobCommand.Name when the config declares it (never sent with the request)."""
        job_type = self.settings.get("job_type")
        return job_type if isinstance(job_type, str) else None


@dataclass(frozen=True)
class Trigger:
    name: str
    source: Source
    job: JobSpec
    description: str | None = None
    idempotency_key: Template | None = None
    idempotency_ttl_seconds: int = DEFAULT_IDEMPOTENCY_TTL_SECONDS
    # The IANA zone the trigger's ${time...} placeholders are rendered in, as the config wrote it.
    timezone: str | None = None
    # Backpressure (gluetrigger.core.backpressure): how long an event may wait for Glue capacity,
    # and the active runs of the job at which a run is held back before Glue refuses it.
    max_wait_seconds: int = DEFAULT_MAX_WAIT_SECONDS
    max_concurrent_runs: int | None = None
    # Set on an S3 trigger whose files are gathered into batches, each batch one run.
    batch: Batch | None = None
    # Set on a trigger whose failed runs are retried (gluetrigger.core.retry).
    retry: Retry | None = None

    @property
    def templates_timezone(self) -> str | None:
        """The zone ``${time...}`` renders in: the trigger's own, else its schedule's, else None (UTC)."""
        if self.timezone is not None:
            return self.timezone
        return self.source.timezone if isinstance(self.source, ScheduleSource) else None


@dataclass(frozen=True)
class Config:
    triggers: tuple[Trigger, ...]
    # The document the config was parsed from, after defaults were merged: what `compile` emits.
    documents: tuple[dict[str, Any], ...] = ()
    warnings: tuple[Problem, ...] = ()

    def trigger(self, name: str) -> Trigger:
        for trigger in self.triggers:
            if trigger.name == name:
                return trigger
        raise KeyError(name)
