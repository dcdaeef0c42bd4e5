"""Parse and validate a triggers document (the YAML's data, or the compiled JSON) into a Config.

Every problem is collected, not only the first, and each names its trigger and field, so one
``gluetrigger validate`` run shows everything to fix. Unknown fields are errors anywhere: a typo
such as ``worker_typ`` must not silently drop a setting. StartJobRun's own rules live in
:mod:`gluetrigger.core.validation`; this module owns the document's structure.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from typing import Any

from gluetrigger.core.backpressure import BACKPRESSURE_FIELDS, read_max_concurrent_runs, read_max_wait
from gluetrigger.core.errors import ConfigError, Problem
from gluetrigger.core.model import (
    DEFAULT_IDEMPOTENCY_TTL_SECONDS,
    Batch,
    Config,
    EventSource,
    JobSpec,
    Retry,
    S3Source,
    ScheduleSource,
    Source,
    Trigger,
)
from gluetrigger.core.retry import RETRY_FIELDS, read_retry, retry_conflicts
from gluetrigger.core.run_key import DEFAULT_RUN_KEY_ARGUMENT
from gluetrigger.core.start_job_run import FIELDS, is_int
from gluetrigger.core.templates import Template, TemplateError, parse_template
from gluetrigger.core.validation import check_job, check_template_variables

__all__ = ["CONFIG_LABEL", "compile_config", "parse_compiled", "parse_config"]

# The "trigger" named in problems that belong to the document rather than to one trigger.
CONFIG_LABEL = "config"

TRIGGER_NAME = re.compile(r"^[a-z0-9-]{1,64}$")
# S3's bucket naming rules (general purpose buckets).
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
EVENT_BUS_NAME = re.compile(r"^[A-Za-z0-9._/-]{1,256}$|^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/.+$")

TOP_FIELDS = ("defaults", "triggers")
TRIGGER_FIELDS = (
    "name",
    "description",
    "source",
    "job",
    "idempotency_key",
    "idempotency_ttl_seconds",
    "timezone",
    *BACKPRESSURE_FIELDS,
    "batch",
    "retry",
)
BATCH_FIELDS = ("max_files", "window_seconds", "manifest_location")
# s3://bucket, s3://bucket/ or s3://bucket/prefix/ (a prefix ends with '/': it names a folder).
MANIFEST_LOCATION = re.compile(r"^s3://(?P<bucket>[^/]+)(?:/(?P<prefix>(?:[^/]+/)*))?$")
# The batch limits: SQS delays a message (the window's flush) by at most 900 seconds, and a
# manifest of 10,000 files is about 3 MB, read by the job in one request.
BATCH_MAX_FILES = 10_000
BATCH_MAX_WINDOW_SECONDS = 900
BATCH_DEFAULT_MAX_FILES = 100
BATCH_DEFAULT_WINDOW_SECONDS = 60
JOB_FIELDS = tuple(field.name for field in FIELDS)
# What ``defaults`` may set: every job field but the job's name, which is each trigger's own, and
# the backpressure settings.
DEFAULTS_FIELDS = (*(f for f in JOB_FIELDS if f != "name"), *BACKPRESSURE_FIELDS)
SOURCE_FIELDS = {
    "s3": ("type", "bucket", "prefix", "suffix", "key_pattern", "create"),
    "schedule": ("type", "expression", "timezone"),
    "event": ("type", "pattern", "event_bus"),
}
# Fields that choose how capacity is sized; a trigger that sets any of them chooses its own
# sizing mode, so the defaults' sizing fields are not merged into it (they would conflict).
CAPACITY_FIELDS = tuple(field.name for field in FIELDS if field.sizing)
# How long a run key is remembered, in seconds: a minute to a leap year.
IDEMPOTENCY_TTL_MIN, IDEMPOTENCY_TTL_MAX = 60, 366 * 24 * 3600
# Compiled configs carry the trigger a function was compiled for (gluetrigger compile --trigger).
COMPILED_ONLY_KEY = "only"


class _Problems:
    """Collects problems for one document."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, trigger: str, field: str, message: str, *, warning: bool = False) -> None:
        self.items.append(Problem(trigger, field, message, warning))

    def unknown_fields(self, trigger: str, path: str, data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
        for key in data:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                allowed_list = ", ".join(allowed)
                self.add(trigger, _join(path, str(key)), f"unknown field{suggestion}; allowed: {allowed_list}")

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if not p.warning]


def _join(path: str, key: str) -> str:
    # The pattern's own problems come with "" for its top level: "source.pattern", not "source.pattern.".
    return ".".join(part for part in (path, key) if part)


def parse_config(data: object) -> Config:
    """Validate a triggers document; raise ConfigError listing every problem."""
    problems = _Problems()
    if not isinstance(data, Mapping):
        problems.add(CONFIG_LABEL, "(top level)", "must be a mapping with a 'triggers' list")
        raise ConfigError(problems.items)
    problems.unknown_fields(CONFIG_LABEL, "", data, TOP_FIELDS)
    defaults = _defaults(data.get("defaults"), problems)
    raw_triggers = data.get("triggers")
    if not isinstance(raw_triggers, list) or not raw_triggers:
        problems.add(CONFIG_LABEL, "triggers", "must be a non-empty list of triggers")
        raise ConfigError(problems.items)

    triggers: list[Trigger] = []
    documents: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_triggers):
        label = _trigger_label(raw, index)
        if not isinstance(raw, Mapping):
            problems.add(label, "(trigger)", "must be a mapping")
            continue
        if label in seen:
            problems.add(label, "name", "duplicate trigger name; names must be unique")
        seen.add(label)
        document = _merge_defaults(raw, defaults)
        before = len(problems.errors)
        trigger = _trigger(document, label, problems)
        if trigger is not None and len(problems.errors) == before:
            triggers.append(trigger)
            documents.append(document)
    for label, field, message in retry_conflicts(triggers):
        problems.add(label, field, message)
    if problems.errors:
        raise ConfigError(problems.items)
    warnings = tuple(p for p in problems.items if p.warning)
    return Config(triggers=tuple(triggers), documents=tuple(documents), warnings=warnings)


def compile_config(config: Config, only: str | None = None) -> dict[str, Any]:
    """The document a Lambda function serves: the merged triggers (all, or just ``only``).

    It is itself a valid triggers document, so the handler validates it with the same code at
    init; ``only`` also tells the handler that any scheduled event is meant for that trigger.
    """
    if only is not None:
        config.trigger(only)  # KeyError for an unknown name
    docs = [d for d in config.documents if only is None or d["name"] == only]
    compiled: dict[str, Any] = {"triggers": docs}
    if only is not None:
        compiled[COMPILED_ONLY_KEY] = only
    return compiled


def parse_compiled(data: object) -> tuple[Config, str | None]:
    """Parse what :func:`compile_config` produced: the Config and the trigger it was compiled for."""
    if not isinstance(data, Mapping):
        raise ConfigError([Problem(CONFIG_LABEL, "(top level)", "compiled config must be a JSON object")])
    only = data.get(COMPILED_ONLY_KEY)
    config = parse_config({k: v for k, v in data.items() if k != COMPILED_ONLY_KEY})
    if only is not None and (not isinstance(only, str) or only not in {t.name for t in config.triggers}):
        raise ConfigError([Problem(CONFIG_LABEL, COMPILED_ONLY_KEY, f"{only!r} is not a trigger of this config")])
    return config, only


def _trigger_label(raw: object, index: int) -> str:
    name = raw.get("name") if isinstance(raw, Mapping) else None
    return name if isinstance(name, str) and name else f"triggers[{index}]"


def _defaults(raw: object, problems: _Problems) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.add("defaults", "(defaults)", "must be a mapping of job fields")
        return {}
    problems.unknown_fields("defaults", "", raw, DEFAULTS_FIELDS)
    return {k: v for k, v in raw.items() if k in DEFAULTS_FIELDS}


def _merge_defaults(raw: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The trigger's document with ``defaults`` merged into its job block (the trigger's values win).

    The backpressure fields of ``defaults`` are trigger fields, merged into the trigger itself.
    """
    document = {**{k: v for k, v in defaults.items() if k in BACKPRESSURE_FIELDS}, **raw}
    job = raw.get("job")
    if not defaults or not isinstance(job, Mapping):
        return document
    inherited = {k: v for k, v in defaults.items() if k not in BACKPRESSURE_FIELDS}
    if any(field in job for field in CAPACITY_FIELDS):
        for field in CAPACITY_FIELDS:
            inherited.pop(field, None)
    merged = {**inherited, **job}
    default_args, own_args = defaults.get("arguments"), job.get("arguments")
    if isinstance(default_args, Mapping) and isinstance(own_args, Mapping):
        merged["arguments"] = {**default_args, **own_args}
    document["job"] = merged
    return document


def _trigger(doc: Mapping[str, Any], label: str, problems: _Problems) -> Trigger | None:
    problems.unknown_fields(label, "", doc, TRIGGER_FIELDS)
    name = doc.get("name")
    if not isinstance(name, str) or not TRIGGER_NAME.match(name):
        problems.add(label, "name", "required: 1..64 characters of a-z, 0-9 and '-'")
    description = doc.get("description")
    if description is not None and not isinstance(description, str):
        problems.add(label, "description", "must be a string")
        description = None
    source = _source(doc.get("source"), label, problems)
    job = _job(doc.get("job"), label, problems)
    idempotency_key = _template(doc.get("idempotency_key"), label, "idempotency_key", problems)
    timezone = _timezone(doc.get("timezone"), label, "timezone", problems)
    ttl = doc.get("idempotency_ttl_seconds", DEFAULT_IDEMPOTENCY_TTL_SECONDS)
    if not is_int(ttl) or not IDEMPOTENCY_TTL_MIN <= ttl <= IDEMPOTENCY_TTL_MAX:
        bounds = f"{IDEMPOTENCY_TTL_MIN}..{IDEMPOTENCY_TTL_MAX}"
        problems.add(label, "idempotency_ttl_seconds", f"must be an integer number of seconds, {bounds}")
        ttl = DEFAULT_IDEMPOTENCY_TTL_SECONDS
    batch = _batch(doc.get("batch"), label, source, problems)
    # A batch block with errors still says the trigger batches: its templates are judged as such.
    batched = doc.get("batch") is not None
    if batched and idempotency_key is not None:
        problems.add(label, "idempotency_key", "a batch trigger's run is keyed by its batch id: remove idempotency_key")
    retry = _retry(doc.get("retry"), label, problems)
    if source is None or job is None:
        return None
    _check_templates(source, job, idempotency_key, batched, (label, problems))
    return Trigger(
        name=label,
        source=source,
        job=job,
        description=description,
        idempotency_key=idempotency_key,
        idempotency_ttl_seconds=ttl,
        timezone=timezone,
        **_backpressure(doc, label, problems),
        batch=batch,
        retry=retry,
    )


def _backpressure(doc: Mapping[str, Any], label: str, problems: _Problems) -> dict[str, Any]:
    """The trigger's backpressure settings (gluetrigger.core.backpressure), as Trigger's keyword arguments."""
    max_wait, wait_problem = read_max_wait(doc.get("max_wait"))
    max_runs, runs_problem = read_max_concurrent_runs(doc.get("max_concurrent_runs"))
    for field, problem in (("max_wait", wait_problem), ("max_concurrent_runs", runs_problem)):
        if problem is not None:
            problems.add(label, field, problem)
    return {"max_wait_seconds": max_wait, "max_concurrent_runs": max_runs}


def _retry(raw: object, label: str, problems: _Problems) -> Retry | None:
    """The trigger's ``retry`` block (gluetrigger.core.retry), None when absent."""
    if isinstance(raw, Mapping):
        problems.unknown_fields(label, "retry", raw, RETRY_FIELDS)
    retry, retry_problems = read_retry(raw)
    for field, message in retry_problems:
        problems.add(label, field, message)
    return retry


def _check_templates(
    source: Source, job: JobSpec, idempotency_key: Template | None, batched: bool, at: tuple[str, _Problems]
) -> None:
    """Every placeholder of the trigger's templates that its source (or its batches) cannot fill."""
    label, problems = at
    templates: dict[str, Template] = {f"job.arguments.{k}": v for k, v in job.arguments.items()}
    if job.job_run_id is not None:
        templates["job.job_run_id"] = job.job_run_id
    if idempotency_key is not None:
        templates["idempotency_key"] = idempotency_key
    for field, message in check_template_variables(source, templates, batched=batched):
        problems.add(label, field, message)


def _batch(raw: object, label: str, source: Source | None, problems: _Problems) -> Batch | None:
    """The trigger's ``batch`` block (None when absent); only an S3 trigger's files can be batched."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.add(label, "batch", "must be a mapping with max_files, window_seconds, manifest_location")
        return None
    problems.unknown_fields(label, "batch", raw, BATCH_FIELDS)
    if source is not None and not isinstance(source, S3Source):
        problems.add(label, "batch", f"only an s3 trigger gathers files into batches, not a {source.type} trigger")
    limits = {
        "max_files": (BATCH_DEFAULT_MAX_FILES, BATCH_MAX_FILES),
        "window_seconds": (BATCH_DEFAULT_WINDOW_SECONDS, BATCH_MAX_WINDOW_SECONDS),
    }
    numbers: dict[str, int] = {}
    for field, (default, most) in limits.items():
        value = raw.get(field, default)
        if not is_int(value) or not 1 <= value <= most:
            problems.add(label, f"batch.{field}", f"must be a whole number from 1 to {most}")
            value = default
        numbers[field] = value
    bucket, prefix = _manifest_location(raw.get("manifest_location"), label, problems)
    return Batch(manifest_bucket=bucket, manifest_prefix=prefix, **numbers)


def _manifest_location(raw: object, label: str, problems: _Problems) -> tuple[str | None, str]:
    """The bucket and prefix of ``manifest_location`` ((None, ""): the stack's manifests bucket)."""
    if raw is None:
        return None, ""
    found = MANIFEST_LOCATION.match(raw) if isinstance(raw, str) else None
    bucket = found["bucket"] if found else ""
    if found is None or not BUCKET_NAME.match(bucket) or ".." in bucket:
        problems.add(
            label, "batch.manifest_location", "must be s3://bucket/ or s3://bucket/prefix/ (a valid bucket name)"
        )
        return None, ""
    return bucket, found["prefix"] or ""


def _source(raw: object, label: str, problems: _Problems) -> Source | None:
    if not isinstance(raw, Mapping):
        problems.add(label, "source", "required: a mapping with type s3, schedule or event")
        return None
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in SOURCE_FIELDS:
        problems.add(label, "source.type", f"must be one of s3, schedule, event (got {kind!r})")
        return None
    problems.unknown_fields(label, "source", raw, SOURCE_FIELDS[kind])
    if kind == "s3":
        return _s3_source(raw, label, problems)
    if kind == "schedule":
        return _schedule_source(raw, label, problems)
    return _event_source(raw, label, problems)


def _s3_source(raw: Mapping[str, Any], label: str, problems: _Problems) -> S3Source | None:
    bucket = raw.get("bucket")
    if not isinstance(bucket, str) or not BUCKET_NAME.match(bucket) or ".." in bucket:
        problems.add(label, "source.bucket", "required: a valid S3 bucket name (3..63 of a-z, 0-9, '.', '-')")
        return None
    texts = _s3_texts(raw, label, problems)
    pattern: re.Pattern[str] | None = None
    key_pattern = raw.get("key_pattern")
    if key_pattern is not None:
        if not isinstance(key_pattern, str):
            problems.add(label, "source.key_pattern", "must be a regular expression string")
        else:
            try:
                pattern = re.compile(key_pattern)
            except re.error as exc:
                problems.add(label, "source.key_pattern", f"does not compile: {exc}")
            else:
                from gluetrigger.core.key_patterns import key_pattern_cost

                for message in key_pattern_cost(key_pattern).problems:  # a pattern that could stall the function
                    problems.add(label, "source.key_pattern", message)
    create = raw.get("create", False)
    if not isinstance(create, bool):
        problems.add(label, "source.create", "must be true or false")
        create = False
    return S3Source(bucket=bucket, prefix=texts["prefix"], suffix=texts["suffix"], key_pattern=pattern, create=create)


def _s3_texts(raw: Mapping[str, Any], label: str, problems: _Problems) -> dict[str, str]:
    """The source's prefix and suffix ("" when absent or wrong)."""
    texts: dict[str, str] = {}
    for field in ("prefix", "suffix"):
        value = raw.get(field, "")
        if not isinstance(value, str):
            problems.add(label, f"source.{field}", "must be a string")
            value = ""
        texts[field] = value
    if texts["prefix"].startswith("/"):
        # S3 keys have no leading slash: s3://bucket/a.csv is the key "a.csv", so "/a" would match nothing.
        problems.add(label, "source.prefix", "must not start with '/': S3 keys have no leading slash")
    return texts


def _schedule_source(raw: Mapping[str, Any], label: str, problems: _Problems) -> ScheduleSource | None:
    from gluetrigger.core.schedule import ScheduleError, parse_schedule

    expression = raw.get("expression")
    if not isinstance(expression, str):
        problems.add(label, "source.expression", "required: cron(...) or rate(...)")
        return None
    try:
        parse_schedule(expression)
    except ScheduleError as exc:
        problems.add(label, "source.expression", str(exc))
    timezone = _timezone(raw.get("timezone"), label, "source.timezone", problems)
    return ScheduleSource(expression=expression, timezone=timezone)


def _timezone(raw: object, label: str, field: str, problems: _Problems) -> str | None:
    """An optional IANA timezone name (a schedule's, or the one a trigger renders time in)."""
    if raw is None:
        return None  # before the import: most triggers name no timezone, and importing schedule takes ~8 ms
    from gluetrigger.core.schedule import ScheduleError, validate_timezone

    try:
        if not isinstance(raw, str):
            raise ScheduleError("must be an IANA timezone name such as Europe/Paris")
        validate_timezone(raw)
    except ScheduleError as exc:
        problems.add(label, field, str(exc))
        return None
    return raw


def _event_source(raw: Mapping[str, Any], label: str, problems: _Problems) -> EventSource | None:
    from gluetrigger.core.patterns import validate_pattern

    pattern = raw.get("pattern")
    if not isinstance(pattern, Mapping):
        problems.add(label, "source.pattern", "required: an EventBridge event pattern (a mapping)")
        return None
    pattern_problems = validate_pattern(pattern)
    for path, message in pattern_problems:
        problems.add(label, _join("source.pattern", path), message)
    bus = raw.get("event_bus", "default")
    if not isinstance(bus, str) or not EVENT_BUS_NAME.match(bus):
        problems.add(label, "source.event_bus", "must be an event bus name or ARN")
        bus = "default"
    if pattern_problems:
        return None  # an invalid pattern may hold values JSON cannot carry
    return EventSource(pattern=json.loads(json.dumps(pattern)), event_bus=bus)


def _job(raw: object, label: str, problems: _Problems) -> JobSpec | None:
    if not isinstance(raw, Mapping):
        problems.add(label, "job", "required: a mapping with at least 'name'")
        return None
    before = len(problems.errors)
    problems.unknown_fields(label, "job", raw, JOB_FIELDS)
    arguments = _arguments(raw.get("arguments", {}), label, problems)
    job_run_id = _template(raw.get("job_run_id"), label, "job.job_run_id", problems)
    for field, message, warning in check_job(raw, arguments):
        problems.add(label, f"job.{field}" if field else "job", message, warning=warning)
    if len(problems.errors) > before:
        return None
    settings = {f.name: f.read(raw[f.name]) for f in FIELDS if f.setting and raw.get(f.name) is not None}
    run_key_argument = raw.get("run_key_argument", DEFAULT_RUN_KEY_ARGUMENT) or None
    return JobSpec(
        name=raw["name"],
        arguments=arguments,
        job_run_id=job_run_id,
        settings=settings,
        run_key_argument=run_key_argument,
    )


def _arguments(raw: object, label: str, problems: _Problems) -> dict[str, Template]:
    """The job's arguments as templates; numbers and booleans are sent as the text YAML would print."""
    if not isinstance(raw, Mapping):
        problems.add(label, "job.arguments", "must be a mapping of '--name': value")
        return {}
    arguments: dict[str, Template] = {}
    for key, value in raw.items():
        field = f"job.arguments.{key}"
        if not isinstance(value, str | int | float | bool):
            problems.add(label, field, "value must be a string (or a number or boolean, sent as text)")
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        template = _template(text, label, field, problems)
        if template is not None:
            arguments[str(key)] = template
    return arguments


def _template(raw: object, label: str, field: str, problems: _Problems) -> Template | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        problems.add(label, field, "must be a string")
        return None
    try:
        return parse_template(raw)
    except TemplateError as exc:
        problems.add(label, field, str(exc))
        return None
