"""The chaos suite: exactly one run per event through lost responses, timeouts, crashes and store failures.

The real handler runs in worker processes that play Lambda (SQS event source mapping, timeouts,
fresh environments after a crash), each behind a fault-injecting proxy that throttles, fails,
resets, slows down and loses its Glue and DynamoDB calls and kills it at random points,
including between StartJobRun and saving the run. Thousands of events, each delivered one to
three times, some at once; at the end every event must have exactly one run, or be ignored with
a reason, or be in the DLQ with a reason. Only the handler's external contract is used: the runs
Glue shows, the DLQ's messages, the handler's log lines.

``python -m tests.chaos`` runs it (:mod:`tests.chaos.__main__`); tests/integration/test_chaos.py
runs a small version in the test suite.
"""

from __future__ import annotations

__all__ = ["ChaosError"]


class ChaosError(Exception):
    """The harness itself failed (workers keep crashing, SQS refuses messages): no figures to give."""
