"""The StartJobRun surface as data: request fields, allowed values and limits.

Kept as plain constants so the validator, the renderer and the CDK app share one source of
truth, and so a unit test can compare them with botocore's Glue service model: when AWS adds a
worker type, the test fails instead of the validator silently refusing valid configs.
"""

from __future__ import annotations

__all__ = [
    "ARGUMENTS_MAX_BYTES",
    "EXECUTION_CLASSES",
    "JOB_FIELD_TO_REQUEST",
    "JOB_TYPES",
    "RESERVED_ARGUMENTS",
    "WORKER_TYPES",
]

# triggers.yaml job field -> StartJobRun request member, in the API's member order.
JOB_FIELD_TO_REQUEST: dict[str, str] = {
    "name": "JobName",
    "job_run_queuing_enabled": "JobRunQueuingEnabled",
    "job_run_id": "JobRunId",
    "arguments": "Arguments",
    "allocated_capacity": "AllocatedCapacity",
    "timeout": "Timeout",
    "max_capacity": "MaxCapacity",
    "security_configuration": "SecurityConfiguration",
    "notify_delay_after": "NotificationProperty",
    "worker_type": "WorkerType",
    "number_of_workers": "NumberOfWorkers",
    "execution_class": "ExecutionClass",
    "execution_role_session_policy": "ExecutionRoleSessionPolicy",
}

WORKER_TYPES: tuple[str, ...] = (
    "Standard",
    "G.1X",
    "G.2X",
    "G.025X",
    "G.4X",
    "G.8X",
    "Z.2X",
    "G.12X",
    "G.16X",
    "R.1X",
    "R.2X",
    "R.4X",
    "R.8X",
)

EXECUTION_CLASSES: tuple[str, ...] = ("FLEX", "STANDARD")

# JobCommand.Name values that carry type-specific capacity rules.
JOB_TYPES: tuple[str, ...] = ("glueetl", "gluestreaming", "pythonshell", "glueray")

# Arguments Glue sets itself; passing them breaks the run or the job's bookkeeping.
RESERVED_ARGUMENTS: frozenset[str] = frozenset({"--conf", "--debug", "--mode", "--JOB_NAME"})

# Glue refuses a request whose Arguments exceed 260 KB (keys and values, UTF-8).
ARGUMENTS_MAX_BYTES = 260 * 1024
