"""The faults the chaos suite injects into the handler's Glue and DynamoDB calls.

Each worker's proxy fails ``fault_rate`` of the requests to these operations, split over kinds
that each hit a different failure path of the handler: throttling and server errors (the call
did nothing, and says so), a connection reset before forwarding (did nothing, says nothing), a
reset or a lost response after forwarding and a response slower than the client waits for (the
call took effect, the caller cannot know it: a run started, a record written), and kills of the
worker before or after forwarding (a crash between two steps, such as between StartJobRun and
saving its JobRunId). Kills have a rate of their own, much lower: every kill fails the whole
batch the worker holds, as a crashed Lambda invocation does.
"""

from __future__ import annotations

from gluetrigger.runtime.aws_clients import GLUE_READ_TIMEOUT_SECONDS
from tests.integration.fault_proxy import Fault

__all__ = ["DYNAMODB_TARGETS", "GLUE_TARGETS", "SHARES", "SLOW_SECONDS", "TARGETS", "fault_mix"]

GLUE_TARGETS = ("AWSGlue.StartJobRun", "AWSGlue.GetJobRuns")
DYNAMODB_TARGETS = tuple(
    f"DynamoDB_20120810.{operation}" for operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem")
)
TARGETS = GLUE_TARGETS + DYNAMODB_TARGETS
# How the fault rate is split. Slow responses hold a worker for seconds each, so they get a small
# share: the point is that they happen, and their effect on the caller is that of a lost response.
SHARES = {
    "throttling": 0.25,
    "server-error": 0.25,
    "reset-before": 0.2,
    "reset-after": 0.125,
    "lost-response": 0.125,
    "slow": 0.05,
}
# Slower than the handler's clients wait for an answer (Glue's read timeout; DynamoDB's is the same),
# so the caller gives up before it comes, after Glue or DynamoDB acted on the request.
SLOW_SECONDS = GLUE_READ_TIMEOUT_SECONDS + 1.0


def fault_mix(target: str, fault_rate: float, kill_rate: float) -> list[Fault]:
    """The faults for requests to ``target``: ``fault_rate`` of them fail, ``kill_rate`` kill the worker."""
    dynamodb = target.startswith("DynamoDB")
    throttled = "ProvisionedThroughputExceededException" if dynamodb else "ThrottlingException"
    server_error = "InternalServerError" if dynamodb else "InternalServiceException"
    return [
        Fault(400, throttled, rate=fault_rate * SHARES["throttling"]),
        Fault(500, server_error, rate=fault_rate * SHARES["server-error"]),
        Fault(drop=True, reset=True, rate=fault_rate * SHARES["reset-before"]),
        Fault(drop=True, reset=True, forward=True, rate=fault_rate * SHARES["reset-after"]),
        Fault(drop=True, forward=True, rate=fault_rate * SHARES["lost-response"]),
        Fault(relay=True, delay_seconds=SLOW_SECONDS, rate=fault_rate * SHARES["slow"]),
        Fault(kill=True, rate=kill_rate / 2),
        Fault(kill=True, forward=True, rate=kill_rate / 2),
    ]
