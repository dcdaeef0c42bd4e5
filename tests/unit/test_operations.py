"""The operators' commands without an emulator: arguments, dates, refusals, backfilled events and DLQ messages."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gluetrigger.core.config import parse_config
from gluetrigger.core.events import normalize
from gluetrigger.core.planner import Planner
from gluetrigger.tooling.backfill import BackfillError, Progress, Summary, Window, object_created_event, parse_moment
from gluetrigger.tooling.cli import main
from gluetrigger.tooling.dlq import NO_REASON, letter_of, reasons_table
from gluetrigger.tooling.local.function import HANDLER_ENV

ROOT = Path(__file__).parents[2]
EXAMPLE_CONFIG = str(ROOT / "triggers.yaml")
CONFIG = parse_config(
    {
        "triggers": [
            {
                "name": "landed",
                "source": {"type": "s3", "bucket": "bkt", "prefix": "in/"},
                "job": {"name": "j", "arguments": {"--path": "s3://${bucket}/${key}"}},
            },
            {
                "name": "content",
                "source": {"type": "s3", "bucket": "bkt", "prefix": "content/"},
                "job": {"name": "k"},
                "idempotency_key": "${bucket}/${key}@${etag}",
            },
        ]
    }
)
LISTED = {"Key": "in/a b.csv", "LastModified": datetime(2026, 3, 14, 10, 15, tzinfo=UTC), "ETag": '"abc"', "Size": 5}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def no_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No emulator to talk to: no $AWS_ENDPOINT_URL and no `gluetrigger local` recorded in a fresh temp directory."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    for name, value in HANDLER_ENV.items():  # restored afterwards: --aws sets them for the handler's service
        monkeypatch.setenv(name, value)


def test_bad_dates_and_an_unknown_trigger_are_one_line_naming_each(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["backfill", "--config", EXAMPLE_CONFIG, "--trigger", "sales-arival", "--since", "2026-13-01"]
    code, out, err = run(capsys, *argv, "--until", "soon")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "--since '2026-13-01': not an ISO 8601 date or time" in err
    assert "--until 'soon': not an ISO 8601 date or time" in err
    assert "--trigger 'sales-arival' is not in" in err
    assert "(did you mean 'sales-arrival'?)" in err


def test_only_s3_triggers_are_backfilled(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "backfill", "--config", EXAMPLE_CONFIG, "--trigger", "nightly-rollup")
    assert code == 2
    assert err == "gluetrigger: nightly-rollup is a schedule trigger; only s3 triggers are backfilled\n"


def test_since_must_come_before_until(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["backfill", "--config", EXAMPLE_CONFIG, "--trigger", "sales-arrival"]
    code, _, err = run(capsys, *argv, "--since", "2026-02-01", "--until", "2026-01-01")
    assert code == 2
    assert "--since 2026-02-01T00:00:00+00:00 is not before --until 2026-01-01T00:00:00+00:00" in err


@pytest.mark.usefixtures("no_instance")
@pytest.mark.parametrize(
    "argv",
    [
        ["backfill", "--trigger", "sales-arrival"],
        ["dlq", "list"],
        ["dlq", "show", "some-id"],
        ["dlq", "redrive", "--trigger", "partner-drop"],
    ],
)
def test_without_an_emulator_or_aws_each_command_says_how_to_get_one(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = run(capsys, *argv, "--config", EXAMPLE_CONFIG)
    assert (code, out) == (2, "")
    assert err.startswith("gluetrigger: no `gluetrigger local` is running for ")
    assert err.endswith("or pass --endpoint-url\n")


@pytest.mark.usefixtures("no_instance")
def test_against_aws_a_name_not_given_is_named_with_its_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GLUETRIGGER_DEAD_LETTER_QUEUE_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    code, _, err = run(capsys, "dlq", "list", "--aws", "--config", EXAMPLE_CONFIG)
    assert code == 2
    assert err == (
        "gluetrigger: --dlq-url is required against AWS (or set $GLUETRIGGER_DEAD_LETTER_QUEUE_URL); "
        "the stack's outputs name it\n"
    )


def test_dlq_redrive_refuses_an_unknown_trigger_with_the_nearest(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "dlq", "redrive", "--trigger", "partner-dro", "--config", EXAMPLE_CONFIG)
    assert code == 2
    assert "--trigger 'partner-dro' is not in" in err
    assert "(did you mean 'partner-drop'?)" in err


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-03-14", datetime(2026, 3, 14, tzinfo=UTC)),
        ("2026-03-14T10:00:00", datetime(2026, 3, 14, 10, tzinfo=UTC)),
        ("2026-03-14T10:00:00Z", datetime(2026, 3, 14, 10, tzinfo=UTC)),
        ("2026-03-14T11:30:00+01:00", datetime(2026, 3, 14, 10, 30, tzinfo=UTC)),
    ],
)
def test_moments_are_iso_8601_in_utc_unless_zoned(text: str, moment: datetime) -> None:
    assert parse_moment(text, "--since") == moment


def test_the_window_holds_since_but_not_until() -> None:
    since, until = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    window = Window(since, until)
    assert window.holds(since)
    assert not window.holds(until)
    assert Window().holds(until)
    with pytest.raises(BackfillError, match="is not before"):
        Window(until, until)


def test_a_backfilled_object_is_keyed_on_its_etag_and_stamped_with_its_last_modified_time() -> None:
    event = object_created_event("bkt", LISTED, "eu-west-1")
    plan = Planner(CONFIG, "landed").plan(normalize(event))
    (planned,) = plan.runs
    assert planned.idempotency_key == "landed:bkt/in/a b.csv@abc"
    assert planned.request["Arguments"]["--path"] == "s3://bkt/in/a b.csv"
    assert planned.event.event_time == LISTED["LastModified"]
    assert object_created_event("bkt", LISTED, None)["id"] == event["id"]  # the same object, the same event


def test_a_content_keyed_trigger_gives_a_backfill_and_a_live_event_the_same_key() -> None:
    listed = {**LISTED, "Key": "content/x.csv"}
    live = object_created_event("bkt", listed, "eu-west-1")
    live["id"] = "a-live-event"
    live["detail"]["object"]["sequencer"] = "0062E99A88DC407460"
    keys = {
        Planner(CONFIG, "content").plan(normalize(event)).runs[0].idempotency_key
        for event in (live, object_created_event("bkt", listed, "eu-west-1"))
    }
    assert keys == {"content:bkt/content/x.csv@abc"}


def test_the_summary_line_counts_each_outcome() -> None:
    summary = Summary(listed=5, matched=3, started=1, already=1, failed=1, runs=1)
    assert summary.line("t", dry_run=False) == (
        "backfill t: 5 listed, 3 matched: 1 started, 1 already started, 0 batched, 1 failed"
    )
    assert Summary(listed=2, matched=1, batched=1).line("t", dry_run=True) == (
        "dry run t: 2 listed, 1 matched: 0 would start, 0 already started, 1 would join a batch, 0 would be rejected"
    )


def message(body: object, **attributes: str) -> dict[str, object]:
    return {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "Body": body if isinstance(body, str) else json.dumps(body),
        "MessageAttributes": {name: {"DataType": "String", "StringValue": v} for name, v in attributes.items()},
        "Attributes": {"SentTimestamp": "1773483300000", "ApproximateReceiveCount": "2"},
    }


def test_a_handler_dead_letter_says_its_trigger_and_reason() -> None:
    letter = letter_of(
        message("{}", **{"gluetrigger-trigger": "landed", "gluetrigger-reason": "landed: EntityNotFoundException"}),
        CONFIG,
    )
    assert (letter.trigger, letter.reason, letter.function_arn) == ("landed", "landed: EntityNotFoundException", None)
    assert letter.summary()["sent"] == "2026-03-14T10:15:00+00:00"


def test_a_message_sqs_moved_belongs_to_the_one_trigger_its_body_matches() -> None:
    letter = letter_of(message(object_created_event("bkt", LISTED, "eu-west-1")), CONFIG)
    assert (letter.trigger, letter.reason) == ("landed", NO_REASON)
    assert letter_of(message("not json"), CONFIG).trigger is None


def test_an_on_failure_envelope_names_its_function_condition_and_error() -> None:
    payload = {"id": "e-1", "source": "aws.scheduler", "detail-type": "Scheduled Event"}
    envelope = {
        "version": "1.0",
        "requestContext": {
            "requestId": "q",
            "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:f:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": payload,
        "responsePayload": {"errorType": "RetryableEventError", "errorMessage": "nightly: ThrottlingException"},
    }
    letter = letter_of(message(envelope), CONFIG)
    assert letter.function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:f:$LATEST"
    assert letter.payload == payload
    assert letter.reason == "RetriesExhausted after 3 invocations: RetryableEventError: nightly: ThrottlingException"


def test_the_reasons_table_counts_messages_per_trigger_and_reason() -> None:
    letters = [
        letter_of(message("{}", **{"gluetrigger-trigger": "landed", "gluetrigger-reason": why}), CONFIG)
        for why in ("a", "a", "b")
    ]
    assert reasons_table([*letters, letter_of(message("x"), CONFIG)]) == [
        ["TRIGGER", "MESSAGES", "REASON"],
        ["(unknown)", "1", NO_REASON],
        ["landed", "2", "a"],
        ["landed", "1", "b"],
    ]


def test_runs_takes_one_place_and_a_known_trigger(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "runs", "--aws", "--endpoint-url", "http://127.0.0.1:1", "--config", EXAMPLE_CONFIG)
    assert (code, err) == (2, "gluetrigger: --aws and --endpoint-url name two places; give one\n")
    code, _, err = run(capsys, "runs", "--trigger", "sales-burts", "--config", EXAMPLE_CONFIG)
    assert code == 2
    assert "(did you mean 'sales-burst'?)" in err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_drawn_in_place_on_a_terminal_only() -> None:
    terminal, piped = Terminal(), io.StringIO()
    for stream in (terminal, piped):
        progress = Progress(stream, "t")
        progress.show(Summary(listed=1))
        progress.show(Summary(listed=2, matched=1, started=1, runs=1))
        progress.clear()
    assert piped.getvalue() == ""
    drawn = terminal.getvalue().split("\r")
    assert drawn[1:] == [
        "backfill t: 1 listed, 0 matched: 0 started, 0 already started, 0 batched, 0 failed",
        "backfill t: 2 listed, 1 matched: 1 started, 0 already started, 0 batched, 0 failed",
        "\x1b[2K",
    ]
