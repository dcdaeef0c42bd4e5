"""The handler's environment, read once per container into one typed, frozen value.

Lambda's environment is fixed for the life of a container, so it is read at init and every
problem with it is reported at once, in one message, instead of surfacing as a KeyError deep
in the first invocation. The trigger configuration itself is JSON that ``gluetrigger compile``
produced at synth time: the handler never parses YAML. The stack ships it as a file of the code
asset (``GLUETRIGGER_CONFIG_FILE``, relative to the code root ``LAMBDA_TASK_ROOT``), never in
the environment, whose 4 KB limit a config ``gluetrigger validate`` accepts could exceed; tests
may pass it inline (``GLUETRIGGER_CONFIG``). ``AWS_ENDPOINT_URL`` is not read here: boto3
honours it itself, which is what lets the same code run on AWS and on an emulator.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gluetrigger.core.config import parse_compiled
from gluetrigger.core.errors import GlueTriggerError
from gluetrigger.runtime.values import FrozenValue

if TYPE_CHECKING:
    from collections.abc import Mapping

    from gluetrigger.core.model import Config

__all__ = [
    "CONFIG_FILE_ENV",
    "CONFIG_JSON_ENV",
    "DEAD_LETTER_QUEUE_URL_ENV",
    "DEFAULT_METRICS_NAMESPACE",
    "DEFAULT_SERVICE_NAME",
    "IDEMPOTENCY_TABLE_ENV",
    "MANIFEST_BUCKET_ENV",
    "MAX_RECEIVE_COUNT_ENV",
    "METRICS_NAMESPACE_ENV",
    "QUEUE_URL_ENV",
    "SERVICE_NAME_ENV",
    "TASK_ROOT_ENV",
    "TRACE_DISABLED_ENV",
    "TRACING_ENV",
    "HandlerEnvironment",
    "HandlerEnvironmentError",
]

CONFIG_JSON_ENV = "GLUETRIGGER_CONFIG"
CONFIG_FILE_ENV = "GLUETRIGGER_CONFIG_FILE"
# Set by Lambda to the directory the code asset is unpacked in (/var/task): a relative config file is there.
TASK_ROOT_ENV = "LAMBDA_TASK_ROOT"
IDEMPOTENCY_TABLE_ENV = "GLUETRIGGER_IDEMPOTENCY_TABLE"
DEAD_LETTER_QUEUE_URL_ENV = "GLUETRIGGER_DEAD_LETTER_QUEUE_URL"
# The trigger queue's maxReceiveCount: on that receive the handler moves a still-failing message
# to the DLQ itself, with its reason, instead of letting SQS move it there without one.
MAX_RECEIVE_COUNT_ENV = "GLUETRIGGER_MAX_RECEIVE_COUNT"
# The trigger's own queue (queued triggers only): where a message waiting for Glue capacity is
# sent again, delayed (gluetrigger.runtime.backpressure); without it, SQS retries such a message.
QUEUE_URL_ENV = "GLUETRIGGER_QUEUE_URL"
# The bucket the stack made for batch manifests (batch triggers without a manifest_location);
# batch triggers also send their window's flush to the trigger's queue.
MANIFEST_BUCKET_ENV = "GLUETRIGGER_MANIFEST_BUCKET"
TRACING_ENV = "GLUETRIGGER_TRACING"
TRACE_DISABLED_ENV = "POWERTOOLS_TRACE_DISABLED"
METRICS_NAMESPACE_ENV = "POWERTOOLS_METRICS_NAMESPACE"
SERVICE_NAME_ENV = "POWERTOOLS_SERVICE_NAME"
DEFAULT_METRICS_NAMESPACE = "GlueTrigger"
DEFAULT_SERVICE_NAME = "gluetrigger"

# SQS's limit on a redrive policy's maxReceiveCount.
MAX_RECEIVE_COUNT_LIMIT = 1000
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


class HandlerEnvironmentError(GlueTriggerError, ValueError):
    """The environment is unusable; the message has one line per problem."""


@dataclass(frozen=True, eq=False, repr=False)
class HandlerEnvironment(FrozenValue):
    """What the handler needs from its environment.

    Exactly one of ``config_json`` and ``config_file`` is set; ``from_env`` makes a relative
    ``config_file`` absolute, against ``LAMBDA_TASK_ROOT`` when set, else the working directory
    (local runs), so that it names one file whatever the handler's working directory. Tracing is off unless asked for
    (``GLUETRIGGER_TRACING``), and ``POWERTOOLS_TRACE_DISABLED`` always wins, so that a cold
    start does not pay for the X-Ray SDK unless the stack enabled active tracing. Without
    ``dead_letter_queue_url`` (``GLUETRIGGER_DEAD_LETTER_QUEUE_URL``) a permanently failing event
    is reported failed and reaches a DLQ only through the platform (maxReceiveCount, or the
    asynchronous on-failure destination); with it, the handler sends it there at once, with why.
    ``max_receive_count`` (``GLUETRIGGER_MAX_RECEIVE_COUNT``, the queue's maxReceiveCount): on a
    message's last receive, a failure that would be retried goes to the DLQ with its reason too.
    ``queue_url`` (``GLUETRIGGER_QUEUE_URL``): the trigger's own queue, where messages waiting for
    Glue capacity are held back.
    """

    idempotency_table: str
    config_json: str | None = None
    config_file: str | None = None
    dead_letter_queue_url: str | None = None
    metrics_namespace: str = DEFAULT_METRICS_NAMESPACE
    service_name: str = DEFAULT_SERVICE_NAME
    tracing: bool = False
    max_receive_count: int | None = None
    queue_url: str | None = None
    manifest_bucket: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HandlerEnvironment:
        """Read from ``env`` (default: ``os.environ``); HandlerEnvironmentError lists every problem."""
        env = os.environ if env is None else env
        problems: list[str] = []
        config_json = env.get(CONFIG_JSON_ENV) or None
        config_file = env.get(CONFIG_FILE_ENV) or None
        if config_json is None and config_file is None:
            problems.append(
                f"{CONFIG_JSON_ENV} or {CONFIG_FILE_ENV} is required: the JSON `gluetrigger compile` prints"
            )
        elif config_json is not None and config_file is not None:
            problems.append(f"set only one of {CONFIG_JSON_ENV} and {CONFIG_FILE_ENV}, not both")
        table = env.get(IDEMPOTENCY_TABLE_ENV, "").strip()
        if not table:
            problems.append(f"{IDEMPOTENCY_TABLE_ENV} is required: the name of the idempotency table")
        tracing = _flag(env, TRACING_ENV, problems) and not _flag(env, TRACE_DISABLED_ENV, problems)
        max_receive_count = _count(env, MAX_RECEIVE_COUNT_ENV, problems)
        if problems:
            raise HandlerEnvironmentError("\n".join(problems))
        return cls(
            idempotency_table=table,
            config_json=config_json,
            config_file=None if config_file is None else _absolute(config_file, env),
            dead_letter_queue_url=env.get(DEAD_LETTER_QUEUE_URL_ENV, "").strip() or None,
            metrics_namespace=env.get(METRICS_NAMESPACE_ENV) or DEFAULT_METRICS_NAMESPACE,
            service_name=env.get(SERVICE_NAME_ENV) or DEFAULT_SERVICE_NAME,
            tracing=tracing,
            max_receive_count=max_receive_count,
            queue_url=env.get(QUEUE_URL_ENV, "").strip() or None,
            manifest_bucket=env.get(MANIFEST_BUCKET_ENV, "").strip() or None,
        )

    def load_config(self) -> tuple[Config, str | None]:
        """The compiled configuration and the trigger it was compiled for.

        HandlerEnvironmentError, one line, when the config cannot be read or is not JSON (what the
        environment points at is wrong); ConfigError when the JSON is not a valid compiled config.
        """
        if self.config_json is not None:
            source, text = CONFIG_JSON_ENV, self.config_json.encode()
        else:
            source = f"{CONFIG_FILE_ENV} {self.config_file}"
            try:
                text = Path(str(self.config_file)).read_bytes()
            except OSError as exc:
                raise HandlerEnvironmentError(f"{source}: cannot read: {exc.strerror}") from None
        try:
            # Bytes: a file that is not UTF-8 is a ValueError here too, not a traceback.
            document = json.loads(text)
        except ValueError as exc:
            raise HandlerEnvironmentError(f"{source}: not the JSON `gluetrigger compile` prints: {exc}") from None
        return parse_compiled(document)


def _absolute(path: str, env: Mapping[str, str]) -> str:
    """``path``, relative to the code root if Lambda says where it is, else to the working directory."""
    root = env.get(TASK_ROOT_ENV) or os.getcwd()
    return str(Path(root, path))


def _count(env: Mapping[str, str], name: str, problems: list[str]) -> int | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_RECEIVE_COUNT_LIMIT:
        problems.append(f"{name} must be a whole number from 1 to {MAX_RECEIVE_COUNT_LIMIT}, got {value!r}")
        return None
    return int(value)


def _flag(env: Mapping[str, str], name: str, problems: list[str]) -> bool:
    value = env.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value not in _FALSE:
        problems.append(f"{name} must be true or false, got {env[name]!r}")
    return False
