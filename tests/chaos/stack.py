"""The emulated deployment the chaos suite runs on: moto's server and what the stack would create.

moto's server runs in a child process (:class:`EmulatorProcess`): its own state and its own
interpreter lock, away from the fault proxies and from a test process that may run another
emulator. On it: the idempotency table, one dead-letter queue, and per trigger an SQS queue
with a redrive policy to it and a Glue job with room for every run.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

from gluetrigger.core.idempotency_record import key_schema, time_to_live
from gluetrigger.tooling.local.emulator import EmulatorProcess
from gluetrigger.tooling.local.provision import Queue

if TYPE_CHECKING:
    from collections.abc import Iterator

    from gluetrigger.core.model import Config

__all__ = [
    "ALL_MESSAGES",
    "REGION",
    "SQS_BATCH_LIMIT",
    "TABLE",
    "VISIBLE",
    "Moto",
    "Resources",
    "count_messages",
    "emulator",
    "provision",
]

REGION = "eu-west-1"
TABLE = "chaos-idempotency"
DEAD_LETTER_QUEUE = "chaos-dlq"
ROLE = "arn:aws:iam::123456789012:role/chaos-glue"
JOB_SLOTS = 1_000_000  # MaxConcurrentRuns: moto's runs never finish, and the suite counts runs, not slots
SQS_BATCH_LIMIT = 10
VISIBLE = ["ApproximateNumberOfMessages"]
ALL_MESSAGES = [*VISIBLE, "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]


@contextlib.contextmanager
def emulator() -> Iterator[str]:
    process = EmulatorProcess()
    endpoint = process.start()
    try:
        yield endpoint.url
    finally:
        process.stop()


class Moto:
    """Clients straight to the emulator: the suite's own calls are never faulted."""

    def __init__(self, url: str) -> None:
        self.url = url
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        self.sqs = session.client("sqs", endpoint_url=url)
        self.glue = session.client("glue", endpoint_url=url)
        self.dynamodb = session.client("dynamodb", endpoint_url=url)


@dataclass(frozen=True)
class Resources:
    """What the workers serve, on the emulator at ``url``."""

    url: str
    config: Config
    queues: dict[str, Queue]  # trigger name -> its queue
    dead_letter_queue: Queue

    @property
    def jobs(self) -> list[str]:
        return [trigger.job.name for trigger in self.config.triggers]


def provision(moto: Moto, config: Config, visibility_timeout_seconds: int, max_receive_count: int) -> Resources:
    """The idempotency table, the DLQ, a queue and a job per trigger."""
    # The key schema Powertools expects, as the stack and local mode create it.
    moto.dynamodb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST", **key_schema())
    moto.dynamodb.update_time_to_live(TableName=TABLE, TimeToLiveSpecification=time_to_live())
    dead_letter_queue = _queue(moto.sqs, DEAD_LETTER_QUEUE, {})
    redrive = {
        "VisibilityTimeout": str(visibility_timeout_seconds),
        "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dead_letter_queue.arn, "maxReceiveCount": str(max_receive_count)}
        ),
    }
    queues = {t.name: _queue(moto.sqs, t.name, redrive) for t in config.triggers}
    for trigger in config.triggers:
        moto.glue.create_job(
            Name=trigger.job.name,
            Role=ROLE,
            Command={"Name": "glueetl", "ScriptLocation": f"s3://chaos-scripts/{trigger.job.name}.py"},
            ExecutionProperty={"MaxConcurrentRuns": JOB_SLOTS},
        )
    return Resources(moto.url, config, queues, dead_letter_queue)


def _queue(sqs: Any, name: str, attributes: dict[str, str]) -> Queue:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return Queue(url=url, arn=arn)


def count_messages(sqs: Any, url: str, names: list[str]) -> int:
    """The sum of the queue's message counts ``names``."""
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes.get(name, 0)) for name in names)
