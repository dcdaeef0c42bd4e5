"""The StartJobRun table must equal botocore's Glue service model, so it cannot drift; and it drives the request."""

from __future__ import annotations

import dataclasses

import botocore.session

from gluetrigger.core.model import JobSpec
from gluetrigger.core.start_job_run import (
    EXECUTION_CLASSES,
    FIELDS,
    NAME_MAX,
    POLICY_MAX,
    POLICY_MIN,
    WORKER_TYPES,
    request,
)


def start_job_run_members() -> dict[str, object]:
    model = botocore.session.get_session().get_service_model("glue")
    return dict(model.operation_model("StartJobRun").input_shape.members)


def test_request_fields_cover_every_start_job_run_member_in_order() -> None:
    assert [f.member for f in FIELDS if f.member is not None] == list(start_job_run_members())


def test_worker_types_match_botocore() -> None:
    assert set(WORKER_TYPES) == set(start_job_run_members()["WorkerType"].enum)  # type: ignore[attr-defined]


def test_execution_classes_match_botocore() -> None:
    assert set(EXECUTION_CLASSES) == set(start_job_run_members()["ExecutionClass"].enum)  # type: ignore[attr-defined]


def test_string_limits_match_botocore() -> None:
    members = start_job_run_members()
    for name in ("JobName", "SecurityConfiguration"):
        metadata = members[name].metadata  # type: ignore[attr-defined]
        assert (metadata["min"], metadata["max"]) == (1, NAME_MAX)
    policy = members["ExecutionRoleSessionPolicy"].metadata  # type: ignore[attr-defined]
    assert (policy["min"], policy["max"]) == (POLICY_MIN, POLICY_MAX)


def test_fields_that_are_not_settings_are_typed_job_spec_attributes() -> None:
    attributes = {f.name for f in dataclasses.fields(JobSpec)}
    assert {f.name for f in FIELDS if not f.setting} <= attributes
    assert {f.name for f in FIELDS if f.setting}.isdisjoint(attributes)


def test_request_follows_the_api_order_and_leaves_out_what_is_unset() -> None:
    values = {"notify_delay_after": 5, "timeout": None, "job_type": "glueetl", "name": "etl", "max_capacity": 2.0}
    built = request(values)
    assert list(built.items()) == [
        ("JobName", "etl"),
        ("MaxCapacity", 2.0),
        ("NotificationProperty", {"NotifyDelayAfter": 5}),
    ]
