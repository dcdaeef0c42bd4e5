"""Events built from examples/events, Lambda-style invocation, and readers for logs and metrics."""

from __future__ import annotations

import copy
import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gluetrigger.core.run_key import DEFAULT_RUN_KEY_ARGUMENT, RUN_KEY_LENGTH
from gluetrigger.handler import default_service, handler
from gluetrigger.runtime.lambda_context import LocalLambdaContext

EXAMPLES = Path(__file__).parents[2] / "examples" / "events"
BUCKET = "it-landing"
QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:it-events"


def example(name: str) -> Any:
    """An example event with its bucket renamed to the test config's."""
    return json.loads((EXAMPLES / f"{name}.json").read_text().replace("landing-bucket", BUCKET))


def custom_event(detail_type: str, detail: dict[str, Any] | None = None, source: str = "com.example.tests") -> Any:
    """An EventBridge custom event, from the example's envelope, with a new id."""
    event = example("eventbridge-custom-event")
    event.update({"id": str(uuid.uuid4()), "source": source, "detail-type": detail_type, "detail": detail or {}})
    return event


def sqs_batch(*bodies: Any) -> dict[str, Any]:
    """An SQS event source batch carrying ``bodies`` (text as is, anything else as JSON)."""
    template = example("sqs-s3-notifications")["Records"][0]
    records = []
    for body in bodies:
        record = copy.deepcopy(template)
        record.update(
            messageId=str(uuid.uuid4()),
            body=body if isinstance(body, str) else json.dumps(body),
            eventSourceARN=QUEUE_ARN,
        )
        records.append(record)
    return {"Records": records}


def sqs_event_from(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """What Lambda's SQS event source makes of messages received with ReceiveMessage."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {
                    name: {"stringValue": value["StringValue"], "dataType": value["DataType"]}
                    for name, value in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": queue_arn.split(":")[3],
            }
            for m in messages
        ]
    }


def invoke(event: Any, timeout_seconds: float = 60.0) -> Any:
    """Invoke the real handler the way Lambda does, with a fresh context."""
    return handler(event, LocalLambdaContext(timeout_seconds=timeout_seconds))


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def metrics(stdout: str) -> list[dict[str, Any]]:
    """The EMF documents among the lines a test printed."""
    documents = []
    for line in stdout.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            documents.append(json.loads(line))
    return documents


def counter(stdout: str, name: str, **dimensions: str) -> float:
    """The sum of metric ``name`` over the EMF documents in ``stdout`` that have ``dimensions``."""
    total = 0.0
    for document in metrics(stdout):
        if all(document.get(key) == value for key, value in dimensions.items()):
            values = document.get(name, [])
            total += sum(values) if isinstance(values, list) else float(values)
    return total


@contextmanager
def captured_logs() -> Iterator[list[dict[str, Any]]]:
    """The handler's JSON log records, formatted as in production, while the block runs."""
    logger = default_service().logger
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(logger.registered_formatter)
    target = logging.getLogger(logger.name)
    target.addHandler(capture)
    records: list[dict[str, Any]] = []
    try:
        yield records
    finally:
        target.removeHandler(capture)
        records.extend(json.loads(line) for line in stream.getvalue().splitlines())


def own_arguments(arguments: dict[str, str]) -> dict[str, str]:
    """A run's arguments less its run key, after checking that the run carries one."""
    rest = dict(arguments)
    key = rest.pop(DEFAULT_RUN_KEY_ARGUMENT, "")
    assert re.fullmatch(f"[0-9a-f]{{{RUN_KEY_LENGTH}}}", key), arguments
    return rest
