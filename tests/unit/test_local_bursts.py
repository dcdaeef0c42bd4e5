"""Local mode's burst rehearsal: its options, the placeholder jobs' limits, the hold-back delays, and the
console lines of held-back messages, batched files and batch runs.

The bursts themselves run end to end in tests/integration/test_local_mode.py.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gluetrigger.core.batching import ClosedBatch, batch_event, batch_variables, flush_body
from gluetrigger.core.config import parse_config
from gluetrigger.core.events import InboundEvent, normalize_message
from gluetrigger.core.planner import planned_run
from gluetrigger.runtime import outcomes as handler
from gluetrigger.runtime.backpressure import DEFERRALS_ATTRIBUTE, HoldBackPolicy
from gluetrigger.runtime.delivery import Delivery
from gluetrigger.runtime.failures import Failure
from gluetrigger.tooling.cli import main
from gluetrigger.tooling.local import bursts as bursts_module
from gluetrigger.tooling.local.bursts import Bursts, hold_back_policy, job_limits, problems
from gluetrigger.tooling.local.console import Console
from gluetrigger.tooling.local.endpoint import Endpoint
from gluetrigger.tooling.local.outcomes import Outcome, OutcomeLog, OutcomeRecorder, describe_message
from gluetrigger.tooling.local.provision import MANIFEST_BUCKET
from tests.unit.test_local_mode_parts import object_created_event_body

EXAMPLE = str(Path(__file__).parents[2] / "triggers.yaml")
CONFIG = parse_config(
    {
        "triggers": [
            {"name": "burst", "source": {"type": "s3", "bucket": "landing"}, "job": {"name": "load"}},
            {
                "name": "capped",
                "source": {"type": "s3", "bucket": "landing", "prefix": "c/"},
                "max_concurrent_runs": 2,
                "job": {"name": "load"},
            },
            {
                "name": "files",
                "source": {"type": "s3", "bucket": "landing", "prefix": "f/"},
                "batch": {"max_files": 20, "window_seconds": 2},
                "job": {"name": "load-files", "arguments": {"--manifest": "${manifest}"}},
            },
        ]
    }
)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--run-seconds", "0"], "--run-seconds 0: must be more than 0 and at most 3600"),
        (["--run-seconds", "-2"], "--run-seconds -2: must be more than 0 and at most 3600"),
        (["--run-seconds", "86400"], "--run-seconds 86400: must be more than 0 and at most 3600"),
        (["--run-seconds", "inf"], "--run-seconds inf: must be more than 0 and at most 3600"),
        (["--max-concurrent-runs", "0"], "--max-concurrent-runs 0: must be a whole number from 1 to 1000"),
        (
            ["--once", "--max-concurrent-runs", "2"],
            "--once plays the example as written: --run-seconds and --max-concurrent-runs are for `gluetrigger local` "
            "without --once",
        ),
        (
            ["--port", "-1", "--run-seconds", "0", "--max-concurrent-runs", "1001"],
            "--port -1: must be 1..65535, or 0 for a free one; --run-seconds 0: must be more than 0 and at most "
            "3600; --max-concurrent-runs 1001: must be a whole number from 1 to 1000",
        ),
    ],
)
def test_unusable_burst_options_are_one_line_and_a_usage_error(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["local", "--config", EXAMPLE, *argv]) == 2
    assert capsys.readouterr() == ("", f"gluetrigger: {expected}\n")


def test_usable_burst_options_are_accepted() -> None:
    assert problems(Bursts(run_seconds=0.5, max_concurrent_runs=1)) == []
    assert problems(Bursts(run_seconds=3600, max_concurrent_runs=1000)) == []
    assert problems(Bursts()) == []


def test_placeholder_limits_come_from_the_triggers_else_the_option() -> None:
    # A job shared by a trigger with a limit and one without takes the configured one: the handler caps each.
    assert job_limits(CONFIG, None) == {"load": 2, "load-files": None}
    assert job_limits(CONFIG, 1) == {"load": 2, "load-files": 1}


def test_hold_back_delays_scale_to_the_runs_length() -> None:
    deployed = HoldBackPolicy().base_seconds
    assert hold_back_policy(Bursts()) is None
    assert hold_back_policy(Bursts(run_seconds=0.5)) == HoldBackPolicy(base_seconds=1)
    assert hold_back_policy(Bursts(run_seconds=2.2)) == HoldBackPolicy(base_seconds=3)
    assert hold_back_policy(Bursts(run_seconds=600)) == HoldBackPolicy(base_seconds=deployed)


def test_runs_that_last_need_an_emulator_with_motos_state_manager() -> None:
    with pytest.raises(bursts_module.BurstsError) as refused:
        bursts_module.hold_runs(Endpoint("http://127.0.0.1:1"), 2)
    assert str(refused.value).startswith("--run-seconds needs moto's state manager, which http://127.0.0.1:1 does not")


def test_the_banner_says_what_the_burst_options_change() -> None:
    out = io.StringIO()
    console = Console(CONFIG, out)
    console.bursts(Bursts())
    console.bursts(Bursts(run_seconds=1.5))
    console.bursts(Bursts(run_seconds=2, max_concurrent_runs=1))
    assert out.getvalue().splitlines() == [
        "bursts: job runs last at least 1.5 s",
        "bursts: job runs last at least 2 s; placeholder jobs allow 1 run(s) at once unless their triggers set "
        "max_concurrent_runs",
    ]
    assert MANIFEST_BUCKET == "gluetrigger-local-manifests"


def file_message(key: str, message_id: str = "m1", deferrals: int = 0) -> Delivery:
    body = object_created_event_body(key)
    record: dict[str, Any] = {"messageId": message_id, "body": json.dumps(body), "attributes": {}}
    if deferrals:
        record["messageAttributes"] = {DEFERRALS_ATTRIBUTE: {"stringValue": str(deferrals), "dataType": "Number"}}
    return Delivery.message(record)


def lines(trigger: str, *outcomes: handler.Outcome) -> list[str]:
    """The console lines (after the time) for what ``trigger``'s function observed."""
    log, out = OutcomeLog(), io.StringIO()
    console = Console(CONFIG, out)
    log.watch(console.outcome)
    recorder = OutcomeRecorder(trigger, log)
    for outcome in outcomes:
        recorder.observe(outcome)
    return [line.split("  ", 1)[1] for line in out.getvalue().splitlines()]


def test_batched_files_their_duplicates_and_a_batch_run_are_shown_with_their_batch() -> None:
    first, again = file_message("f/a.csv"), file_message("f/a.csv", "m2")
    resumed = file_message("f/a.csv", "m3", deferrals=1)  # a held-back copy finding its file batched
    closed = ClosedBatch(
        "files", 4, 20, datetime(2026, 11, 24, 9, 20, tzinfo=UTC), datetime(2026, 11, 24, 9, 21, tzinfo=UTC)
    )
    trigger = CONFIG.trigger("files")
    run = planned_run(trigger, batch_event(closed), batch_variables(closed, "s3://m/files/x.json"))

    assert lines(
        "files",
        handler.FileBatched(first, "files", seq=4, slot=20),
        handler.FileBatched(again, "files", seq=4, slot=20, duplicate=True),
        handler.FileBatched(resumed, "files", seq=4, slot=20, duplicate=True),
        handler.RunStarted(first, run, "jr_9"),
    ) == [
        "files     batched    s3://landing/f/a.csv -> batch 4, file 20",
        "files     duplicate suppressed: s3://landing/f/a.csv (already in batch 4)",
        f"files     started    batch {closed.batch_id} of files (20 files) -> JobRunId jr_9",
    ]


def test_a_message_waiting_for_capacity_is_one_held_back_line_not_an_error() -> None:
    message = file_message("x.csv")
    [event] = normalize_message(message.body(), "m1")
    assert isinstance(event, InboundEvent)
    planned = planned_run(CONFIG.trigger("burst"), event, {})
    full = Failure("ConcurrentRunsExceededException", "too many", retryable=True, capacity=True)
    held = handler.MessageHeldBack(
        message, 4, 2, datetime(2026, 11, 24, tzinfo=UTC), ("ConcurrentRunsExceededException",)
    )
    broken = Failure("BatchContention", "3 claims lost", retryable=True, from_glue=False)

    assert lines(
        "burst",
        handler.RunFailed(message, planned, full),
        held,
        handler.HoldBackRefused(message, "AccessDenied: no"),
        handler.BatchingFailed(message, "burst", broken),
    ) == [
        "burst     held back  s3://landing/x.csv: waits for Glue capacity (ConcurrentRunsExceededException): "
        "back in 4 s, hold-back 2",
        "burst     error: s3://landing/x.csv: could not be held back: AccessDenied: no",
        "burst     error: s3://landing/x.csv: BatchContention: 3 claims lost",
    ]


def test_a_flush_message_is_described_as_its_batchs_flush() -> None:
    assert describe_message(flush_body("files", 7), "m1") == "the window's flush of batch 7 of files"
    assert describe_message("{not json", "m1") == "message m1"


def test_held_back_and_batched_outcomes_count_in_their_own_columns() -> None:
    log = OutcomeLog()
    for message_id in ("m1", "m2"):
        log.add(Outcome("t", "held back", "s3://b/k", reason="waits", message_id=message_id))
    log.add(Outcome("t", "batched", "s3://b/k", reason="batch 1, file 1", message_id="m3"))
    assert log.counts() == {"t": {"held back": 2, "batched": 1}}
