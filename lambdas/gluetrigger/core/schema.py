"""The JSON Schema of triggers.yaml, so that editors complete, explain and check it as you type.

It is built from what the parser itself reads, never restated: the field names and their order
come from :mod:`gluetrigger.core.config`'s field tables (an unknown field is refused everywhere,
as the parser refuses it), each job field's type, range or allowed values from its row's
:class:`~gluetrigger.core.start_job_run.Rule`, and the patterns, bounds and defaults from the
parser's constants. What this module adds is only what the parser expresses as code rather than
data (each trigger and source field's type, which fields are required) and the one-line
descriptions editors show on hover; the unit tests check those against the parser, both ways.

The schema is a guide, not the authority: JSON Schema cannot say what spans fields (capacity
modes, job-type rules, unique trigger names), what a template may hold, whether a key pattern is
safe or an event pattern valid, or which timezones exist. ``gluetrigger validate`` checks all of
that. The one place the schema is stricter on purpose: argument values must be strings, since
YAML may rewrite an unquoted value (``0123`` is 83) before anyone reads it.

Draft 2020-12, and no ``$id``: the schema is read from the file the config's modeline names
(``# yaml-language-server: $schema=./schema/triggers.schema.json``), its ``$ref`` s are local, and
an ``$id`` would be an address nobody serves.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gluetrigger.core.backpressure import (
    DEFAULT_MAX_WAIT_SECONDS,
    MAX_CONCURRENT_RUNS_LIMIT,
    MAX_WAIT_DURATION,
    MAX_WAIT_LIMIT_SECONDS,
)
from gluetrigger.core.config import (
    BATCH_DEFAULT_MAX_FILES,
    BATCH_DEFAULT_WINDOW_SECONDS,
    BATCH_FIELDS,
    BATCH_MAX_FILES,
    BATCH_MAX_WINDOW_SECONDS,
    BUCKET_NAME,
    DEFAULTS_FIELDS,
    EVENT_BUS_NAME,
    IDEMPOTENCY_TTL_MAX,
    IDEMPOTENCY_TTL_MIN,
    JOB_FIELDS,
    MANIFEST_LOCATION,
    SOURCE_FIELDS,
    TOP_FIELDS,
    TRIGGER_FIELDS,
    TRIGGER_NAME,
)
from gluetrigger.core.model import DEFAULT_IDEMPOTENCY_TTL_SECONDS
from gluetrigger.core.retry import (
    DEFAULT_DELAY_SECONDS,
    MAX_ATTEMPTS_LIMIT,
    MAX_DELAY_SECONDS,
    RETRY_FIELDS,
    RETRY_STATES,
)
from gluetrigger.core.run_key import DEFAULT_RUN_KEY_ARGUMENT
from gluetrigger.core.schedule import MAX_EXPRESSION_LENGTH
from gluetrigger.core.start_job_run import (
    FIELDS,
    MAX_CAPACITY_MAX,
    MAX_CAPACITY_MIN,
    SHELL_CAPACITIES,
    JobField,
    Schema,
)

__all__ = ["DIALECT", "triggers_schema"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"

_TIMEZONE: Schema = {
    "type": "string",
    "description": "An IANA timezone name such as Europe/Paris.",
    "examples": ["UTC", "Europe/Paris"],
}

# The backpressure settings, for a trigger or in ``defaults``.
_BACKPRESSURE: Mapping[str, Schema] = {
    "max_wait": {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": MAX_WAIT_LIMIT_SECONDS},
            {"type": "string", "pattern": MAX_WAIT_DURATION.pattern},
        ],
        "default": DEFAULT_MAX_WAIT_SECONDS,
        "description": "How long an event may wait for Glue capacity before it goes to the dead-letter queue: "
        "seconds, or a duration such as 90s, 30m, 24h, 2d (1s..14d).",
    },
    "max_concurrent_runs": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_CONCURRENT_RUNS_LIMIT,
        "description": "Hold a run back, before Glue refuses it, once this many runs of the job are active.",
    },
}

# A batch trigger's ``batch`` block, keyed by the parser's names (BATCH_FIELDS gives the order).
_BATCH: Mapping[str, Schema] = {
    "max_files": {
        "type": "integer",
        "minimum": 1,
        "maximum": BATCH_MAX_FILES,
        "default": BATCH_DEFAULT_MAX_FILES,
        "description": "Start a run as soon as this many files wait.",
    },
    "window_seconds": {
        "type": "integer",
        "minimum": 1,
        "maximum": BATCH_MAX_WINDOW_SECONDS,
        "default": BATCH_DEFAULT_WINDOW_SECONDS,
        "description": "Or when the oldest waiting file has waited this long.",
    },
    "manifest_location": {
        "type": "string",
        # ECMAScript has named groups too, but spelled (?<name>...): editors get plain groups.
        "pattern": re.sub(r"\(\?P<\w+>", "(", MANIFEST_LOCATION.pattern),
        "description": "s3://bucket/ or s3://bucket/prefix/ for the manifests (default: the stack's manifests bucket).",
    },
}

# A trigger's ``retry`` block, keyed by the parser's names (RETRY_FIELDS gives the order).
_RETRY: Mapping[str, Schema] = {
    "max_attempts": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_ATTEMPTS_LIMIT,
        "description": "How many times a failed run is retried at most (the first run not counted).",
    },
    "on": {
        "type": "array",
        "minItems": 1,
        "uniqueItems": True,
        "items": {"enum": list(RETRY_STATES)},
        "default": list(RETRY_STATES),
        "description": "The run states that are retried.",
    },
    "delay_seconds": {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_DELAY_SECONDS,
        "default": DEFAULT_DELAY_SECONDS,
        "description": "How long after the run failed its retry starts.",
    },
}

# Each trigger field's value, keyed by the parser's names (TRIGGER_FIELDS gives the order).
_TRIGGER: Mapping[str, Schema] = {
    "name": {
        "type": "string",
        "pattern": TRIGGER_NAME.pattern,
        "description": "The trigger's name, unique in the file.",
    },
    "description": {"type": "string", "description": "Free text for people; not sent anywhere."},
    "source": {"$ref": "#/$defs/source", "description": "What starts the job: an S3 object, a schedule or an event."},
    "job": {"$ref": "#/$defs/job", "description": "The Glue job to start and its StartJobRun parameters."},
    "idempotency_key": {
        "type": "string",
        "description": "A template naming one logical event (at least one ${variable}); prefixed with the "
        "trigger's name. Default: the event's own identity.",
    },
    "idempotency_ttl_seconds": {
        "type": "integer",
        "minimum": IDEMPOTENCY_TTL_MIN,
        "maximum": IDEMPOTENCY_TTL_MAX,
        "default": DEFAULT_IDEMPOTENCY_TTL_SECONDS,
        "description": "How long a run key is remembered, in seconds.",
    },
    "timezone": {
        "$ref": "#/$defs/timezone",
        "description": "The IANA timezone ${time...} renders in (default: a schedule's timezone, else UTC).",
    },
    **_BACKPRESSURE,
    "batch": {
        "$ref": "#/$defs/batch",
        "description": "s3 triggers only: gather files into batches, one run per batch, with a manifest.",
    },
    "retry": {
        "$ref": "#/$defs/retry",
        "description": "Retry the trigger's failed runs (StartJobRun with JobRunId), up to max_attempts times.",
    },
}
_TRIGGER_REQUIRED = ("name", "source", "job")

# Each source type's fields, keyed by the parser's names (SOURCE_FIELDS gives the types and order).
_SOURCES: Mapping[str, Mapping[str, Schema]] = {
    "s3": {
        "bucket": {
            "type": "string",
            "pattern": BUCKET_NAME.pattern,
            "not": {"pattern": r"\.\."},
            "description": "The S3 bucket whose new objects start the job.",
        },
        "prefix": {
            "type": "string",
            "not": {"pattern": "^/"},
            "description": "Only keys that start with this (S3 keys have no leading '/').",
        },
        "suffix": {"type": "string", "description": "Only keys that end with this."},
        "key_pattern": {
            "type": "string",
            "description": "A Python regular expression searched in the decoded key; its named groups become "
            "template variables. Patterns that could match slowly are refused by gluetrigger validate.",
        },
        "create": {
            "type": "boolean",
            "default": False,
            "description": "Let the stack create the bucket (encrypted, versioned).",
        },
    },
    "schedule": {
        "expression": {
            "type": "string",
            "pattern": r"^(rate|cron)\(.*\)$",
            "maxLength": MAX_EXPRESSION_LENGTH,
            "description": "An EventBridge schedule: rate(value unit) or cron(fields), e.g. cron(0 2 * * ? *).",
            "examples": ["rate(1 hour)", "cron(0 2 * * ? *)"],
        },
        "timezone": {
            "$ref": "#/$defs/timezone",
            "description": "The IANA timezone the cron fields are read in (default UTC).",
        },
    },
    "event": {
        "pattern": {
            "type": "object",
            "minProperties": 1,
            "description": "An EventBridge event pattern (checked by gluetrigger validate).",
        },
        "event_bus": {
            "type": "string",
            "pattern": EVENT_BUS_NAME.pattern,
            "default": "default",
            "description": "The event bus's name or ARN.",
        },
    },
}
_SOURCE_REQUIRED: Mapping[str, tuple[str, ...]] = {
    "s3": ("bucket",),
    "schedule": ("expression",),
    "event": ("pattern",),
}
_SOURCE_DESCRIPTIONS: Mapping[str, str] = {
    "s3": "New objects in an S3 bucket (one run per object).",
    "schedule": "An EventBridge schedule.",
    "event": "EventBridge events matching a pattern.",
}

# Each job field's hover text; the row's StartJobRun member and deprecation are added to it.
_JOB: Mapping[str, str] = {
    "name": "The Glue job's name, literal: IAM is scoped to it at deploy time.",
    "job_run_queuing_enabled": "Queue the run when the job has no run slot free.",
    "job_run_id": "A previous run's ID, to retry it (a template).",
    "arguments": "The job's arguments: '--name': value, values are templates. Quote every value.",
    "allocated_capacity": "DPUs, the former way to size a job.",
    "timeout": "Minutes before Glue stops the run.",
    "max_capacity": f"DPUs: {' or '.join(map(str, SHELL_CAPACITIES))} for a pythonshell job, an integer from "
    f"{MAX_CAPACITY_MIN} to {MAX_CAPACITY_MAX} for the others.",
    "security_configuration": "The Glue security configuration's name.",
    "notify_delay_after": "Minutes after which a still-running job sends a delay notification.",
    "worker_type": "The worker type; set together with number_of_workers.",
    "number_of_workers": "How many workers; set together with worker_type.",
    "execution_class": "FLEX runs on spare capacity (glueetl jobs only).",
    "execution_role_session_policy": "An IAM policy (Version, Statement) limiting the run's role; sent as "
    "compact JSON.",
    "job_type": "The job's type (its JobCommand.Name), not sent: it lets gluetrigger validate apply the "
    "type's capacity rules.",
    "run_key_argument": "The argument every run carries its run key in, or false to turn it off (a start "
    "whose outcome is unknown may then run the job twice).",
}
_JOB_DEFAULTS: Mapping[str, object] = {"run_key_argument": DEFAULT_RUN_KEY_ARGUMENT}


def triggers_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a triggers.yaml document, in a stable key order."""
    return {
        "$schema": DIALECT,
        "$comment": "Generated by `gluetrigger schema` from the parser's tables; regenerate with `make schema`.",
        "title": "gluetrigger triggers.yaml",
        "description": "Which events start which AWS Glue job, with which arguments.",
        **_closed(
            TOP_FIELDS,
            {
                "defaults": {
                    "$ref": "#/$defs/defaults",
                    "description": "Job fields merged into every trigger's job (the trigger's own values win).",
                },
                "triggers": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"$ref": "#/$defs/trigger"},
                    "description": "The triggers, each with a unique name.",
                },
            },
            required=("triggers",),
        ),
        "$defs": {
            "batch": _closed(BATCH_FIELDS, _BATCH, required=()),
            "retry": _closed(RETRY_FIELDS, _RETRY, required=("max_attempts",)),
            "trigger": {
                "description": "One trigger: what starts which Glue job.",
                **_closed(TRIGGER_FIELDS, _TRIGGER, required=_TRIGGER_REQUIRED),
            },
            "source": _source(),
            **{f"source_{kind}": _source_kind(kind) for kind in SOURCE_FIELDS},
            "job": _closed(JOB_FIELDS, _job_fields(JOB_FIELDS), required=tuple(f.name for f in FIELDS if f.required)),
            "defaults": _closed(DEFAULTS_FIELDS, {**_job_fields(DEFAULTS_FIELDS), **_BACKPRESSURE}, required=()),
            "timezone": _TIMEZONE,
        },
    }


def _closed(fields: tuple[str, ...], values: Mapping[str, Schema], *, required: tuple[str, ...]) -> dict[str, Any]:
    """An object holding only ``fields`` (the parser's, in its order), as the parser refuses any other.

    ``values`` must describe exactly those fields: a field the parser gained or lost fails here, at
    build time (so in the unit tests), rather than leaving the schema behind.
    """
    if set(values) != set(fields):
        drift = sorted(set(values) ^ set(fields))
        raise KeyError(f"gluetrigger.core.schema is out of step with the parser's fields {drift}: describe them there")
    closed: dict[str, Any] = {"type": "object", "properties": {field: values[field] for field in fields}}
    if required:
        closed["required"] = list(required)
    closed["additionalProperties"] = False
    return closed


def _source() -> Schema:
    """A source: its ``type`` chooses which fields it may have."""
    return {
        "type": "object",
        "required": ["type"],
        "properties": {
            "type": {"enum": list(SOURCE_FIELDS), "description": "Which kind of source: it decides the other fields."}
        },
        "oneOf": [{"$ref": f"#/$defs/source_{kind}"} for kind in SOURCE_FIELDS],
    }


def _source_kind(kind: str) -> Schema:
    values: dict[str, Schema] = {"type": {"const": kind, "description": _SOURCE_DESCRIPTIONS[kind]}, **_SOURCES[kind]}
    return _closed(SOURCE_FIELDS[kind], values, required=("type", *_SOURCE_REQUIRED[kind]))


def _job_fields(names: tuple[str, ...]) -> dict[str, Schema]:
    return {field.name: _job_field(field) for field in FIELDS if field.name in names}


def _job_field(field: JobField) -> Schema:
    """A job field's schema: its row's rule, with hover text saying what it becomes."""
    description = _JOB[field.name]
    if field.member is not None:
        description += f" Sent as StartJobRun's {field.member}."
    extra: dict[str, object] = {}
    if field.name in _JOB_DEFAULTS:
        extra["default"] = _JOB_DEFAULTS[field.name]
    if field.deprecated is not None:
        # deprecationMessage is yaml-language-server's: it shows the warning validate gives.
        extra["deprecated"] = True
        extra["deprecationMessage"] = f"{field.name} {field.deprecated}"
    return {**field.check.schema, **extra, "description": description}
