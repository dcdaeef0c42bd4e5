"""Local mode's pure parts: rule patterns, the events it synthesizes, SQS batching and outcome recording.

These pin down what the end-to-end tests can only sample: that an S3 rule lets through exactly
the keys the handler accepts, that the Scheduled Events and S3 events local mode makes are ones
the real handler's schemas and planner accept, and how Lambda's batch semantics and the
handler's outcomes are recorded.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from gluetrigger.core.config import parse_config
from gluetrigger.core.events import InboundEvent, normalize, normalize_message
from gluetrigger.core.model import EventSource, S3Source
from gluetrigger.core.patterns import matches
from gluetrigger.core.planner import PlannedRun, Planner, Rejection, Skip
from gluetrigger.runtime import outcomes as handler
from gluetrigger.runtime.delivery import Delivery
from gluetrigger.runtime.failures import Failure
from gluetrigger.runtime.inbound import InboundValidator
from gluetrigger.runtime.lambda_context import LocalLambdaContext
from gluetrigger.tooling.cli import main
from gluetrigger.tooling.config_file import load_config
from gluetrigger.tooling.local import commands, session_file
from gluetrigger.tooling.local.console import Console, aws_command, program
from gluetrigger.tooling.local.endpoint import Endpoint
from gluetrigger.tooling.local.examples import example_entry, example_key
from gluetrigger.tooling.local.moto_fidelity import object_created_event
from gluetrigger.tooling.local.outcomes import Outcome, OutcomeLog, OutcomeRecorder
from gluetrigger.tooling.local.pollers import failed_message_ids, sqs_event
from gluetrigger.tooling.local.scheduler import Scheduler, scheduled_event

EXAMPLE = load_config(Path(__file__).parents[2] / "triggers.yaml")


def test_failed_messages_follow_report_batch_item_failures() -> None:
    ids = {"m1", "m2", "m3"}

    assert failed_message_ids({"batchItemFailures": []}, ids) == set()
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "m2"}]}, ids) == {"m2"}
    # Lambda fails the whole batch on a response it cannot read, or that names unknown messages.
    assert failed_message_ids(None, ids) == ids
    assert failed_message_ids({"batchItemFailures": "m2"}, ids) == ids
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "m9"}]}, ids) == ids


def test_received_messages_become_lambdas_sqs_event() -> None:
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "r1",
        "Body": "{}",
        "MD5OfBody": "99914b932bd37a50b983c5e7c90ae93b",
        "Attributes": {"ApproximateReceiveCount": "2"},
        "MessageAttributes": {"origin": {"StringValue": "test", "DataType": "String"}},
    }

    (record,) = sqs_event([message], "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")["Records"]

    assert record["messageId"] == "m1"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:q"
    assert record["attributes"] == {"ApproximateReceiveCount": "2"}
    assert record["messageAttributes"]["origin"]["stringValue"] == "test"
    assert record["messageAttributes"]["origin"]["dataType"] == "String"


@pytest.mark.parametrize("timezone", [None, "Europe/Paris"])
def test_a_scheduled_event_is_accepted_and_owned_by_its_trigger(timezone: str | None) -> None:
    config = parse_config({"triggers": [_schedule("nightly", timezone), _schedule("hourly", None)]})
    when = datetime(2026, 11, 24, 1, 0, 0, 123000, tzinfo=UTC)
    event = scheduled_event(config.trigger("nightly"), when, "123456789012", "us-east-1")

    InboundValidator().check(event)
    assert event["source"] == ("aws.events" if timezone is None else "aws.scheduler")
    (run,) = Planner(config).plan(normalize(event)).runs
    assert run.trigger.name == "nightly"
    assert run.idempotency_key == "nightly:2026-11-24T01:00:00Z"


def _schedule(name: str, timezone: str | None) -> dict[str, Any]:
    source: dict[str, Any] = {"type": "schedule", "expression": "rate(1 day)"}
    if timezone:
        source["timezone"] = timezone
    return {"name": name, "source": source, "job": {"name": f"{name}-job"}}


def test_s3_events_carry_what_aws_sends() -> None:
    """Unlike moto's own: etag (not eTag), a sequencer per write, version-id only when versioned."""
    bucket = SimpleNamespace(name="landing", arn="arn:aws:s3:::landing", region_name="us-east-1", is_versioned=False)
    key = SimpleNamespace(name="sales/a b.csv", size=5, etag='"b1946ac92492d2347c6235b4d2611184"', version_id="null")

    first = object_created_event("123456789012", bucket, "s3:ObjectCreated:Put", key)
    second = object_created_event("123456789012", bucket, "s3:ObjectCreated:Put", key)

    obj = first["detail"]["object"]
    assert obj == {
        "key": "sales/a b.csv",
        "size": 5,
        "etag": "b1946ac92492d2347c6235b4d2611184",
        "sequencer": obj["sequencer"],
    }
    assert first["detail"]["reason"] == "PutObject"
    assert first["id"] != second["id"]
    assert second["detail"]["object"]["sequencer"] > obj["sequencer"]
    versioned = object_created_event(
        "123456789012", SimpleNamespace(**{**vars(bucket), "is_versioned": True}), "s3:ObjectCreated:Copy", key
    )
    assert versioned["detail"]["object"]["version-id"] == "null"
    assert versioned["detail"]["reason"] == "CopyObject"
    # What the handler sees once moto's SQS target has turned the epoch time into ISO 8601.
    delivered = {**first, "time": "2026-11-24T09:20:00Z"}
    InboundValidator().check(delivered)
    (item,) = normalize_message(json.dumps(delivered), "m1")
    assert isinstance(item, InboundEvent)
    assert item.s3 is not None
    assert (item.s3.etag, item.s3.sequencer) == (obj["etag"], obj["sequencer"])


def test_commands_to_try_use_inputs_the_trigger_matches() -> None:
    for trigger in EXAMPLE.triggers:
        if isinstance(trigger.source, S3Source):
            key = example_key(trigger.source, datetime(2026, 11, 24, tzinfo=UTC).date())
            assert key is not None
            assert trigger.source.key_matches(key) is None
        if isinstance(trigger.source, EventSource):
            entry = example_entry(trigger.source)
            assert entry is not None
            envelope = {
                "source": entry["Source"],
                "detail-type": entry["DetailType"],
                "detail": json.loads(entry["Detail"]),
            }
            assert matches(trigger.source.pattern, envelope)

    assert example_key(S3Source(bucket="b", key_pattern=re.compile(r"^x/\d{9}$")), datetime.now(UTC).date()) is None
    assert example_entry(EventSource(pattern={"detail": {"n": [{"cidr": "10.0.0.0/8"}]}})) is None


def test_the_event_to_try_carries_the_fields_the_triggers_templates_read() -> None:
    """Otherwise the printed put-events command is rejected: a variable is missing in the event."""
    trigger = EXAMPLE.trigger("orders-exported")
    assert isinstance(trigger.source, EventSource)

    entry = example_entry(trigger.source, trigger.job.arguments.values())

    assert entry is not None
    event = {
        "version": "0",
        "id": "e1",
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": "123456789012",
        "time": "2026-11-24T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": json.loads(entry["Detail"]),
    }
    plan = Planner(EXAMPLE).plan(normalize(event))
    assert plan.rejected == []
    [run] = plan.runs
    assert run.request["Arguments"]["--export_id"] == "example"


def test_fire_takes_config_and_endpoint_given_before_or_after_it(tmp_path: Path) -> None:
    config = tmp_path / "other.yaml"
    config.write_text(json.dumps({"triggers": [_every_minute("only-here")]}))
    nowhere = "http://127.0.0.1:1"
    for args in (
        ["local", "--config", str(config), "fire", "only-here", "--endpoint-url", nowhere],
        ["local", "--endpoint-url", nowhere, "fire", "only-here", "--config", str(config)],
        ["local", "--config", str(config), "--port", "1", "fire", "only-here"],
        ["local", "fire", "only-here", "--config", str(config), "--endpoint-url", nowhere],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "gluetrigger", *args], capture_output=True, text=True, timeout=60, check=False
        )
        # The trigger was found in that config and the endpoint was the one given: only reaching it failed.
        assert (done.returncode, done.stderr) == (1, f"gluetrigger: cannot reach {nowhere}: is the emulator running?\n")


def test_failures_count_once_per_message_however_often_it_is_delivered() -> None:
    log = OutcomeLog()
    for delivery in (1, 2, 3):
        log.add(Outcome("t", "rejected", "s3://b/k", reason="bad", message_id="m1", receive_count=delivery))
    log.add(Outcome("t", "started", "s3://b/k2", job_run_id="jr_1"))

    assert log.counts() == {"t": {"rejected": 1, "started": 1}}
    assert log.wait_for(lambda counts: counts["t"]["started"] == 1, timeout=0)
    assert not log.wait_for(lambda counts: counts["t"]["started"] == 2, timeout=0.01)


SALES = parse_config(
    {"triggers": [{"name": "sales", "source": {"type": "s3", "bucket": "landing"}, "job": {"name": "sales-etl"}}]}
)


def object_created_event_body(key: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "e1",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "time": "2026-11-24T09:20:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"bucket": {"name": "landing"}, "object": {"key": key, "etag": "e", "sequencer": "01"}},
    }


@pytest.fixture
def message() -> Delivery:
    """An SQS message delivered for the second time, carrying the object sales/x.csv."""
    body = json.dumps(object_created_event_body("sales/x.csv"))
    return Delivery.message({"messageId": "m1", "body": body, "attributes": {"ApproximateReceiveCount": "2"}})


@pytest.fixture
def run(message: Delivery) -> PlannedRun:
    [planned] = Planner(SALES).plan(normalize_message(message.body(), "m1")).runs
    return planned


def recorded(*outcomes: handler.Outcome) -> list[Outcome]:
    log = OutcomeLog()
    recorder = OutcomeRecorder("sales", log)
    for outcome in outcomes:
        recorder.observe(outcome)
    return log.snapshot()


def test_the_handlers_outcomes_become_local_outcomes(message: Delivery, run: PlannedRun) -> None:
    not_found = handler.RunFailed(message, run, Failure("EntityNotFoundException", "no job", retryable=False))
    throttled = handler.RunFailed(message, run, Failure("ThrottlingException", "slow down", retryable=True))
    rejection = Rejection("sales", "variable ${day} is missing", "event/sqs:m1", "m1")
    outcomes = recorded(
        handler.MessageReceived(message),
        handler.RunRequested(message, run),
        handler.RunStarted(message, run, "jr_1"),
        handler.RunDuplicate(message, run, "jr_1"),
        handler.RunRetrying(message, run, throttled.failure, attempt=1, delay_seconds=0.1),
        not_found,
        handler.EventIgnored(message, Skip("no trigger matches s3://landing/sales/y.csv", "event/sqs:m1", "m1")),
        handler.EventRejected(message, "sales: variable ${day} is missing", "sales"),
        # The permanent failure was shown as an error above; only the mapping rejection is new.
        handler.Settlement(message, runs=(not_found,), rejected=(rejection,)),
        handler.Settlement(message, runs=(throttled,)),  # to be retried: nothing to show yet
    )

    got = [(o.trigger, o.kind, o.subject, o.job_run_id, o.reason, o.message_id, o.receive_count) for o in outcomes]
    subject = "s3://landing/sales/x.csv"
    assert got == [
        ("sales", "started", subject, "jr_1", None, "m1", 2),
        ("sales", "duplicate", subject, "jr_1", None, "m1", 2),
        ("sales", "error", subject, None, "EntityNotFoundException: no job (permanent)", "m1", 2),
        ("sales", "ignored", subject, None, "no trigger matches s3://landing/sales/y.csv", "m1", 2),
        ("sales", "rejected", subject, None, "variable ${day} is missing", "m1", 2),
    ]
    assert not any(o.dead_lettered for o in outcomes)


def test_a_dead_lettered_message_is_one_rejection_shown_going_to_the_dlq(message: Delivery) -> None:
    reason = "sales: variable ${day} is missing or empty in s3://landing/sales/x.csv"
    dead = handler.DeadLettered(message, reason, "sales")

    [outcome] = recorded(dead, handler.Settlement(message, unreadable=reason, dead_lettered=dead))

    assert (outcome.trigger, outcome.kind, outcome.dead_lettered, outcome.receive_count) == (
        "sales",
        "rejected",
        True,
        2,
    )
    out = io.StringIO()
    Console(SALES, out).outcome(outcome)
    assert out.getvalue().split("  ", 1)[1] == (
        "sales     rejected: variable ${day} is missing or empty in s3://landing/sales/x.csv -> DLQ\n"
    )


def test_an_unreadable_direct_event_and_a_defect_name_what_they_can() -> None:
    context = LocalLambdaContext()
    direct = Delivery.invocation({"hello": "world"}, context)
    broken = Delivery.message({"messageId": "m2", "body": "{not json"})
    refused = "not an event shape gluetrigger knows (top-level keys: hello)"

    outcomes = recorded(
        handler.Settlement(direct, unreadable=refused),
        handler.DeadLetterRefused(direct, "NonExistentQueue"),
        handler.MessageFailed(broken, KeyError("Records")),
        handler.InvocationEnded(()),
    )

    assert [(o.kind, o.subject, o.reason, o.message_id, o.receive_count) for o in outcomes] == [
        ("rejected", "(unknown message)", refused, None, None),
        ("error", "message m2", "KeyError: 'Records'", "m2", None),
    ]


def test_the_scheduler_fires_each_due_time_with_the_scheduled_time() -> None:
    config = parse_config({"triggers": [_every_minute("a"), _every_minute("b")]})
    now = [datetime(2026, 11, 24, 9, 0, 30, tzinfo=UTC)]
    fired: list[tuple[str, str]] = []
    halt = threading.Event()

    def fire(trigger: Any, when: datetime) -> None:
        fired.append((trigger.name, f"{when:%H:%M:%S}"))
        if len(fired) == 4:
            halt.set()

    def sleep(seconds: float) -> None:
        now[0] += timedelta(seconds=seconds)

    scheduler = Scheduler(list(config.triggers), fire, halt, clock=lambda: now[0], sleep=sleep)
    scheduler.start()
    scheduler.join(5)

    assert fired == [("a", "09:01:00"), ("b", "09:01:00"), ("a", "09:02:00"), ("b", "09:02:00")]
    assert now[0] == datetime(2026, 11, 24, 9, 2, tzinfo=UTC)


def _every_minute(name: str) -> dict[str, Any]:
    return {"name": name, "source": {"type": "schedule", "expression": "rate(1 minute)"}, "job": {"name": name}}


def test_the_handler_never_imports_local_mode_or_moto() -> None:
    code = (
        "import sys, gluetrigger.handler; "
        "print([m for m in sys.modules if m.split('.')[0] == 'moto' or m.startswith('gluetrigger.tooling.local')])"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert found.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["runs", "--endpoint-url", "127.0.0.1:4572"],
            "endpoint '127.0.0.1:4572' is not a URL: give it as http://HOST:PORT",
        ),
        (["runs", "--endpoint-url", "http://x:99999"], "endpoint 'http://x:99999': the port must be a number 1..65535"),
        (["runs", "--endpoint-url", "http://x:0"], "endpoint 'http://x:0': the port must be a number 1..65535"),
        (["local", "--port", "99999"], "--port 99999: must be 1..65535, or 0 for a free one"),
        (
            ["local", "--endpoint-url", "localhost:4566"],
            "endpoint 'localhost:4566' is not a URL: give it as http://HOST:PORT",
        ),
        (
            ["local", "--endpoint-url", "http://x:99999"],
            "endpoint 'http://x:99999': the port must be a number 1..65535",
        ),
    ],
)
def test_an_unusable_endpoint_or_port_is_one_line_and_a_usage_error(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(Path(__file__).parents[2] / "triggers.yaml")
    assert main([*argv, *(["--config", config] if argv[0] == "local" else [])]) == 2
    assert capsys.readouterr() == ("", f"gluetrigger: {expected}\n")


def test_a_schemeless_aws_endpoint_url_is_refused_the_same_way(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "127.0.0.1:4572")
    assert main(["runs"]) == 2
    assert (
        capsys.readouterr().err == "gluetrigger: endpoint '127.0.0.1:4572' is not a URL: give it as http://HOST:PORT\n"
    )
    assert Endpoint("http://127.0.0.1:4572").url == "http://127.0.0.1:4572"


def test_the_aws_commands_to_try_work_in_a_fresh_shell_and_never_carry_the_users_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALUSERKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-user-secret")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    out = io.StringIO()
    Console(EXAMPLE, out).banner("triggers.yaml", "http://127.0.0.1:4566", embedded=True)

    printed = out.getvalue()
    tried = [line.split("  ", 2)[2] for line in printed.splitlines() if line.startswith("  ") and " aws " in line]
    commands = [shlex.split(command) for command in tried]
    assert len(commands) == 4  # the three S3 triggers and the event trigger of the example
    for command in commands:
        # The aws CLI will not sign without credentials: throwaway ones, inline; the region as an option,
        # which outranks $AWS_REGION and a profile's region.
        assert command[:7] == [
            "AWS_ACCESS_KEY_ID=testing",
            "AWS_SECRET_ACCESS_KEY=testing",
            "aws",
            "--endpoint-url",
            "http://127.0.0.1:4566",
            "--region",
            "us-east-1",
        ]
    assert "AKIAREALUSERKEY" not in printed
    assert "real-user-secret" not in printed
    assert "eu-west-3" not in printed


def test_the_readme_shows_the_aws_commands_as_local_mode_prints_them() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    local_mode = readme.split("\n## Local mode\n")[1].split("\n## ")[0]
    shown = re.findall(r"`([^`]*aws --endpoint-url[^`]*)`", local_mode)
    assert shown
    for command in shown:
        assert command.startswith(aws_command("http://127.0.0.1:PORT") + " "), command


@pytest.fixture
def records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the running instances are recorded, with nothing else telling commands where to go."""
    folder = tmp_path / "records"
    monkeypatch.setattr(session_file, "session_dir", lambda: folder)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return folder


@pytest.fixture
def two_configs(tmp_path: Path) -> tuple[str, str]:
    """Two projects' configs, each with a schedule trigger `tick`."""
    paths = []
    for project in ("north", "south"):
        (tmp_path / project).mkdir()
        path = tmp_path / project / "triggers.yaml"
        path.write_text(json.dumps({"triggers": [_every_minute("tick")]}))
        paths.append(str(path))
    return paths[0], paths[1]


# An endpoint with port 0 is refused, naming it, before any connection: which one a command chose shows at once.
NORTH, SOUTH = "http://north-instance:0", "http://south-instance:0"


def refused(endpoint: str) -> str:
    return f"gluetrigger: endpoint {endpoint!r}: the port must be a number 1..65535\n"


@pytest.mark.usefixtures("records")
def test_fire_and_runs_use_only_the_instance_serving_their_config(
    two_configs: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    north, south = two_configs
    session_file.record(north, NORTH)
    session_file.record(south, SOUTH)

    for config, endpoint in ((north, NORTH), (south, SOUTH)):
        assert main(["runs", "--config", config]) == 2
        assert capsys.readouterr().err == refused(endpoint)
        assert main(["local", "fire", "tick", "--config", config]) == 2
        assert capsys.readouterr().err == refused(endpoint)


@pytest.mark.usefixtures("records")
def test_no_instance_for_the_config_is_one_line_naming_what_runs_and_what_to_do(
    two_configs: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    north, south = two_configs
    assert main(["runs", "--config", south]) == 2
    assert capsys.readouterr().err == (
        f"gluetrigger: no `gluetrigger local` is running for {south}: "
        f"start it with `gluetrigger local --config {south}`, or pass --endpoint-url\n"
    )

    session_file.record(north, "http://127.0.0.1:4001")
    for argv in (["runs", "--config", south], ["local", "fire", "tick", "--config", south]):
        assert main(argv) == 2
        assert capsys.readouterr().err == (
            f"gluetrigger: no `gluetrigger local` is running for {south} "
            f"(one runs for {north} at http://127.0.0.1:4001): "
            f"start it with `gluetrigger local --config {south}`, or pass --endpoint-url\n"
        )


@pytest.mark.usefixtures("records")
def test_an_explicit_endpoint_wins_over_the_running_instance(
    two_configs: tuple[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    north, _ = two_configs
    session_file.record(north, NORTH)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://from-the-environment:0")

    assert main(["runs", "--config", north]) == 2
    assert capsys.readouterr().err == refused("http://from-the-environment:0")
    assert main(["runs", "--config", north, "--endpoint-url", "http://given:0"]) == 2
    assert capsys.readouterr().err == refused("http://given:0")


def test_a_record_directory_open_to_others_is_one_line_and_a_usage_error(
    records: Path, two_configs: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    records.mkdir()
    records.chmod(0o777)

    assert main(["runs", "--config", two_configs[0]]) == 2
    assert capsys.readouterr().err == (
        f"gluetrigger: {records}, where `gluetrigger local` notes which config it serves, is open to other users "
        "(mode 777): remove it, or set TMPDIR to a directory of your own; or pass --endpoint-url\n"
    )


def test_once_on_another_config_says_what_it_needs_and_what_to_run_instead(
    two_configs: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    north, _ = two_configs
    assert main(["local", "--config", north, "--once"]) == 2
    assert capsys.readouterr() == (
        "",
        "gluetrigger: --once plays a scenario written for the example triggers.yaml (the one `make demo` uses), "
        f"and {north} lacks its triggers sales-arrival (source type s3), partner-drop (source type s3), "
        "nightly-rollup (source type schedule), orders-exported (source type event), sales-burst (source type s3); "
        "to try your own triggers, "
        f"run `gluetrigger local --config {north}` without --once and use the commands it prints\n",
    )

    example = (Path(__file__).parents[2] / "triggers.yaml").read_text()
    changed = tmp_path / "my triggers.yaml"
    changed.write_text(
        example.replace(
            "type: schedule\n      expression: cron(0 2 * * ? *)\n      timezone: Europe/Paris",
            "type: event\n      pattern: {source: [x]}",
        )
    )
    assert main(["local", "--config", str(changed), "--once"]) == 2
    assert capsys.readouterr().err == (
        "gluetrigger: --once plays a scenario written for the example triggers.yaml (the one `make demo` uses), "
        f"and {changed} lacks its trigger nightly-rollup with source type schedule (it has event); to try your own "
        f"triggers, run `gluetrigger local --config '{changed}'` without --once and use the commands it prints\n"
    )


def test_an_instance_with_no_private_place_for_its_record_says_so_and_runs_on(
    records: Path, two_configs: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    records.mkdir()
    records.chmod(0o777)

    assert commands._record(two_configs[0], "http://127.0.0.1:4001", Console(SALES, io.StringIO())) is None
    assert capsys.readouterr().err == (
        f"gluetrigger: {records}, where `gluetrigger local` notes which config it serves, is open to other users "
        "(mode 777): remove it, or set TMPDIR to a directory of your own; "
        "`local fire` and `runs` reach this instance only with --endpoint-url http://127.0.0.1:4001\n"
    )


def test_a_second_instance_of_a_config_says_that_it_is_the_one_used_now(
    records: Path, two_configs: tuple[str, str]
) -> None:
    north, _ = two_configs
    records.mkdir(mode=0o700)
    older = {"config": north, "endpoint": "http://127.0.0.1:4001", "pid": os.getppid(), "started": 1.0}
    (records / "older.json").write_text(json.dumps(older))
    (records / "older.json").chmod(0o600)
    out = io.StringIO()

    recorded = commands._record(north, "http://127.0.0.1:4002", Console(SALES, out))

    assert recorded is not None
    assert out.getvalue() == (
        f"note: another `gluetrigger local` (pid {os.getppid()}) serves this config at http://127.0.0.1:4001; "
        "`local fire` and `runs` reach this one, the newest, while it runs\n"
    )
    serving = session_file.find(north).serving
    assert serving is not None
    assert serving.endpoint == "http://127.0.0.1:4002"


@pytest.mark.parametrize(
    ("argv0", "on_path", "expected"),
    [
        ("/p/.venv/bin/gluetrigger", "/p/.venv/bin/gluetrigger", "gluetrigger"),  # the virtualenv is activated
        (".venv/bin/gluetrigger", None, ".venv/bin/gluetrigger"),  # it is not: the path as typed
        ("/p/.venv/bin/gluetrigger", "/usr/local/bin/gluetrigger", "/p/.venv/bin/gluetrigger"),  # another on PATH
        ("/my project/.venv/bin/gluetrigger", None, "'/my project/.venv/bin/gluetrigger'"),
        ("/p/lambdas/gluetrigger/__main__.py", "/usr/local/bin/gluetrigger", "'/my python/python' -m gluetrigger"),
    ],
)
def test_the_commands_printed_run_gluetrigger_the_way_it_was_started(
    argv0: str, on_path: str | None, expected: str
) -> None:
    assert program(argv0, on_path, "/my python/python") == expected
    out = io.StringIO()
    Console(EXAMPLE, out, program(argv0, on_path, "/my python/python")).banner("t.yaml", "http://h:1", embedded=True)
    assert (
        f"fire it now: {expected} local fire nightly-rollup --config t.yaml --endpoint-url http://h:1" in out.getvalue()
    )
    assert out.getvalue().splitlines()[-1].split(maxsplit=2)[2] == f"{expected} runs --endpoint-url http://h:1"
