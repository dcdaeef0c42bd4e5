"""Matching and mapping: which triggers fire for an event, the exact StartJobRun request, and the run key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gluetrigger.core.config import parse_config
from gluetrigger.core.events import normalize
from gluetrigger.core.planner import Plan, Planner
from gluetrigger.core.run_key import RUN_KEY_LENGTH, run_key
from gluetrigger.tooling.config_file import load_config

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples" / "events"


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


def plan_for(config_doc: dict[str, Any], event: object, only: str | None = None) -> Plan:
    return Planner(parse_config(config_doc), only).plan(normalize(event))


def s3_event(key: str, bucket: str = "landing", **object_fields: Any) -> dict[str, Any]:
    obj = {"key": key, "size": 7, "eTag": "etag-1", "sequencer": "00AA", **object_fields}
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "awsRegion": "eu-west-1",
                "eventTime": "2026-11-24T09:15:02Z",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": obj},
            }
        ]
    }


def s3_trigger(name: str = "sales", job: dict[str, Any] | None = None, **source: Any) -> dict[str, Any]:
    return {
        "name": name,
        "source": {"type": "s3", "bucket": "landing", **source},
        "job": {"name": "etl", **(job or {})},
    }


def custom_event(detail: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "evt-1",
        "detail-type": "Export Finished",
        "source": "com.example.orders",
        "time": "2026-11-24T11:30:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": detail,
        **envelope,
    }


@pytest.fixture(scope="module")
def example_config() -> Any:
    return load_config(ROOT / "triggers.yaml")


def test_example_s3_notification_renders_full_requests(example_config: Any) -> None:
    plan = Planner(example_config).plan(normalize(example("s3-notification.json")))
    assert [r.trigger.name for r in plan.runs] == ["sales-arrival", "partner-drop"]
    sales, partner = plan.runs
    assert sales.idempotency_key == (
        "sales-arrival:landing-bucket/sales/2026-11-24/store 42 (eu).csv@d41d8cd98f00b204e9800998ecf8427e"
    )
    assert sales.request == {
        "JobName": "sales-etl",
        "JobRunQueuingEnabled": True,
        "Arguments": {
            "--enable-metrics": "true",
            "--input_path": "s3://landing-bucket/sales/2026-11-24/store 42 (eu).csv",
            "--day": "2026-11-24",
            "--file": "store 42 (eu).csv",
            # Last: the run key, a digest of the idempotency key, so a lost start can be found again.
            "--gluetrigger-run-key": run_key(sales.idempotency_key),
        },
        "Timeout": 120,
        "NotificationProperty": {"NotifyDelayAfter": 15},
        "WorkerType": "G.1X",
        "NumberOfWorkers": 10,
        "ExecutionClass": "FLEX",
    }
    assert (
        partner.idempotency_key == "partner-drop:landing-bucket/partners/acme/orders:2026-11-24.json@0055AED6DCD90281F1"
    )
    assert partner.request["MaxCapacity"] == 1.0
    assert partner.request["Arguments"]["--received_at"] == "2026-11-24T09:15:03.456Z"


def test_example_schedule_and_custom_event(example_config: Any) -> None:
    scheduled = Planner(example_config).plan(normalize(example("eventbridge-scheduled-event.json")))
    assert [r.trigger.name for r in scheduled.runs] == ["nightly-rollup"]
    assert scheduled.runs[0].idempotency_key == "nightly-rollup:2026-11-24T01:00:00Z"
    # 01:00Z is 02:00 in Paris on the 24th: the rollup is for the Paris day before.
    assert scheduled.runs[0].request["Arguments"]["--run_date"] == "2026-11-23"
    custom = Planner(example_config).plan(normalize(example("eventbridge-custom-event.json")))
    assert [r.to_json() for r in custom.runs] == [
        {
            "trigger": "orders-exported",
            "idempotency_key": "orders-exported:a6a2c1f3-51b0-4d1c-9a53-3bfa1c2b9e11",
            "request": {
                "JobName": "orders-load",
                "JobRunQueuingEnabled": True,
                "Arguments": {
                    "--enable-metrics": "true",
                    "--export_id": "exp-20261124-0007",
                    "--manifest": "s3://exports/orders/exp-20261124-0007/manifest.json",
                    "--gluetrigger-run-key": run_key("orders-exported:a6a2c1f3-51b0-4d1c-9a53-3bfa1c2b9e11"),
                },
                "Timeout": 120,
                "WorkerType": "G.1X",
                "NumberOfWorkers": 2,
            },
        }
    ]


def test_every_example_event_renders_without_rejection(example_config: Any) -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        plan = Planner(example_config).plan(normalize(json.loads(path.read_text())))
        assert not plan.rejected, (path.name, plan.rejected)
        assert plan.runs or plan.ignored, path.name


@pytest.mark.parametrize(
    ("source", "key", "fires"),
    [
        ({"prefix": "sales/"}, "sales/a.csv", True),
        ({"prefix": "sales/"}, "other/a.csv", False),
        ({"suffix": ".csv"}, "sales/a.csv", True),
        ({"suffix": ".csv"}, "sales/a.csv.tmp", False),
        ({"prefix": "sales/", "suffix": ".csv"}, "sales/x/y.csv", True),
        ({"key_pattern": r"^sales/\d{4}/"}, "sales/2026/a", True),
        ({"key_pattern": r"^sales/\d{4}/"}, "sales/abcd/a", False),
        ({}, "anything", True),
    ],
)
def test_s3_prefix_suffix_and_pattern(source: dict[str, Any], key: str, fires: bool) -> None:
    plan = plan_for({"triggers": [s3_trigger(**source)]}, s3_event(key))
    assert bool(plan.runs) is fires
    if not fires:
        (ignored,) = plan.ignored
        assert ignored.reason.startswith(f"no trigger matches s3://landing/{key} (sales: key ")


def test_other_bucket_is_ignored() -> None:
    plan = plan_for({"triggers": [s3_trigger()]}, s3_event("a.csv", bucket="elsewhere"))
    assert plan.runs == []
    assert plan.ignored[0].reason == "no trigger matches s3://elsewhere/a.csv"


def test_default_s3_key_prefers_sequencer_then_version_then_etag() -> None:
    config = {"triggers": [s3_trigger()]}
    with_seq = plan_for(config, s3_event("a", versionId="v1")).runs[0].idempotency_key
    no_seq = plan_for(config, s3_event("a", sequencer=None, versionId="v1")).runs[0].idempotency_key
    only_etag = plan_for(config, s3_event("a", sequencer=None)).runs[0].idempotency_key
    assert (with_seq, no_seq, only_etag) == (
        "sales:landing/a@00AA",
        "sales:landing/a@v1",
        "sales:landing/a@etag-1",
    )


def test_custom_idempotency_key_is_prefixed_with_the_trigger() -> None:
    config = {"triggers": [{**s3_trigger(), "idempotency_key": "${key}#${size}"}]}
    assert plan_for(config, s3_event("a.csv")).runs[0].idempotency_key == "sales:a.csv#7"


def test_missing_variable_rejects_naming_trigger_and_variable() -> None:
    config = {"triggers": [s3_trigger(job={"arguments": {"--v": "${version_id}"}})]}
    plan = plan_for(config, s3_event("a.csv"))
    assert plan.runs == []
    (rejected,) = plan.rejected
    assert rejected.trigger == "sales"
    assert rejected.reason == "variable ${version_id} is missing or empty in s3://landing/a.csv"


def test_optional_key_pattern_group_that_did_not_match_rejects() -> None:
    config = {"triggers": [s3_trigger(job={"arguments": {"--d": "${day}"}}, key_pattern=r"^(?:(?P<day>\d+)/)?x")]}
    (rejected,) = plan_for(config, s3_event("x")).rejected
    assert "${day}" in rejected.reason


def test_event_data_is_never_expanded_again() -> None:
    config = {"triggers": [s3_trigger(job={"arguments": {"--in": "${key}", "--t": "${time-1d:%Y}"}})]}
    key = r"${bucket}/$${x}/${time:%Y}/${time-1d:%Y}/${event:eventName}"
    plan = plan_for(config, s3_event(key))
    assert plan.runs[0].request["Arguments"]["--in"] == key


@given(key=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40))
def test_any_key_is_passed_through_verbatim(key: str) -> None:
    from urllib.parse import quote_plus

    config = {"triggers": [s3_trigger(job={"arguments": {"--in": "s3://${bucket}/${key}"}})]}
    plan = plan_for(config, s3_event(quote_plus(key)))
    assert plan.runs[0].request["Arguments"]["--in"] == f"s3://landing/{key}"


def test_arguments_too_large_after_rendering_reject() -> None:
    config = {"triggers": [s3_trigger(job={"arguments": {"--in": "${key}" * 300}})]}
    (rejected,) = plan_for(config, s3_event("k" * 1000)).rejected
    assert rejected.trigger == "sales"
    assert "bytes after rendering; Glue's limit is 266240" in rejected.reason


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("detail.rows", "18342"),
        ("detail.ok", "true"),
        ("detail.tags", '["a","b"]'),
        ("detail.nested", '{"x":1}'),
        ('"detail-type"', "Export Finished"),
    ],
)
def test_event_expressions_render_json_values_as_text(expression: str, expected: str) -> None:
    config = {
        "triggers": [
            {
                "name": "orders",
                "source": {"type": "event", "pattern": {"source": ["com.example.orders"]}},
                "job": {"name": "load", "arguments": {"--v": f"${{event:{expression}}}"}},
            }
        ]
    }
    detail = {"rows": 18342, "ok": True, "tags": ["a", "b"], "nested": {"x": 1}}
    assert plan_for(config, custom_event(detail)).runs[0].request["Arguments"]["--v"] == expected


def test_event_expression_on_missing_field_rejects() -> None:
    config = {
        "triggers": [
            {
                "name": "orders",
                "source": {"type": "event", "pattern": {"source": ["com.example.orders"]}},
                "job": {"name": "load", "job_run_id": "${event:detail.jobRunId}"},
            }
        ]
    }
    (rejected,) = plan_for(config, custom_event({})).rejected
    assert rejected.reason.startswith("variable ${event:detail.jobRunId} is missing or empty")


def test_event_pattern_selects_events() -> None:
    config = {
        "triggers": [
            {
                "name": "orders",
                "source": {"type": "event", "pattern": {"detail": {"status": ["SUCCEEDED"]}}},
                "job": {"name": "load"},
            }
        ]
    }
    assert len(plan_for(config, custom_event({"status": "SUCCEEDED"})).runs) == 1
    failed = plan_for(config, custom_event({"status": "FAILED"}))
    assert failed.runs == []
    assert failed.ignored[0].reason == (
        'no trigger matches event evt-1 (Export Finished) (orders: detail.status: "FAILED" is not "SUCCEEDED")'
    )


def test_an_unmatched_event_names_each_triggers_first_failing_field() -> None:
    config = {
        "triggers": [
            {
                "name": "orders",
                "source": {
                    "type": "event",
                    "pattern": {"source": ["com.example.orders"], "detail": {"rows": [{"numeric": [">", 0]}]}},
                },
                "job": {"name": "load"},
            },
            {
                "name": "exports",
                "source": {"type": "event", "pattern": {"detail-type": ["Export Started"]}},
                "job": {"name": "load"},
            },
        ]
    }
    (ignored,) = plan_for(config, custom_event({"rows": 0})).ignored
    assert ignored.reason == (
        "no trigger matches event evt-1 (Export Finished) (orders: detail.rows: 0 is not > 0;"
        ' exports: detail-type: "Export Finished" is not "Export Started")'
    )
    (missing,) = plan_for(config, custom_event({"rows": "x" * 1000}), only="orders").ignored
    assert missing.reason.endswith('(orders: detail.rows: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... is not > 0)')
    # A trigger that matches is not listed, and the event runs.
    assert len(plan_for(config, custom_event({"rows": 3})).runs) == 1


def test_schedule_ownership_and_only() -> None:
    config = {
        "triggers": [
            {
                "name": "nightly",
                "source": {"type": "schedule", "expression": "rate(1 day)"},
                "job": {"name": "a"},
            },
            {
                "name": "hourly",
                "source": {"type": "schedule", "expression": "rate(1 hour)"},
                "job": {"name": "b"},
            },
        ]
    }
    event = example("eventbridge-scheduled-event.json")
    event["resources"] = ["arn:aws:events:eu-west-1:111122223333:rule/my-stack.hourly"]
    assert [r.trigger.name for r in plan_for(config, event).runs] == ["hourly"]
    event["resources"] = ["arn:aws:events:eu-west-1:111122223333:rule/somebody-elses-rule"]
    assert plan_for(config, event).runs == []
    assert [r.trigger.name for r in plan_for(config, event, only="nightly").runs] == ["nightly"]


def test_several_matching_triggers_each_get_a_run() -> None:
    config = {"triggers": [s3_trigger("a"), s3_trigger("b", prefix="x/")]}
    plan = plan_for(config, s3_event("x/1"))
    assert [r.trigger.name for r in plan.runs] == ["a", "b"]
    assert len({r.idempotency_key for r in plan.runs}) == 2


def test_only_restricts_to_one_trigger() -> None:
    config = {"triggers": [s3_trigger("a"), s3_trigger("b")]}
    assert [r.trigger.name for r in plan_for(config, s3_event("k"), only="b").runs] == ["b"]


def test_every_request_field_is_rendered_in_api_names_and_order() -> None:
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    job = {
        "arguments": {"--k": "${key}"},
        "job_run_queuing_enabled": False,
        "job_run_id": "jr_${sequencer}",
        "allocated_capacity": 10,
        "timeout": 60,
        "security_configuration": "sec",
        "notify_delay_after": 5,
    }
    run = plan_for({"triggers": [s3_trigger(job=job)]}, s3_event("k")).runs[0]
    request = run.request
    # Items, not the dicts: equal dicts may list their members in another order.
    assert list(request.items()) == list(
        {
            "JobName": "etl",
            "JobRunQueuingEnabled": False,
            "JobRunId": "jr_00AA",
            "Arguments": {"--k": "k", "--gluetrigger-run-key": run_key(run.idempotency_key)},
            "AllocatedCapacity": 10,
            "Timeout": 60,
            "SecurityConfiguration": "sec",
            "NotificationProperty": {"NotifyDelayAfter": 5},
        }.items()
    )
    # Without arguments and with the run key turned off, no Arguments member is sent at all.
    job2 = {
        "max_capacity": 2,
        "execution_class": "STANDARD",
        "execution_role_session_policy": policy,
        "run_key_argument": False,
    }
    request2 = plan_for({"triggers": [s3_trigger(job=job2)]}, s3_event("k")).runs[0].request
    assert request2 == {
        "JobName": "etl",
        "MaxCapacity": 2.0,
        "ExecutionClass": "STANDARD",
        "ExecutionRoleSessionPolicy": json.dumps(policy, separators=(",", ":")),
    }


def test_ignored_and_rejected_items_pass_through() -> None:
    plan = Planner(parse_config({"triggers": [s3_trigger()]})).plan(normalize(example("s3-test-event.json")))
    assert plan.to_json()["ignored"][0]["reason"].startswith("s3:TestEvent from bucket landing-bucket")
    batch = example("sqs-s3-notifications.json")
    batch["Records"][0]["body"] = "{"
    bad = Planner(parse_config({"triggers": [s3_trigger()]})).plan(normalize(batch))
    assert bad.rejected[0].trigger is None
    assert bad.rejected[0].message_id == "00000001-1111-2222-3333-444455556666"


def test_every_run_carries_its_run_key_in_the_default_argument() -> None:
    config = {"triggers": [s3_trigger("a"), s3_trigger("b")]}
    first, second = plan_for(config, s3_event("k")).runs
    assert first.run_key == run_key(first.idempotency_key)
    assert first.request["Arguments"]["--gluetrigger-run-key"] == first.run_key
    assert len(first.run_key) == RUN_KEY_LENGTH
    # Two triggers, one event: two planned runs, two keys; the same event again: the same key.
    assert second.run_key != first.run_key
    assert plan_for(config, s3_event("k")).runs[0].run_key == first.run_key
    assert plan_for(config, s3_event("other")).runs[0].run_key != first.run_key


def test_the_run_key_argument_can_be_renamed_or_turned_off() -> None:
    renamed = plan_for({"triggers": [s3_trigger(job={"run_key_argument": "--rk"})]}, s3_event("k")).runs[0]
    assert renamed.request["Arguments"] == {"--rk": renamed.run_key}
    off = plan_for({"triggers": [s3_trigger(job={"run_key_argument": False})]}, s3_event("k")).runs[0]
    assert off.run_key is None
    assert "Arguments" not in off.request


def test_the_run_key_of_event_text_with_a_lone_surrogate_is_still_a_key() -> None:
    assert len(run_key("t:bucket/\ud800.csv")) == RUN_KEY_LENGTH
    assert len(run_key("t:bucket/\udc00")) == RUN_KEY_LENGTH


def schedule_plan(argument: str, at: str, schedule_zone: str, **trigger: Any) -> str:
    """``argument`` rendered for a schedule in ``schedule_zone`` firing at ``at`` (UTC)."""
    config = {
        "triggers": [
            {
                "name": "nightly",
                "source": {"type": "schedule", "expression": "rate(1 day)", "timezone": schedule_zone},
                "job": {"name": "a", "arguments": {"--x": argument}},
                **trigger,
            }
        ]
    }
    event = example("eventbridge-scheduled-event.json")
    event["time"] = at
    event["resources"] = ["arn:aws:events:eu-west-1:111122223333:rule/my-stack.nightly"]
    return str(plan_for(config, event).runs[0].request["Arguments"]["--x"])


def test_a_tokyo_nightly_at_0130_passes_yesterday_in_tokyo() -> None:
    # 01:30 in Tokyo on the 25th is 16:30 UTC on the 24th: UTC's "yesterday" would be the 23rd.
    assert schedule_plan("${time-1d:%Y-%m-%d}", "2026-11-24T16:30:00Z", "Asia/Tokyo") == "2026-11-24"
    assert schedule_plan("${time:%Y-%m-%d %H:%M %Z}", "2026-11-24T16:30:00Z", "Asia/Tokyo") == "2026-11-25 01:30 JST"


def test_the_trigger_timezone_overrides_the_schedule_one_and_event_time_stays_utc() -> None:
    argument = "${time:%Y-%m-%dT%H:%M%z}|${event_time}"
    rendered = schedule_plan(argument, "2026-11-24T16:30:00Z", "Asia/Tokyo", timezone="America/New_York")
    assert rendered == "2026-11-24T11:30-0500|2026-11-24T16:30:00Z"


def test_without_a_timezone_time_is_utc() -> None:
    config = {"triggers": [s3_trigger(job={"arguments": {"--t": "${time-1d:%Y-%m-%d %H:%M}"}})]}
    assert plan_for(config, s3_event("k")).runs[0].request["Arguments"]["--t"] == "2026-11-23 09:15"


def test_an_s3_trigger_renders_time_in_its_own_timezone() -> None:
    config = {"triggers": [{**s3_trigger(job={"arguments": {"--t": "${time:%H:%M}"}}), "timezone": "Asia/Tokyo"}]}
    assert plan_for(config, s3_event("k")).runs[0].request["Arguments"]["--t"] == "18:15"


@pytest.mark.parametrize(
    ("argument", "at"), [("${time+2h:%Y}", "9999-12-31T23:00:00Z"), ("${time:%Y}", "9999-12-31T23:00:00Z")]
)
def test_a_time_beyond_year_9999_rejects_the_event(argument: str, at: str) -> None:
    event = example("eventbridge-scheduled-event.json")
    event.update(time=at, resources=["arn:aws:events:eu-west-1:111122223333:rule/my-stack.nightly"])
    config = {
        "triggers": [
            {
                "name": "nightly",
                "source": {"type": "schedule", "expression": "rate(1 day)", "timezone": "Asia/Tokyo"},
                "job": {"name": "a", "arguments": {"--x": argument}},
            }
        ]
    }
    plan = plan_for(config, event)
    assert plan.runs == []
    (rejected,) = plan.rejected
    assert "falls outside the years 1 to 9999" in rejected.reason
