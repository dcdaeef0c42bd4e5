"""The core's StartJobRun value lists must equal botocore's Glue service model, so they cannot drift."""

from __future__ import annotations

import botocore.session

from gluetrigger.core.glue_api import EXECUTION_CLASSES, JOB_FIELD_TO_REQUEST, WORKER_TYPES


def start_job_run_members() -> dict[str, object]:
    model = botocore.session.get_session().get_service_model("glue")
    return dict(model.operation_model("StartJobRun").input_shape.members)


def test_request_fields_cover_every_start_job_run_member() -> None:
    assert list(JOB_FIELD_TO_REQUEST.values()) == list(start_job_run_members())


def test_worker_types_match_botocore() -> None:
    assert set(WORKER_TYPES) == set(start_job_run_members()["WorkerType"].enum)  # type: ignore[attr-defined]


def test_execution_classes_match_botocore() -> None:
    assert set(EXECUTION_CLASSES) == set(start_job_run_members()["ExecutionClass"].enum)  # type: ignore[attr-defined]


def test_string_limits_match_botocore() -> None:
    members = start_job_run_members()
    for name in ("JobName", "SecurityConfiguration"):
        assert members[name].metadata == {**members[name].metadata, "min": 1, "max": 255}  # type: ignore[attr-defined]
    policy = members["ExecutionRoleSessionPolicy"].metadata  # type: ignore[attr-defined]
    assert (policy["min"], policy["max"]) == (2, 2048)
