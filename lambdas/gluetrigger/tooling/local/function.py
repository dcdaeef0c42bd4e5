"""The real handler, hosted in this process the way the stack deploys it: a function per trigger.

The stack gives each trigger its own Lambda function, configured with ``gluetrigger compile
--trigger NAME``; local mode builds the same thing in-process: one
:class:`gluetrigger.runtime.service.Service` per trigger, by the handler's own composition
(:func:`gluetrigger.runtime.composition.build_service`), from the same environment a function
reads (only the trigger's compiled config, the idempotency table, the shared dead-letter queue,
the trigger's own queue, where messages waiting for Glue capacity are held back and batch
windows' flushes are sent, and the manifests bucket), invoked exactly as
``gluetrigger.handler.handler`` invokes its container's Service. So an event two triggers match
reaches each trigger's function once, as deployed, a schedule's event is owned by the function
it is delivered to, and what fails for good goes to the DLQ at once with the reason.

The handler's boto3 clients follow ``AWS_ENDPOINT_URL``, which :func:`activate_handler_env`
points at the emulator, along with switches that keep Powertools from printing EMF metrics and
from looking for X-Ray. Each function is given an :class:`~gluetrigger.tooling.local.outcomes.OutcomeRecorder`
as an extra observer, which is how local mode learns what happened to each event. The handler's
JSON log lines are not printed (the console prints one readable line per outcome instead) unless
``log_stream`` is given, e.g. stderr for ``--verbose``.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING, Any, TextIO

from gluetrigger.core.config import compile_config
from gluetrigger.runtime.environment import (
    CONFIG_FILE_ENV,
    CONFIG_JSON_ENV,
    SERVICE_NAME_ENV,
    TRACE_DISABLED_ENV,
    HandlerEnvironment,
)
from gluetrigger.tooling.local.endpoint import activate
from gluetrigger.tooling.local.outcomes import OutcomeRecorder
from gluetrigger.tooling.local.provision import IDEMPOTENCY_TABLE, MAX_RECEIVE_COUNT, RESOURCE_PREFIX

if TYPE_CHECKING:
    from gluetrigger.core.model import Config
    from gluetrigger.runtime.backpressure import HoldBackPolicy
    from gluetrigger.runtime.service import Service
    from gluetrigger.tooling.local.endpoint import Endpoint
    from gluetrigger.tooling.local.outcomes import OutcomeLog
    from gluetrigger.tooling.local.provision import Routing

__all__ = [
    "FUNCTION_TIMEOUT_SECONDS",
    "HANDLER_ENV",
    "SERVICE_NAME",
    "LocalFunctions",
    "activate_handler_env",
    "capture_handler_log",
]

SERVICE_NAME = "gluetrigger"
METRICS_NAMESPACE = "GlueTrigger/local"
FUNCTION_TIMEOUT_SECONDS = 60.0
SILENT = logging.CRITICAL + 1  # a handler level no record reaches
# The handler's environment comes from its constructor here, so stray variables meant for a
# deployed function must not leak in; these make Powertools quiet and local.
HANDLER_ENV = {
    SERVICE_NAME_ENV: SERVICE_NAME,
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_METRICS_DISABLED": "true",
    TRACE_DISABLED_ENV: "true",
}
IGNORED_HANDLER_ENV = (CONFIG_JSON_ENV, CONFIG_FILE_ENV, "POWERTOOLS_IDEMPOTENCY_DISABLED")


def activate_handler_env(endpoint: Endpoint) -> None:
    """Point this process, the handler included, at ``endpoint`` before the handler makes clients."""
    for name in IGNORED_HANDLER_ENV:
        os.environ.pop(name, None)
    activate(endpoint, HANDLER_ENV)


class LocalFunctions:
    """One handler Service per trigger; ``invoke(event, trigger)`` is a Lambda invocation."""

    def __init__(
        self,
        config: Config,
        outcomes: OutcomeLog,
        routing: Routing,
        log_stream: TextIO | None = None,
        hold_back: HoldBackPolicy | None = None,
    ) -> None:
        """``hold_back``: the delays of messages held back for Glue capacity (default: the deployed ones)."""
        from gluetrigger.runtime.composition import build_service

        self._services: dict[str, Service] = {
            trigger.name: build_service(
                HandlerEnvironment(
                    idempotency_table=IDEMPOTENCY_TABLE,
                    config_json=json.dumps(compile_config(config, trigger.name)),
                    dead_letter_queue_url=routing.dead_letter_queue.url,
                    metrics_namespace=METRICS_NAMESPACE,
                    service_name=SERVICE_NAME,
                    # As the stack sets it: on a message's last receive, the handler dead-letters it with why.
                    max_receive_count=MAX_RECEIVE_COUNT,
                    queue_url=routing.queues[trigger.name].url,
                    manifest_bucket=routing.manifest_bucket,
                ),
                observers=[OutcomeRecorder(trigger.name, outcomes)],
                hold_back=hold_back,
            )
            for trigger in config.triggers
        }
        capture_handler_log(log_stream)

    def invoke(self, event: dict[str, Any], trigger: str) -> Any:
        """Invoke ``trigger``'s function with ``event`` and a fresh Lambda context."""
        from gluetrigger.runtime.lambda_context import LocalLambdaContext

        context = LocalLambdaContext(
            function_name=f"{RESOURCE_PREFIX}-{trigger}", timeout_seconds=FUNCTION_TIMEOUT_SECONDS
        )
        return self._services[trigger](event, context)


def capture_handler_log(log_stream: TextIO | None) -> None:
    """Send the handler's JSON lines to ``log_stream`` (or nowhere) instead of stdout.

    Powertools Logger keeps its formatter (and the keys it appends) on the logger's first
    handler, so that handler stays in place, silenced or redirected.
    """
    logger = logging.getLogger(SERVICE_NAME)
    for handler in logger.handlers:
        if not isinstance(handler, logging.StreamHandler):
            continue
        if log_stream is None:
            handler.setLevel(SILENT)
        else:
            handler.setStream(log_stream)
