"""A burst of S3 file events through a trigger's real SQS queue, drained as Lambda's event source would.

Shared by the batching tests (tests/integration/test_batching.py) and ``make bench`` (bench/run.py),
so that the figures the README quotes come from the very scenario the tests check: the same
queue (with its dead-letter queue), the same worker threads receiving batches of ten and invoking
the real handler service, the same deletes of what the handler did not report failed, and the
same "drained" (the queue stayed empty, nothing delayed or in flight, for a while).
"""

from __future__ import annotations

import copy
import json
import random
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from gluetrigger.core.config import compile_config, parse_config
from gluetrigger.runtime.composition import build_service
from gluetrigger.runtime.environment import HandlerEnvironment
from gluetrigger.runtime.lambda_context import LocalLambdaContext

from .conftest import REGION, TABLE
from .fault_proxy import FaultProxy
from .helpers import example, sqs_event_from

if TYPE_CHECKING:
    from gluetrigger.runtime.backpressure import HoldBackPolicy
    from gluetrigger.runtime.service import Service

__all__ = ["BurstQueue", "Clients", "RefusalCountingProxy", "burst_bodies", "file_event", "open_queue", "s3_trigger"]

BUCKET = "it-landing"
JOB = "it-sales-etl"
MANIFESTS = "it-manifests"
TRIGGER = "landing-batch"
SEED = 20260314
START = "AWSGlue.StartJobRun"


class Clients(Protocol):
    """Where the driver gets its boto3 clients (straight to the emulator, not through the proxy)."""

    def client(self, service: str) -> Any: ...


@dataclass
class BurstQueue:
    """A trigger's queue (and dead-letter queue), the handler service that drains it, and the emulator."""

    aws: Clients
    service: Service
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
        except BaseException as error:  # a worker's failure must fail the drain, not vanish with the thread
            errors.append(error)


Queue = TypeVar("Queue", bound=BurstQueue)


def s3_trigger(batch: dict[str, int] | None) -> dict[str, Any]:
    """The trigger of the burst's files: one run per batch (``batch``: its block) or, without, one per file."""
    if batch is None:
        return {
            "name": TRIGGER,
            "source": {"type": "s3", "bucket": BUCKET, "prefix": "batch/"},
            "job": {"name": JOB, "arguments": {"--input": "s3://${bucket}/${key}"}},
        }
    return {
        "name": TRIGGER,
        "source": {"type": "s3", "bucket": BUCKET, "prefix": "batch/"},
        "batch": batch,
        "job": {
            "name": JOB,
            "arguments": {"--manifest": "${manifest}", "--files": "${file_count}", "--batch": "${batch_id}"},
        },
    }


def open_queue(
    kind: type[Queue], aws: Clients, trigger: dict[str, Any], hold_back: HoldBackPolicy | None = None
) -> Queue:
    """``trigger``'s queue, dead-letter queue and manifests bucket, and its service, as the stack configures them.

    The service has the queue's URL, so it holds back (sends again, delayed by ``hold_back``) a
    message whose runs Glue has no capacity for, and sends a batch's flush messages there.
    """
    queue_url, queue_arn, dlq_url = _create_queues(aws, "it-batch")
    aws.client("s3").create_bucket(Bucket=MANIFESTS, CreateBucketConfiguration={"LocationConstraint": REGION})
    environment = HandlerEnvironment(
        idempotency_table=TABLE,
        config_json=json.dumps(compile_config(parse_config({"triggers": [trigger]}))),
        queue_url=queue_url,
        manifest_bucket=MANIFESTS,
    )
    return kind(aws, build_service(environment, hold_back=hold_back), queue_url, queue_arn, dlq_url)


def _create_queues(aws: Clients, name: str) -> tuple[str, str, str]:
    """The trigger's queue ``name`` and its dead-letter queue: (url, arn, dlq url).

    A short visibility timeout, so a message whose invocation failed comes back soon; ten receives
    before the DLQ, so only a message that keeps failing ends there.
    """
    sqs = aws.client("sqs")
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "10"})
    attributes = {"VisibilityTimeout": "5", "RedrivePolicy": redrive}
    queue_url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return queue_url, queue_arn, dlq_url


class RefusalCountingProxy(FaultProxy):
    """The fault proxy, also counting the StartJobRun calls Glue answered ConcurrentRunsExceededException.

    The proxy records requests, not answers; this reads each StartJobRun's answer on its way back.
    """

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self._refused = 0
        self._refusals = threading.Lock()

    def refused(self) -> int:
        with self._refusals:
            return self._refused

    def reset(self) -> None:
        super().reset()
        with self._refusals:
            self._refused = 0

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        status, response_headers, payload = super()._forward(method, path, headers, body)
        target = next((value for name, value in headers.items() if name.lower() == "x-amz-target"), "")
        if target == START and b"ConcurrentRunsExceededException" in payload:
            with self._refusals:
                self._refused += 1
        return status, response_headers, payload


def file_event(n: int) -> str:
    """The EventBridge "Object Created" event of file ``n``, as the trigger's queue receives it."""
    event = copy.deepcopy(example("eventbridge-s3-object-created"))
    event["id"] = f"00000000-0000-0000-0000-{n:012d}"
    event["detail"]["bucket"]["name"] = BUCKET
    event["detail"]["object"].update(key=f"batch/file-{n:05d}.csv", sequencer=f"{n:016X}")
    return json.dumps(event)


def burst_bodies(files: int, seed: int = SEED) -> list[str]:
    """The events of ``files`` new files, 10% of them delivered twice, all shuffled (``seed``: the same each time)."""
    bodies = [file_event(n) for n in range(files)]
    generator = random.Random(seed)
    bodies += generator.sample(bodies, files // 10)
    generator.shuffle(bodies)
    return bodies
