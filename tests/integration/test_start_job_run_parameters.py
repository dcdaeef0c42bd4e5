"""Every StartJobRun parameter of the reference reaches Glue as configured.

moto stores most of them on the run (checked with GetJobRun); the request bodies the proxy
recorded show the ones it drops: JobRunQueuingEnabled, ExecutionClass, ExecutionRoleSessionPolicy.
AllocatedCapacity and MaxCapacity exclude WorkerType (and each other), so they have triggers of
their own.
"""

from __future__ import annotations

import json

import pytest

from gluetrigger.core.run_key import run_key

from .conftest import Emulator
from .helpers import custom_event, invoke

pytestmark = pytest.mark.integration

START = "AWSGlue.StartJobRun"
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::it-landing/*"}],
}


def test_every_parameter_that_goes_with_a_worker_type(aws: Emulator) -> None:
    glue = aws.client("glue")
    previous = glue.start_job_run(JobName="it-full-request")["JobRunId"]
    aws.proxy.reset()

    response = invoke(custom_event("Full Request", {"source": "orders", "previousRunId": previous}))

    [sent] = [r.json() for r in aws.proxy.requests(START)]
    assert sent == {
        "JobName": "it-full-request",
        "JobRunQueuingEnabled": True,
        "JobRunId": previous,
        "Arguments": {
            "--source": "orders",
            "--trigger": "full-request",
            # Every run carries its run key, so a start whose answer is lost can be found again.
            "--gluetrigger-run-key": run_key(response["runs"][0]["idempotency_key"]),
        },
        "Timeout": 30,
        "SecurityConfiguration": "it-security",
        "NotificationProperty": {"NotifyDelayAfter": 5},
        "WorkerType": "G.2X",
        "NumberOfWorkers": 3,
        "ExecutionClass": "FLEX",
        "ExecutionRoleSessionPolicy": json.dumps(POLICY, separators=(",", ":")),
    }
    run = glue.get_job_run(JobName="it-full-request", RunId=response["runs"][0]["JobRunId"])["JobRun"]
    assert run["PreviousRunId"] == previous
    assert run["Arguments"] == sent["Arguments"]
    assert (run["Timeout"], run["SecurityConfiguration"], run["NotificationProperty"]) == (
        30,
        "it-security",
        {"NotifyDelayAfter": 5},
    )
    assert (run["WorkerType"], run["NumberOfWorkers"]) == ("G.2X", 3)


@pytest.mark.parametrize(
    ("detail_type", "job", "field", "value"),
    [
        ("Legacy Capacity", "it-legacy-capacity", "AllocatedCapacity", 5),
        ("Shell Capacity", "it-shell-capacity", "MaxCapacity", 0.0625),
    ],
)
def test_capacity_parameters(aws: Emulator, detail_type: str, job: str, field: str, value: float) -> None:
    response = invoke(custom_event(detail_type))

    [sent] = [r.json() for r in aws.proxy.requests(START)]
    tag = run_key(response["runs"][0]["idempotency_key"])
    assert sent == {"JobName": job, "Arguments": {"--gluetrigger-run-key": tag}, "Timeout": 60, field: value}
    run = aws.client("glue").get_job_run(JobName=job, RunId=response["runs"][0]["JobRunId"])["JobRun"]
    assert run[field] == value
