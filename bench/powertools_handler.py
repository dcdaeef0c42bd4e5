"""The hand-written Powertools baseline: the same AWS calls as gluetrigger for one S3 file via SQS.

What a team would write with Powertools for this job: a structured Logger with the Lambda
context, Metrics (the runs started, one EMF document per invocation: a log line, no AWS call;
gluetrigger publishes its counters the same way), Powertools' idempotency on the file (its
DynamoDB layer does the conditional PutItem and the completing UpdateItem, in the same table
layout gluetrigger uses), StartJobRun, and a partial batch response built by hand (Powertools'
batch utility would add its import to every cold start, and gluetrigger does not use it either,
so neither side pays for it). Both clients come from one boto3 session, the DynamoDB one handed
to Powertools so it makes no session of its own. Lambda handler: ``powertools_handler.handler``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

__all__ = ["handler"]

JOB = os.environ.get("BENCH_JOB", "bench-etl")
logger = Logger()
metrics = Metrics()  # namespace and service from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME
GLUE = boto3.client("glue")
CONFIG = IdempotencyConfig(expires_after_seconds=3600, raise_on_no_idempotency_key=True)
STORE = DynamoDBPersistenceLayer(
    table_name=os.environ["GLUETRIGGER_IDEMPOTENCY_TABLE"], boto3_client=boto3.client("dynamodb")
)


def _start(file: dict[str, str]) -> dict[str, str]:
    """Start the job for one file."""
    run_id = GLUE.start_job_run(JobName=JOB, Arguments={"--input": f"s3://{file['bucket']}/{file['key']}"})["JobRunId"]
    return {"JobRunId": run_id}


# Powertools replays the stored answer for a duplicate instead of calling _start.
start: Callable[..., dict[str, str]] = idempotent_function(
    _start, data_keyword_argument="file", persistence_store=STORE, config=CONFIG
)


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS batch in, partial batch response out."""
    CONFIG.register_lambda_context(context)
    failures = []
    started = 0
    for message in event["Records"]:
        try:
            for record in json.loads(message["body"])["Records"]:
                s3_object = record["s3"]["object"]
                file = {
                    "bucket": record["s3"]["bucket"]["name"],
                    "key": s3_object["key"],
                    "sequencer": s3_object.get("sequencer", ""),
                }
                run = start(file=file)
                logger.info("run started", extra={**file, "JobRunId": run["JobRunId"]})
                started += 1
        except Exception:
            logger.exception("message failed")
            failures.append({"itemIdentifier": message["messageId"]})
    metrics.add_metric(name="JobRunsStarted", unit=MetricUnit.Count, value=started)
    return {"batchItemFailures": failures}
