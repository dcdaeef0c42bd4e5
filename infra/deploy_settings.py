"""Deployment settings: read once from CDK context or the environment into one typed value.

triggers.yaml says *what* starts which job; these settings say *how* this deployment runs it
(stack name, account, sizing, alarm e-mail). They are read in one place so that constructs get
typed values instead of poking at context, and so that a bad value fails synth with one line,
exactly like a config problem, instead of a CloudFormation error at deploy time. (Not to be
confused with the handler's environment model in :mod:`gluetrigger.runtime.environment`, which
is what one deployed function reads at run time; these are what the deployment is built with.)

Each setting ``name`` comes from ``-c name=value`` (or cdk.json's context), else from the
environment variable ``GLUETRIGGER_<NAME>``, else the default below. Context values given with
``-c`` are strings, so every parser accepts strings as well as JSON-typed values.

A misspelt setting (``-c alarm_emial=...``) would otherwise be ignored in silence and the stack
deployed without what the user asked for, so an unknown one fails synth with a "did you mean".
The context also holds the CDK's own keys (feature flags ``@aws-cdk/...:...``, ``aws:cdk:...``,
``acknowledged-issue-numbers``, lookups ``availability-zones:...``): every one of them has an
``@``, ``:``, ``-`` or ``/`` in it, while a setting's name is a Python identifier, so only a key
made of letters, digits and underscores is taken for ours. Of the ``GLUETRIGGER_*`` variables,
those the handler reads at run time (``GLUETRIGGER_CONFIG``...) are known too: the same shell may
hold both when a test or local run sets them.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from aws_cdk import Duration
from aws_cdk import aws_logs as logs

from gluetrigger.core.errors import ConfigError, GlueTriggerError, Problem
from gluetrigger.runtime import environment

__all__ = ["LOG_RETENTION", "RUNTIMES", "SETTINGS_LABEL", "DeploySettings", "snap_start_supported"]

T = TypeVar("T")

# The "trigger" named in problems about settings, so they print like config problems.
SETTINGS_LABEL = "settings"
ENV_PREFIX = "GLUETRIGGER_"
# A context key shaped like a setting's name; the CDK's own keys never are (see the module docstring).
SETTING_LIKE = re.compile(r"^\w+$", re.ASCII)
# What the handler reads at run time: not deploy settings, but not typos either.
HANDLER_VARIABLES = frozenset(
    name
    for name in (
        environment.CONFIG_JSON_ENV,
        environment.CONFIG_FILE_ENV,
        environment.IDEMPOTENCY_TABLE_ENV,
        environment.DEAD_LETTER_QUEUE_URL_ENV,
        environment.MAX_RECEIVE_COUNT_ENV,
        environment.QUEUE_URL_ENV,
        environment.TRACING_ENV,
    )
    if name.startswith(ENV_PREFIX)
)

# Python runtimes the core supports and for which Powertools is known to publish its arm64 layer
# (the SSM parameter must exist at deploy time); add a newer one once its layer is confirmed.
RUNTIMES = ("python3.12", "python3.13")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# CloudWatch Logs accepts only these retention periods; the CDK names them instead of numbering them.
LOG_RETENTION: Mapping[int, logs.RetentionDays] = MappingProxyType(
    {
        1: logs.RetentionDays.ONE_DAY,
        3: logs.RetentionDays.THREE_DAYS,
        5: logs.RetentionDays.FIVE_DAYS,
        7: logs.RetentionDays.ONE_WEEK,
        14: logs.RetentionDays.TWO_WEEKS,
        30: logs.RetentionDays.ONE_MONTH,
        60: logs.RetentionDays.TWO_MONTHS,
        90: logs.RetentionDays.THREE_MONTHS,
        120: logs.RetentionDays.FOUR_MONTHS,
        150: logs.RetentionDays.FIVE_MONTHS,
        180: logs.RetentionDays.SIX_MONTHS,
        365: logs.RetentionDays.ONE_YEAR,
        400: logs.RetentionDays.THIRTEEN_MONTHS,
        545: logs.RetentionDays.EIGHTEEN_MONTHS,
        731: logs.RetentionDays.TWO_YEARS,
        1096: logs.RetentionDays.THREE_YEARS,
        1827: logs.RetentionDays.FIVE_YEARS,
        3653: logs.RetentionDays.TEN_YEARS,
    }
)
# Lambda SnapStart for Python: python3.12 and later.
SNAP_START_SINCE = (3, 12)
PYTHON_RUNTIME = re.compile(r"^python(\d+)\.(\d+)$")
STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")
ACCOUNT = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NAMESPACE = re.compile(r"^[A-Za-z0-9._/#:-]{1,255}$")
TAG_KEY = re.compile(r"^[\w.:/=+@ -]{1,128}$")


class _InvalidSettingError(GlueTriggerError, ValueError):
    """A setting's value is unusable; the message says what is expected."""


@dataclass(frozen=True)
class DeploySettings:
    """Everything about a deployment that is not in triggers.yaml, with production defaults."""

    stack_name: str = "GlueTrigger"
    triggers_path: str = "triggers.yaml"
    # None: an environment-agnostic stack, deployed to the account and region of the credentials.
    account: str | None = None
    region: str | None = None
    tags: Mapping[str, str] = field(default_factory=lambda: {"project": "gluetrigger"})
    runtime: str = "python3.13"
    memory_mb: int = 256
    timeout_seconds: int = 60
    tracing: bool = False
    log_level: str = "INFO"
    log_retention_days: int = 90
    # Defaults to the stack name, so two stacks in one account never mix their metrics and alarms.
    metrics_namespace: str = "GlueTrigger"
    # SQS -> Lambda: messages per invocation, and concurrent invocations per trigger (AWS minimum 2).
    batch_size: int = 10
    max_concurrency: int = 5
    # Receives before a message moves to the DLQ: enough to ride out Glue throttling and
    # ConcurrentRunsExceeded, few enough that a poison message reaches an operator quickly.
    max_receive_count: int = 5
    # Lambda's own retries of an asynchronous invocation (schedules); AWS allows 0..2.
    retry_attempts: int = 2
    # How long an undelivered or failing event is retried before it goes to the DLQ (Lambda allows 6 h).
    max_event_age_hours: int = 6
    alarm_email: str | None = None
    # Nested stacks the triggers are spread over, by a hash of their names (see infra.trigger_group):
    # fixed once deployed, since changing it moves triggers (and replaces their queues).
    trigger_groups: int = 20
    # Lambda SnapStart on published versions, invoked through an alias (python3.12 and later).
    snap_start: bool = False
    # The app's CloudWatch dashboard (infra.dashboard); beyond three, dashboards are billed each.
    dashboard: bool = True

    @property
    def timeout(self) -> Duration:
        return Duration.seconds(self.timeout_seconds)

    @property
    def max_event_age(self) -> Duration:
        return Duration.hours(self.max_event_age_hours)

    @property
    def log_retention(self) -> logs.RetentionDays:
        return LOG_RETENTION[self.log_retention_days]

    @classmethod
    def from_context(cls, context: Mapping[str, object], environ: Mapping[str, str] | None = None) -> DeploySettings:
        """Read every setting; ConfigError lists every bad value and unknown setting, one line each.

        ``context`` is ``app.node.get_all_context()``; ``environ`` defaults to ``os.environ``.
        """
        reader = _Reader(context, os.environ if environ is None else environ)
        settings = cls._read(reader)
        reader.check_unknown()
        if settings.snap_start and not snap_start_supported(settings.runtime):
            reader.problems.append(
                Problem(SETTINGS_LABEL, "snap_start", f"SnapStart needs python3.12 or later, not {settings.runtime}")
            )
        if reader.problems:
            raise ConfigError(reader.problems)
        return settings

    @classmethod
    def _read(cls, reader: _Reader) -> DeploySettings:
        """Every setting through ``reader``, in the order its problems are reported."""
        read, defaults = reader.read, cls()
        stack_name = read("stack_name", _matching(STACK_NAME, "a CloudFormation stack name"), defaults.stack_name)
        return cls(
            stack_name=stack_name,
            triggers_path=read("triggers", _text, defaults.triggers_path),
            account=read("account", _matching(ACCOUNT, "a 12-digit AWS account id"), defaults.account),
            region=read("region", _matching(REGION, "an AWS region such as eu-west-1"), defaults.region),
            tags=read("tags", _tags, defaults.tags),
            runtime=read("runtime", _choice(RUNTIMES), defaults.runtime),
            memory_mb=read("memory_mb", _integer(128, 10240), defaults.memory_mb),
            timeout_seconds=read("timeout_seconds", _integer(3, 900), defaults.timeout_seconds),
            tracing=read("tracing", _boolean, defaults.tracing),
            log_level=read("log_level", _choice(LOG_LEVELS), defaults.log_level),
            log_retention_days=read("log_retention_days", _choice(tuple(LOG_RETENTION)), defaults.log_retention_days),
            metrics_namespace=read("metrics_namespace", _matching(NAMESPACE, "a CloudWatch namespace"), stack_name),
            batch_size=read("batch_size", _integer(1, 10), defaults.batch_size),
            max_concurrency=read("max_concurrency", _integer(2, 1000), defaults.max_concurrency),
            max_receive_count=read("max_receive_count", _integer(1, 1000), defaults.max_receive_count),
            retry_attempts=read("retry_attempts", _integer(0, 2), defaults.retry_attempts),
            max_event_age_hours=read("max_event_age_hours", _integer(1, 6), defaults.max_event_age_hours),
            alarm_email=read("alarm_email", _matching(EMAIL, "an e-mail address"), defaults.alarm_email),
            trigger_groups=read("trigger_groups", _integer(1, 100), defaults.trigger_groups),
            snap_start=read("snap_start", _boolean, defaults.snap_start),
            dashboard=read("dashboard", _boolean, defaults.dashboard),
        )


def snap_start_supported(runtime: str) -> bool:
    """Whether Lambda offers SnapStart for ``runtime`` (a name such as ``python3.13``)."""
    match = PYTHON_RUNTIME.match(runtime)
    return match is not None and (int(match[1]), int(match[2])) >= SNAP_START_SINCE


class _Reader:
    """Reads one setting at a time, collecting every bad value instead of stopping at the first."""

    def __init__(self, context: Mapping[str, object], environ: Mapping[str, str]) -> None:
        self._context = context
        self._environ = environ
        self._names: list[str] = []
        self.problems: list[Problem] = []

    def read(self, name: str, parse: Callable[[object], T], default: T) -> T:
        """``name``'s value from the context, else the environment, parsed; ``default`` when unset or bad."""
        self._names.append(name)
        value = self._context.get(name)
        if value is None:
            value = self._environ.get(ENV_PREFIX + name.upper())
        if value is None or value == "":
            return default
        try:
            return parse(value)
        except _InvalidSettingError as exc:
            self.problems.append(Problem(SETTINGS_LABEL, name, f"{exc} (got {value!r})"))
            return default

    def check_unknown(self) -> None:
        """A problem for every setting-like context key and ``GLUETRIGGER_*`` variable not read."""
        variables = [ENV_PREFIX + name.upper() for name in self._names]
        given = [key for key in self._context if SETTING_LIKE.match(key)]
        self._unknown(given, self._names)
        given = [key for key in self._environ if key.startswith(ENV_PREFIX) and key not in HANDLER_VARIABLES]
        self._unknown(given, variables)

    def _unknown(self, given: Iterable[str], known: list[str]) -> None:
        for name in given:
            if name in known:
                continue
            hint = difflib.get_close_matches(name, known, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            reason = f"unknown setting{suggestion}; known: {', '.join(known)}"
            self.problems.append(Problem(SETTINGS_LABEL, name, reason))


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise _InvalidSettingError("must be a string")
    return value


def _matching(pattern: re.Pattern[str], what: str) -> Callable[[object], str]:
    def parse(value: object) -> str:
        if not isinstance(value, str) or not pattern.match(value):
            raise _InvalidSettingError(f"must be {what}")
        return value

    return parse


def _choice(values: tuple[T, ...]) -> Callable[[object], T]:
    """One of ``values``, given as itself or as its text (``-c log_retention_days=30``)."""

    def parse(value: object) -> T:
        for candidate in values:
            if str(candidate) == str(value).strip():
                return candidate
        raise _InvalidSettingError("must be one of " + ", ".join(str(v) for v in values))

    return parse


def _integer(low: int, high: int) -> Callable[[object], int]:
    def parse(value: object) -> int:
        text = str(value).strip()
        if isinstance(value, bool) or not re.fullmatch(r"\d+", text) or not low <= int(text) <= high:
            raise _InvalidSettingError(f"must be an integer {low}..{high}")
        return int(text)

    return parse


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise _InvalidSettingError("must be true or false")
    return text == "true"


def _tags(value: object) -> Mapping[str, str]:
    """A mapping (cdk.json), a JSON object, or ``key=value,key=value`` (``-c tags=team=data,env=prod``)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise _InvalidSettingError("must be a JSON object of strings or key=value,key=value") from None
        else:
            pairs = [item.partition("=") for item in text.split(",") if item.strip()]
            if any(not sep for _, sep, _ in pairs):
                raise _InvalidSettingError("must be key=value,key=value")
            value = {key.strip(): tag.strip() for key, _, tag in pairs}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and TAG_KEY.match(k) and isinstance(v, str) and len(v) <= 256 for k, v in value.items()
    ):
        raise _InvalidSettingError("must map tag keys (1..128 characters) to string values (up to 256 characters)")
    return dict(value)
