"""The Lambda entry point, ``gluetrigger.handler.handler``: events in, Glue job runs out.

Environment (read once per container, see :mod:`gluetrigger.runtime.environment`): ``GLUETRIGGER_CONFIG_FILE``
(a file holding the JSON ``gluetrigger compile`` prints, relative to ``LAMBDA_TASK_ROOT``: the stack ships
it in the code asset) or ``GLUETRIGGER_CONFIG`` (that JSON inline),
``GLUETRIGGER_IDEMPOTENCY_TABLE``, ``POWERTOOLS_METRICS_NAMESPACE`` (default GlueTrigger),
``POWERTOOLS_SERVICE_NAME`` (default gluetrigger), ``GLUETRIGGER_TRACING`` (default off;
``POWERTOOLS_TRACE_DISABLED`` wins), ``POWERTOOLS_LOG_LEVEL``, ``GLUETRIGGER_DEAD_LETTER_QUEUE_URL``
(optional, see below); boto3 honours ``AWS_ENDPOINT_URL``.

Direct invocations (an EventBridge rule or Scheduler target, an S3 notification, an SNS
subscription, or a JSON list of such events) return, when every run the event calls for has
been started (now or by an earlier delivery)::

    {"runs": [{"trigger", "idempotency_key", "job_name", "JobRunId", "duplicate"}],
     "ignored": [{"reason", "event"}]}

Otherwise they raise, after starting every run they could:

- :class:`RetryableEventError` when a run cannot be started for now (throttling,
  ConcurrentRunsExceededException, a Glue-side fault, another delivery of the same event in
  progress): Lambda's asynchronous retries try again later;
- :class:`PermanentEventError` when the event is malformed, a trigger cannot map it (a missing
  template variable), or Glue refuses the request (EntityNotFoundException,
  InvalidInputException, AccessDeniedException): retrying cannot help. The reason is logged
  once, at ERROR. Lambda retries failed asynchronous invocations whatever the exception, so
  the stack bounds that with MaximumRetryAttempts and sends what still fails to the
  on-failure destination (the dead-letter queue), with the exception type and message.

SQS batches (records whose eventSource is ``aws:sqs``) are processed message by message and
return ``{"batchItemFailures": [{"itemIdentifier": <messageId>}]}``, listing only the messages
that failed, for whichever reason above (or an unexpected exception, logged with its traceback):
they return to the queue, and those that keep failing move to its dead-letter queue after
maxReceiveCount receives.

With ``GLUETRIGGER_DEAD_LETTER_QUEUE_URL`` (the stack always sets it), an event or message that
failed only permanently does not wait for that: retrying it is pointless, and the platform would
deliver it to the DLQ without its reason. The handler sends it there itself, body untouched, with
the reason in message attributes (:mod:`gluetrigger.runtime.dead_letters`), logs "event dead-lettered"
once at ERROR, counts EventsDeadLettered, and treats it as handled: the message is left out of
``batchItemFailures`` (SQS deletes it), and a direct invocation returns normally (Lambda does not
retry it) with ``"dead_lettered": [{"reason", "trigger"}]`` next to its runs and ignored events.
Anything with a retryable failure is retried as above (the runs that did start are idempotent),
and if the DLQ does not take the event, it is reported failed as if there were no DLQ.

This module is only the entry point: :func:`gluetrigger.runtime.composition.build_service` puts
the service together, :mod:`gluetrigger.runtime.service` runs an invocation, and
:mod:`gluetrigger.runtime.logs` says what is logged.
"""

from __future__ import annotations

import functools
import gc
import os
import threading
from typing import TYPE_CHECKING, Any

# No cyclic garbage collection while the handler's modules load and, on Lambda, while the service
# is built: they allocate hundreds of thousands of objects that all live as long as the process,
# and every collection triggered along the way walks them in vain (about 10% of a cold start).
# Collection resumes at the end of this module, whatever happens.
_COLLECTING = gc.isenabled()
gc.disable()
try:
    from gluetrigger.runtime import snapstart
    from gluetrigger.runtime.composition import build_service
    from gluetrigger.runtime.delivery import EventError, PermanentEventError, RetryableEventError
    from gluetrigger.runtime.environment import HandlerEnvironment
except BaseException:
    if _COLLECTING:
        gc.enable()
    raise

if TYPE_CHECKING:
    from gluetrigger.runtime.lambda_context import LambdaContextLike
    from gluetrigger.runtime.service import Service

# Set by the Lambda runtime, and only there.
LAMBDA_FUNCTION_NAME_ENV = "AWS_LAMBDA_FUNCTION_NAME"

__all__ = ["EventError", "PermanentEventError", "RetryableEventError", "default_service", "handler", "rebuild_service"]

_BUILD_LOCK = threading.Lock()


@functools.cache
def _service_from_env() -> Service:
    return build_service(HandlerEnvironment.from_env())


def default_service() -> Service:
    """The container's Service, built from the environment once (at init on Lambda, see below)."""
    with _BUILD_LOCK:
        return _service_from_env()


def rebuild_service() -> Service:
    """Build the container's Service again, on new clients (after a SnapStart restore)."""
    with _BUILD_LOCK:
        _service_from_env.cache_clear()
        return _service_from_env()


def handler(event: Any, context: LambdaContextLike) -> dict[str, Any]:
    """Lambda's entry point (handler string ``gluetrigger.handler.handler``)."""
    return default_service()(event, context)


# On Lambda, build the service during the init phase (run before the first event, at full CPU):
# an unusable environment then fails the init with its message, and no invocation pays for set-up.
# Elsewhere (tests, local mode) the environment is set after import, so the first call builds it.
# With SnapStart, that init is snapshotted, and each restore makes clients and the service anew.
# What init made lives as long as the container: frozen, no later collection walks it again.
try:
    if os.environ.get(LAMBDA_FUNCTION_NAME_ENV):
        default_service()
        snapstart.register(rebuild_service)
        gc.freeze()
finally:
    if _COLLECTING:
        gc.enable()
