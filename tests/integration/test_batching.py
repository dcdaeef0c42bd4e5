"""Batch triggers against moto's server: many files, one run per batch, every file in exactly one manifest.

The handler is the real service, built for a config with one batch trigger, and its deliveries
are real: S3 "Object Created" events sent to a real SQS queue (the trigger's own, which also
takes the batches' flush messages), drained by several worker threads that invoke the handler
with batches of up to ten messages, as Lambda's event source does, and delete only what the
handler did not report failed. Duplicates, reordering and concurrency come from the events (some
sent twice, all shuffled) and the workers; faults from the proxy in front of moto.

``GLUETRIGGER_BATCH_FILES`` sets the file count of the burst test (300 by default; ``make chaos``
runs it with 2,000).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from typing import Any

import pytest

from .burst import JOB, TRIGGER, BurstQueue, burst_bodies, file_event, open_queue, s3_trigger
from .conftest import Emulator
from .fault_proxy import Fault

pytestmark = pytest.mark.integration

START = "AWSGlue.StartJobRun"
LOOKUP = "AWSGlue.GetJobRuns"
FILES = int(os.environ.get("GLUETRIGGER_BATCH_FILES", "300"))


class Rig(BurstQueue):
    """The batch trigger's service, its queue (and dead-letter queue), and the emulator."""

    aws: Emulator

    def manifests(self) -> dict[str, dict[str, Any]]:
        """Each run's manifest, by run id, read from the URI its --manifest argument names."""
        s3 = self.aws.client("s3")
        found = {}
        for run in self.aws.job_runs(JOB):
            uri = run["Arguments"]["--manifest"]
            bucket, _, key = uri.removeprefix("s3://").partition("/")
            found[run["Id"]] = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        return found


def rig(aws: Emulator, max_files: int, window_seconds: int) -> Rig:
    return open_queue(Rig, aws, s3_trigger({"max_files": max_files, "window_seconds": window_seconds}))


@pytest.fixture
def burst(aws: Emulator) -> Rig:
    return rig(aws, max_files=100, window_seconds=20)


def listed(manifests: dict[str, dict[str, Any]]) -> Counter[str]:
    return Counter(file["key"] for manifest in manifests.values() for file in manifest["files"])


def test_a_burst_with_duplicates_in_random_order_lists_every_file_once(burst: Rig) -> None:
    bodies = burst_bodies(FILES)
    burst.send(bodies)
    began = time.monotonic()

    burst.drain(workers=4)

    elapsed = time.monotonic() - began
    manifests = burst.manifests()
    counts = listed(manifests)
    sizes = sorted(len(m["files"]) for m in manifests.values())
    print(f"\n{FILES} files, {len(bodies)} deliveries: {len(manifests)} runs of {sizes} files in {elapsed:.1f} s")
    assert counts == Counter({f"batch/file-{n:05d}.csv": 1 for n in range(FILES)})
    assert FILES // 100 <= len(manifests) <= 2 * FILES // 100
    assert len({m["batch_id"] for m in manifests.values()}) == len(manifests)
    assert burst.pending(burst.dlq_url) == 0


def test_the_window_closes_a_partial_batch_after_its_delay(aws: Emulator) -> None:
    partial = rig(aws, max_files=100, window_seconds=2)
    partial.send([file_event(n) for n in range(5)])
    sqs = aws.client("sqs")
    received = sqs.receive_message(QueueUrl=partial.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert partial.invoke(received["Messages"]) == []
    assert aws.job_runs(JOB) == []  # the batch waits for its window

    partial.drain(workers=1, quiet_seconds=1.0)

    [(run_id, manifest)] = partial.manifests().items()
    [run] = aws.job_runs(JOB)
    assert run["Arguments"]["--files"] == "5"
    assert [f["key"] for f in manifest["files"]] == sorted(f["key"] for f in manifest["files"])
    assert manifest["trigger"] == TRIGGER and run["Arguments"]["--batch"] == manifest["batch_id"]
    assert run_id == run["Id"]


def test_a_lost_start_of_a_batch_is_found_by_its_run_key_not_started_twice(aws: Emulator) -> None:
    full = rig(aws, max_files=5, window_seconds=2)
    full.timeout_seconds = 15.0
    # The run starts and its answer is lost, and the lookup that would find it fails too: as if
    # the function had died between writing the manifest and learning the run's id.
    aws.proxy.inject(START, Fault(drop=True, reset=True, forward=True, times=1))
    aws.proxy.inject(LOOKUP, Fault(500, "InternalServiceException", times=3))
    full.send([file_event(n) for n in range(5)])

    full.drain(workers=2, limit_seconds=120.0)

    assert aws.proxy.count(START) == 1
    [manifest] = full.manifests().values()
    assert len(manifest["files"]) == 5
    assert full.pending(full.dlq_url) == 0
