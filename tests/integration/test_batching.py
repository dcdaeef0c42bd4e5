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

import copy
import json
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from gluetrigger.core.config import compile_config, parse_config
from gluetrigger.runtime.composition import build_service
from gluetrigger.runtime.environment import HandlerEnvironment
from gluetrigger.runtime.lambda_context import LocalLambdaContext

from .conftest import TABLE, Emulator
from .fault_proxy import Fault
from .helpers import example, sqs_event_from

pytestmark = pytest.mark.integration

JOB = "it-sales-etl"
BUCKET = "it-landing"
MANIFESTS = "it-manifests"
TRIGGER = "landing-batch"
START = "AWSGlue.StartJobRun"
LOOKUP = "AWSGlue.GetJobRuns"
FILES = int(os.environ.get("GLUETRIGGER_BATCH_FILES", "300"))
SEED = 20260314


@dataclass
class Rig:
    """The batch trigger's service, its queue (and dead-letter queue), and the emulator."""

    aws: Emulator
    service: Any
    queue_url: str
    queue_arn: str
    dlq_url: str
    # The invocations' timeout: an in-progress start record holds until an invocation's deadline.
    timeout_seconds: float = 60.0

    def send(self, bodies: list[str]) -> None:
        sqs = self.aws.client("sqs")
        for start in range(0, len(bodies), 10):
            entries = [{"Id": str(n), "MessageBody": body} for n, body in enumerate(bodies[start : start + 10])]
            sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)

    def invoke(self, messages: list[dict[str, Any]]) -> list[str]:
        """The handler's answer to ``messages``: the ids it reports failed."""
        response = self.service(
            sqs_event_from(messages, self.queue_arn), LocalLambdaContext(timeout_seconds=self.timeout_seconds)
        )
        return [item["itemIdentifier"] for item in response["batchItemFailures"]]

    def drain(self, workers: int, quiet_seconds: float = 3.0, limit_seconds: float = 600.0) -> None:
        """Workers receive and invoke until the queue has stayed empty (nothing delayed or in flight) a while."""
        stop = threading.Event()
        errors: list[BaseException] = []
        threads = [threading.Thread(target=self._work, args=(stop, errors)) for _ in range(workers)]
        for thread in threads:
            thread.start()
        deadline, quiet_since = time.monotonic() + limit_seconds, None
        while time.monotonic() < deadline and not errors:
            time.sleep(0.5)
            if self.pending(self.queue_url):
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > quiet_seconds:
                break
        stop.set()
        for thread in threads:
            thread.join()
        assert not errors, errors
        assert not self.pending(self.queue_url), "the queue did not drain in time"

    def pending(self, url: str) -> int:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        names.append("ApproximateNumberOfMessagesDelayed")
        attributes = self.aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return sum(int(attributes.get(name, 0)) for name in names)

    def _work(self, stop: threading.Event, errors: list[BaseException]) -> None:
        sqs = self.aws.client("sqs")
        try:
            while not stop.is_set():
                received = sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
                ).get("Messages", [])
                if not received:
                    continue
                failed = set(self.invoke(received))
                done = [m for m in received if m["MessageId"] not in failed]
                if done:
                    entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)]
                    sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except BaseException as error:  # a worker's failure must fail the test, not vanish with the thread
            errors.append(error)

    def manifests(self) -> dict[str, dict[str, Any]]:
        """Each run's manifest, by run id, read from the URI its --manifest argument names."""
        s3 = self.aws.client("s3")
        found = {}
        for run in self.aws.job_runs(JOB):
            uri = run["Arguments"]["--manifest"]
            bucket, _, key = uri.removeprefix("s3://").partition("/")
            found[run["Id"]] = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        return found


def file_event(n: int) -> str:
    """The EventBridge "Object Created" event of file ``n``, as the trigger's queue receives it."""
    event = copy.deepcopy(example("eventbridge-s3-object-created"))
    event["id"] = f"00000000-0000-0000-0000-{n:012d}"
    event["detail"]["bucket"]["name"] = BUCKET
    event["detail"]["object"].update(key=f"batch/file-{n:05d}.csv", sequencer=f"{n:016X}")
    return json.dumps(event)


def rig(aws: Emulator, max_files: int, window_seconds: int) -> Rig:
    config = {
        "triggers": [
            {
                "name": TRIGGER,
                "source": {"type": "s3", "bucket": BUCKET, "prefix": "batch/"},
                "batch": {"max_files": max_files, "window_seconds": window_seconds},
                "job": {
                    "name": JOB,
                    "arguments": {"--manifest": "${manifest}", "--files": "${file_count}", "--batch": "${batch_id}"},
                },
            }
        ]
    }
    sqs = aws.client("sqs")
    dlq_url = sqs.create_queue(QueueName="it-batch-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "10"})
    attributes = {"VisibilityTimeout": "5", "RedrivePolicy": redrive}
    queue_url = sqs.create_queue(QueueName="it-batch", Attributes=attributes)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.client("s3").create_bucket(Bucket=MANIFESTS, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    environment = HandlerEnvironment(
        idempotency_table=TABLE,
        config_json=json.dumps(compile_config(parse_config(config))),
        queue_url=queue_url,
        manifest_bucket=MANIFESTS,
    )
    return Rig(aws, build_service(environment), queue_url, queue_arn, dlq_url)


@pytest.fixture
def burst(aws: Emulator) -> Rig:
    return rig(aws, max_files=100, window_seconds=20)


def listed(manifests: dict[str, dict[str, Any]]) -> Counter[str]:
    return Counter(file["key"] for manifest in manifests.values() for file in manifest["files"])


def test_a_burst_with_duplicates_in_random_order_lists_every_file_once(burst: Rig) -> None:
    bodies = [file_event(n) for n in range(FILES)]
    generator = random.Random(SEED)
    bodies += generator.sample(bodies, FILES // 10)  # 10% delivered twice
    generator.shuffle(bodies)
    burst.send(bodies)
    began = time.monotonic()

    burst.drain(workers=4)

    elapsed = time.monotonic() - began
    manifests = burst.manifests()
    counts = listed(manifests)
    sizes = sorted(len(m["files"]) for m in manifests.values())
    print(f"\n{FILES} files, {len(bodies)} deliveries: {len(manifests)} runs of {sizes} files in {elapsed:.1f} s")
    import collections

    print(collections.Counter(r.target for r in burst.aws.proxy.records()))
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
