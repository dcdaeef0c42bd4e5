"""Handler CPU per event and peak memory, with AWS answered in the handler's own process (no network).

A botocore ``before-send`` hook on each handler's clients answers every call the way the service
would, from canned bodies (:data:`ANSWERS`): the request is built, signed and its answer parsed
as for a real call, but nothing leaves the process, so what is measured is the handler, botocore
and Powertools, not an emulator or a network. The same responder serves gluetrigger's handler
and the hand-written Powertools one.

Run by bench/run.py in fresh interpreters (``python -m bench.inprocess cpu|rss ...``) with the
staged asset first on ``PYTHONPATH`` and the deployed function's environment; the handlers'
logs go to stdout, which run.py discards, and the figures to the file named last.
"""

from __future__ import annotations

import itertools
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse

from bench.common import sqs_s3_event, summary
from bench.context import Context

__all__ = ["ANSWERS", "answer_in_process", "cpu_per_event", "main", "peak_rss"]

# Answers by X-Amz-Target (both services speak JSON over POST), as the services answer a first delivery.
ANSWERS: dict[str, dict[str, Any]] = {
    "AWSGlue.StartJobRun": {"JobRunId": "jr_0123456789abcdef"},
    "AWSGlue.GetJobRuns": {"JobRuns": []},
    "AWSGlue.GetJob": {"Job": {"Name": "bench-etl", "ExecutionProperty": {"MaxConcurrentRuns": 10}}},
    "DynamoDB_20120810.PutItem": {},
    "DynamoDB_20120810.UpdateItem": {},
    "DynamoDB_20120810.DeleteItem": {},
    "DynamoDB_20120810.GetItem": {},
}


class _Body:
    """The raw body botocore reads an answer from."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any) -> Any:
        yield self._content


def _answer(request: Any, **_: Any) -> AWSResponse:
    target = request.headers["X-Amz-Target"]
    target = target.decode() if isinstance(target, bytes) else target
    body = json.dumps(ANSWERS[target]).encode()
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "bench"}
    return AWSResponse(request.url, 200, headers, _Body(body))


def answer_in_process(*clients: Any) -> None:
    """Answer every call of ``clients`` from :data:`ANSWERS` instead of sending it."""
    for client in clients:
        client.meta.events.register("before-send", _answer, unique_id="bench-answer-in-process")


def _gluetrigger() -> Any:
    import gluetrigger.handler
    from gluetrigger.runtime import aws_clients

    answer_in_process(aws_clients.client("glue"), aws_clients.client("dynamodb"))
    return gluetrigger.handler.handler


def _powertools() -> Any:
    import powertools_handler  # type: ignore[import-not-found]  # bench/ is on the handlers' PYTHONPATH

    answer_in_process(powertools_handler.GLUE, powertools_handler.STORE.client)
    return powertools_handler.handler


# Each imports its handler (gluetrigger's init runs at import) and answers its clients in-process.
_LOADERS = {"gluetrigger": _gluetrigger, "powertools": _powertools}


def _run(handler: Any, events: list[dict[str, Any]]) -> float:
    """CPU seconds ``handler`` takes for ``events``."""
    started = time.process_time()
    for event in events:
        result = handler(event, Context())
        if result != {"batchItemFailures": []}:
            raise RuntimeError(f"an event failed: {result}")
    return time.process_time() - started


def cpu_per_event(pairs: int, events: int) -> dict[str, dict[str, float]]:
    """Microseconds of CPU per event for each handler: ``pairs`` interleaved samples of ``events`` new files."""
    handlers = {name: load() for name, load in _LOADERS.items()}
    names = list(handlers)
    counter = itertools.count()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(pairs + 1):
        for name in names if index % 2 == 0 else reversed(names):
            batch = [sqs_s3_event(f"cpu-{next(counter)}.csv") for _ in range(events)]
            seconds = _run(handlers[name], batch)
            if index > 0:  # the first pair warms both up (first-event schemas, first calls)
                samples[name].append(seconds / events * 1e6)
    return {name: summary(values) for name, values in samples.items()}


def peak_rss(name: str, events: int) -> dict[str, float]:
    """Peak RSS (MB) of a process that has handled ``events`` new files with handler ``name``."""
    handler = _LOADERS[name]()  # this handler alone in the process
    for index in range(events):
        _run(handler, [sqs_s3_event(f"rss-{name}-{index}.csv")])
    return {"events": events, "peak_rss_mb": _peak_rss_mb()}


def _peak_rss_mb() -> float:
    """This process's peak resident memory since its exec, in MB.

    Linux's VmHWM, not ``ru_maxrss``: that survives exec, so a child of a large parent (run.py
    holds moto and the CDK) would report the parent's peak.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:
    """``cpu <pairs> <events> <out>`` or ``rss <handler> <events> <out>``."""
    section, first, second, out = argv
    figures: Any = cpu_per_event(int(first), int(second)) if section == "cpu" else peak_rss(first, int(second))
    Path(out).write_text(json.dumps(figures), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
