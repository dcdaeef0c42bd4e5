"""One Lambda execution environment fed by one SQS queue, run as a process the chaos suite can kill.

It does what Lambda's SQS event source mapping and runtime do for a deployed trigger: build the
service once (the init phase), then loop (local mode's :class:`QueuePoller`): receive up to ten
messages straight from the emulator (the event source mapping is AWS's side, never faulted),
invoke the real handler with the SQS event Lambda would pass and a context whose clock runs from
now, and delete the messages the response does not list in ``batchItemFailures``. The handler's
own AWS calls go through ``AWS_ENDPOINT_URL``, this worker's fault proxy, which may kill the
process mid-call.

An invocation that outlives the function's timeout ends the process at its deadline, as Lambda
ends a timed-out invocation: nothing of it is deleted, so its messages come back after the
visibility timeout, and its idempotency records in progress expire with that same deadline (the
handler registers the context). A function error (the handler raising) also leaves the whole
batch in the queue. The process exits when its parent closes its stdin (or dies), or after
``--lifetime`` seconds.

    python -m tests.chaos.worker --queue-url URL --queue-arn ARN --endpoint-url MOTO_URL ...
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
import threading
import traceback
from typing import TYPE_CHECKING, Any

import boto3

from gluetrigger.handler import default_service, handler
from gluetrigger.runtime.lambda_context import LocalLambdaContext
from gluetrigger.tooling.local.pollers import QueuePoller
from gluetrigger.tooling.local.provision import Queue

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["TIMED_OUT_EXIT_CODE", "main"]

# How a worker ends when an invocation reaches its deadline, so the suite tells timeouts from kills.
TIMED_OUT_EXIT_CODE = 75


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    # Ctrl-C reaches the whole process group; the suite decides when its workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_at_end_of_input, name="orphan-watch", daemon=True).start()
    default_service()  # Lambda's init phase: the environment is read and the clients made once
    sqs = boto3.session.Session().client("sqs", region_name=args.region, endpoint_url=args.endpoint_url)
    halt = threading.Event()
    poller = QueuePoller(
        args.function_name,
        Queue(url=args.queue_url, arn=args.queue_arn),
        sqs,
        functools.partial(_invoke, timeout=args.timeout),
        halt,
        on_failure=_report_failure,
        region=args.region,
    )
    poller.start()
    poller.join(args.lifetime)
    halt.set()
    poller.join()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos.worker")
    parser.add_argument("--queue-url", required=True)
    parser.add_argument("--queue-arn", required=True)
    parser.add_argument("--endpoint-url", required=True, help="the emulator itself, for the queue")
    parser.add_argument("--region", required=True)
    parser.add_argument("--function-name", required=True)
    parser.add_argument("--timeout", type=float, required=True, help="the function's timeout, in seconds")
    parser.add_argument("--lifetime", type=float, required=True, help="seconds before the worker stops anyway")
    return parser


def _invoke(event: dict[str, Any], function_name: str, *, timeout: float) -> object:
    """One invocation of the real handler, ended at its deadline like Lambda's."""
    context = LocalLambdaContext(function_name=function_name, timeout_seconds=timeout)
    watchdog = threading.Timer(context.get_remaining_time_in_millis() / 1000, _time_out)
    watchdog.daemon = True
    watchdog.start()
    try:
        return handler(event, context)
    finally:
        watchdog.cancel()


def _report_failure(function_name: str, messages: list[Mapping[str, Any]], error: BaseException) -> None:
    """A failed receive, or a function error (its batch stays in the queue): the worker's stderr says so."""
    print(f"{function_name}: {len(messages)} message(s) failed:", file=sys.stderr)
    traceback.print_exception(error, file=sys.stderr)
    sys.stderr.flush()


def _time_out() -> None:
    """Lambda ends an invocation at its deadline, whatever it is doing."""
    print("invocation timed out", file=sys.stderr, flush=True)
    os._exit(TIMED_OUT_EXIT_CODE)


def _exit_at_end_of_input() -> None:
    """End with the suite: its end closes our stdin, and so does its death."""
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
