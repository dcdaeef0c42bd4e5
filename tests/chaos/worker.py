"""One Lambda execution environment fed by one SQS queue, run as a process the chaos suite can kill.

It does what Lambda's SQS event source mapping and runtime do for a deployed trigger: build the
service once (the init phase), then loop: receive up to ten messages straight from the emulator
(the event source mapping is AWS's side, never faulted), invoke the real handler with the SQS
event Lambda would pass (local mode's :func:`sqs_event`) and a context whose clock runs from now,
and delete the messages the response does not list in ``batchItemFailures``. The handler's
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
import os
import signal
import sys
import threading
import time
import traceback
from typing import TYPE_CHECKING, Any

import boto3

from gluetrigger.handler import default_service, handler
from gluetrigger.runtime.lambda_context import LocalLambdaContext
from gluetrigger.tooling.local.pollers import failed_message_ids, sqs_event

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["TIMED_OUT_EXIT_CODE", "main"]

# How a worker ends when an invocation reaches its deadline, so the suite tells timeouts from kills.
TIMED_OUT_EXIT_CODE = 75
BATCH_SIZE = 10  # the stack's event source mapping batch size (its default)
RECEIVE_WAIT_SECONDS = 1  # a short long poll: an idle worker notices the end of its lifetime soon


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    # Ctrl-C reaches the whole process group; the suite decides when its workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_at_end_of_input, name="orphan-watch", daemon=True).start()
    default_service()  # Lambda's init phase: the environment is read and the clients made once
    sqs = boto3.session.Session().client("sqs", region_name=args.region, endpoint_url=args.endpoint_url)
    end = time.monotonic() + args.lifetime
    while time.monotonic() < end:
        try:
            received = sqs.receive_message(
                QueueUrl=args.queue_url,
                MaxNumberOfMessages=BATCH_SIZE,
                WaitTimeSeconds=RECEIVE_WAIT_SECONDS,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            if received.get("Messages"):
                _invoke_and_delete(sqs, args, received["Messages"])
        except Exception:
            # The emulator did not answer the mapping's receive or delete: what was not deleted
            # comes back after the visibility timeout, as on AWS.
            traceback.print_exc()
            time.sleep(RECEIVE_WAIT_SECONDS)


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


def _invoke_and_delete(sqs: Any, args: argparse.Namespace, messages: list[dict[str, Any]]) -> None:
    """One invocation; then, as ReportBatchItemFailures says, delete what it handled.

    A function error (the handler raised) fails the whole batch, as on Lambda: nothing is deleted.
    """
    context = LocalLambdaContext(function_name=args.function_name, timeout_seconds=args.timeout)
    watchdog = threading.Timer(context.get_remaining_time_in_millis() / 1000, _time_out)
    watchdog.daemon = True
    watchdog.start()
    try:
        response = handler(sqs_event(messages, args.queue_arn, args.region), context)
    except Exception:
        traceback.print_exc()
        return
    finally:
        watchdog.cancel()
    kept = failed_message_ids(response, {m["MessageId"] for m in messages})
    handled = [m["ReceiptHandle"] for m in messages if m["MessageId"] not in kept]
    if handled:
        entries = [{"Id": str(index), "ReceiptHandle": receipt} for index, receipt in enumerate(handled)]
        sqs.delete_message_batch(QueueUrl=args.queue_url, Entries=entries)


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
