"""The bare boto3 baseline: what gluetrigger does for one S3 file via SQS, written with boto3 alone.

For each S3 record of each SQS message: a conditional PutItem claims the file's idempotency
record in DynamoDB (a duplicate stops there), StartJobRun starts the Glue job, UpdateItem marks
the record complete with the run id, and one JSON log line says so; a message that fails is
listed in ``batchItemFailures``. No validation, no metrics, no retry policy of its own: the
floor a cold start is compared against. Both clients come from boto3's default session, made
at import as a hand-written handler would. Lambda handler: ``bare_handler.handler``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any

import boto3

__all__ = ["handler"]

TABLE = os.environ["GLUETRIGGER_IDEMPOTENCY_TABLE"]
JOB = os.environ.get("BENCH_JOB", "bench-etl")
TTL_SECONDS = 3600
GLUE = boto3.client("glue")
DYNAMODB = boto3.client("dynamodb")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS batch in, partial batch response out."""
    failures = []
    for message in event["Records"]:
        try:
            for record in json.loads(message["body"])["Records"]:
                _start(record["s3"]["bucket"]["name"], record["s3"]["object"], context)
        except Exception as error:
            print(json.dumps({"level": "ERROR", "message": "message failed", "error": repr(error)}))
            failures.append({"itemIdentifier": message["messageId"]})
    return {"batchItemFailures": failures}


def _start(bucket: str, s3_object: dict[str, Any], context: Any) -> None:
    key = s3_object["key"]
    record_id = hashlib.sha256(f"{bucket}/{key}/{s3_object.get('sequencer', '')}".encode()).hexdigest()
    now = int(time.time())
    try:
        DYNAMODB.put_item(
            TableName=TABLE,
            Item={
                "id": {"S": record_id},
                "status": {"S": "INPROGRESS"},
                "expiration": {"N": str(now + TTL_SECONDS)},
                "in_progress_expiration": {"N": str(now * 1000 + context.get_remaining_time_in_millis())},
            },
            ConditionExpression="attribute_not_exists(id) OR expiration < :now",
            ExpressionAttributeValues={":now": {"N": str(now)}},
        )
    except DYNAMODB.exceptions.ConditionalCheckFailedException:
        print(json.dumps({"level": "INFO", "message": "duplicate", "bucket": bucket, "key": key}))
        return
    run_id = GLUE.start_job_run(JobName=JOB, Arguments={"--input": f"s3://{bucket}/{key}"})["JobRunId"]
    DYNAMODB.update_item(
        TableName=TABLE,
        Key={"id": {"S": record_id}},
        UpdateExpression="SET #status = :completed, #data = :data",
        ExpressionAttributeNames={"#status": "status", "#data": "data"},
        ExpressionAttributeValues={":completed": {"S": "COMPLETED"}, ":data": {"S": json.dumps({"JobRunId": run_id})}},
    )
    print(json.dumps({"level": "INFO", "message": "run started", "bucket": bucket, "key": key, "JobRunId": run_id}))
