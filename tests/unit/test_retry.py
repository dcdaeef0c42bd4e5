"""Retry triggers: the ``retry`` block, state events, what a failed run becomes, what is logged and counted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from gluetrigger.core.config import parse_config
from gluetrigger.core.errors import ConfigError
from gluetrigger.core.events import normalize
from gluetrigger.core.model import Retry
from gluetrigger.core.planner import Planner, planned_run
from gluetrigger.core.retry import (
    FailedRun,
    PlannedRetry,
    RetryLimitReached,
    plan_retry,
    state_change,
    state_change_pattern,
)
from gluetrigger.runtime.delivery import Delivery
from gluetrigger.runtime.logs import LogObserver
from gluetrigger.runtime.outcomes import RetriesExhausted, RetryDelayed, RunRetried
from gluetrigger.runtime.telemetry import Tally
from gluetrigger.tooling.config_file import load_config

RUN_ID = "jr_" + "a" * 64
EXAMPLE = Path(__file__).parents[2] / "examples" / "events" / "glue-job-state-change.json"


def trigger_doc(name: str = "landing", retry: Any = None, **job: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": name,
        "source": {"type": "s3", "bucket": "landing-bucket"},
        "job": {"name": "load", "arguments": {"--key": "${key}"}, **job},
    }
    if retry is not None:
        doc["retry"] = retry
    return doc


def problems(*triggers: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config({"triggers": list(triggers)})
    return [str(problem) for problem in caught.value.problems]


def state_event(state: str = "FAILED", job: str = "load", run_id: str = RUN_ID) -> dict[str, Any]:
    """A Glue Job State Change as EventBridge delivers it: the repository's example, with our run."""
    event: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    event["detail"].update(jobName=job, state=state, jobRunId=run_id)
    return event


def retry_trigger(**retry: Any) -> Any:
    return parse_config({"triggers": [trigger_doc(retry={"max_attempts": 2, **retry})]}).triggers[0]


def failed_run(**retry: Any) -> FailedRun:
    trigger = retry_trigger(**retry)
    plan = Planner(parse_config({"triggers": [trigger_doc(retry={"max_attempts": 2, **retry})]})).plan(
        normalize(state_event())
    )
    assert [f.trigger.name for f in plan.retries] == [trigger.name]
    return plan.retries[0]


# -- the retry block ------------------------------------------------------------------------------


def test_every_problem_of_the_retry_block_is_named_at_once() -> None:
    found = problems(trigger_doc(retry={"max_attempts": 0, "on": ["STOPPED"], "delay_seconds": 901, "attempts": 2}))
    assert found == [
        "landing: retry.attempts: unknown field (did you mean 'max_attempts'?); "
        "allowed: max_attempts, on, delay_seconds",
        "landing: retry.max_attempts: must be a whole number of retries from 1 to 10",
        "landing: retry.delay_seconds: must be a whole number of seconds from 0 to 900",
        "landing: retry.on: must be a non-empty list of FAILED, TIMEOUT, ERROR (got ['STOPPED'])",
    ]


@pytest.mark.parametrize(
    ("retry", "field"),
    [
        ("3", "retry"),
        ({}, "retry.max_attempts: required"),
        ({"max_attempts": 11}, "retry.max_attempts"),
        ({"max_attempts": True}, "retry.max_attempts"),
        ({"max_attempts": 2, "delay_seconds": -1}, "retry.delay_seconds"),
        ({"max_attempts": 2, "on": []}, "retry.on"),
        ({"max_attempts": 2, "on": "FAILED"}, "retry.on"),
    ],
)
def test_a_wrong_retry_value_is_refused_naming_its_field(retry: Any, field: str) -> None:
    found = problems(trigger_doc(retry=retry))
    assert len(found) == 1
    assert found[0].startswith(f"landing: {field}: ")


def test_a_retry_trigger_needs_its_run_key() -> None:
    found = problems(trigger_doc(retry={"max_attempts": 2}, run_key_argument=False))
    assert found == ["landing: retry: needs the run key to know its runs: turn job.run_key_argument on"]


def test_a_retry_trigger_must_tell_its_runs_from_another_triggers_of_the_same_job() -> None:
    found = problems(trigger_doc(retry={"max_attempts": 2}), trigger_doc("other"))
    assert found == [
        "landing: retry: trigger other also starts job load with run-key argument --gluetrigger-run-key, so their "
        "failed runs cannot be told apart: give one of them its own job.run_key_argument"
    ]
    # Its own run-key argument tells them apart.
    config = parse_config(
        {"triggers": [trigger_doc(retry={"max_attempts": 2}), trigger_doc("other", run_key_argument="--other-key")]}
    )
    assert config.triggers[0].retry == Retry(max_attempts=2)


def test_the_retry_block_defaults_to_every_failure_state_a_minute_later() -> None:
    assert retry_trigger().retry == Retry(max_attempts=2, on=("FAILED", "TIMEOUT", "ERROR"), delay_seconds=60)
    assert retry_trigger(on=["TIMEOUT", "TIMEOUT"], delay_seconds=0).retry == Retry(2, ("TIMEOUT",), 0)


def test_the_state_change_pattern_names_the_job_and_the_states() -> None:
    assert state_change_pattern(retry_trigger(on=["FAILED"])) == {
        "source": ["aws.glue"],
        "detail-type": ["Glue Job State Change"],
        "detail": {"jobName": ["load"], "state": ["FAILED"]},
    }


# -- state events ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"source": "aws.s3"},
        {"detail-type": "Glue Job Run Status"},
        {"detail": {"jobName": "load", "state": "FAILED"}},
        {"detail": {"jobName": "load", "state": "FAILED", "jobRunId": 7}},
        {"detail": "FAILED"},
    ],
)
def test_an_event_that_is_no_run_state_change_is_not_read_as_one(change: dict[str, Any]) -> None:
    [event] = normalize({**state_event(), **change})
    assert state_change(event) is None  # type: ignore[arg-type]


def test_a_state_not_in_on_is_ignored_with_the_reason() -> None:
    config = parse_config({"triggers": [trigger_doc(retry={"max_attempts": 2, "on": ["TIMEOUT"]})]})
    plan = Planner(config).plan(normalize(state_event("FAILED")))
    assert plan.retries == []
    assert [skip.reason for skip in plan.ignored] == [
        f"landing: run {RUN_ID} of job load (FAILED) is not a state its retry.on lists"
    ]


def test_another_jobs_state_change_is_no_trigger_s() -> None:
    config = parse_config({"triggers": [trigger_doc(retry={"max_attempts": 2})]})
    plan = Planner(config).plan(normalize(state_event(job="other-job")))
    assert plan.retries == []
    assert len(plan.ignored) == 1
    assert plan.ignored[0].reason.startswith("no trigger matches event abcdef00")


def test_a_trigger_without_retry_ignores_state_changes_of_its_job() -> None:
    config = parse_config({"triggers": [trigger_doc()]})
    plan = Planner(config).plan(normalize(state_event()))
    assert plan.retries == []
    assert plan.ignored[0].reason.startswith("no trigger matches")


# -- what a failed run becomes --------------------------------------------------------------------


def test_a_run_without_the_run_key_is_not_the_triggers() -> None:
    failed = failed_run()
    reason = plan_retry(failed, {"--key": "in/a.csv"})
    assert reason == f"run {RUN_ID} of job load (FAILED) carries no run key of trigger landing: it did not start it"
    assert isinstance(plan_retry(failed, {"--gluetrigger-run-key": "not-a-run-key"}), str)


def test_the_first_retry_keeps_the_arguments_and_takes_the_first_attempts_key() -> None:
    failed = failed_run()
    first = "0123456789abcdef0123456789abcdef"
    retry = plan_retry(failed, {"--key": "in/a.csv", "--gluetrigger-run-key": first})
    assert isinstance(retry, PlannedRetry)
    assert (retry.attempt, retry.max_attempts, retry.delay_seconds) == (1, 2, 60)
    assert retry.run.request == {
        "JobName": "load",
        "JobRunId": RUN_ID,
        "Arguments": {"--key": "in/a.csv", "--gluetrigger-run-key": f"{first}-1"},
    }
    assert retry.run.run_key == f"{first}-1"
    # The failed run keys the retry: the same state event twice is one retry.
    assert retry.run.idempotency_key == f"landing:retry:{RUN_ID}"


def test_a_retry_is_retried_with_the_next_attempts_key_until_max_attempts() -> None:
    failed = failed_run()
    first = "0123456789abcdef0123456789abcdef"
    second = plan_retry(failed, {"--gluetrigger-run-key": f"{first}-1"})
    assert isinstance(second, PlannedRetry)
    assert (second.attempt, second.run.run_key) == (2, f"{first}-2")
    assert plan_retry(failed, {"--gluetrigger-run-key": f"{first}-2"}) == RetryLimitReached(failed, 2)


def test_the_retry_sends_the_triggers_own_settings() -> None:
    config = parse_config(
        {"triggers": [trigger_doc(retry={"max_attempts": 1}, worker_type="G.1X", number_of_workers=4, timeout=30)]}
    )
    [failed] = Planner(config).plan(normalize(state_event())).retries
    retry = plan_retry(failed, {"--gluetrigger-run-key": "0" * 32})
    assert isinstance(retry, PlannedRetry)
    assert retry.run.request["WorkerType"] == "G.1X"
    assert retry.run.request["NumberOfWorkers"] == 4
    assert retry.run.request["Timeout"] == 30


def test_the_first_run_key_is_the_planned_runs() -> None:
    """A retry recognises what the planner tagged: the planned run's run key has the retry key's form."""
    config = parse_config({"triggers": [trigger_doc(retry={"max_attempts": 1})]})
    [failed] = Planner(config).plan(normalize(state_event())).retries
    run = planned_run(config.triggers[0], failed.event, {"key": "in/a.csv"})
    assert run.run_key is not None
    retry = plan_retry(failed, run.request["Arguments"])
    assert isinstance(retry, PlannedRetry)
    assert retry.run.run_key == f"{run.run_key}-1"


def test_on_is_a_key_in_triggers_yaml_not_yaml_1_1s_true(tmp_path: Path) -> None:
    path = tmp_path / "triggers.yaml"
    path.write_text(
        "triggers:\n"
        "  - name: landing\n"
        "    source: {type: s3, bucket: landing-bucket}\n"
        "    job: {name: load}\n"
        "    retry:\n"
        "      max_attempts: 2\n"
        "      on: [TIMEOUT]\n",
        encoding="utf-8",
    )
    assert load_config(path).triggers[0].retry == Retry(max_attempts=2, on=("TIMEOUT",))


def test_render_shows_the_failed_runs_a_plan_would_retry() -> None:
    config = parse_config({"triggers": [trigger_doc(retry={"max_attempts": 1})]})
    assert Planner(config).plan(normalize(state_event())).to_json() == {
        "runs": [],
        "ignored": [],
        "retries": [{"trigger": "landing", "failed_run": f"run {RUN_ID} of job load (FAILED)"}],
    }


# -- what is logged and counted -------------------------------------------------------------------

RETRY_LOGGER = "gluetrigger-retry-unit"


def retry_outcomes() -> list[Any]:
    delivery = Delivery.message({"messageId": "m1", "body": "{}"})
    chain = (RUN_ID, "jr_retry1")
    return [
        RetryDelayed(delivery, "landing", RUN_ID, 60),
        RunRetried(delivery, "landing", 1, 2, chain),
        RunRetried(delivery, "landing", 1, 2, chain, duplicate=True),
        RetriesExhausted(delivery, "landing", 2, (RUN_ID, "jr_retry1", "jr_retry2")),
    ]


def test_retries_are_logged_with_their_chain_of_run_ids(caplog: pytest.LogCaptureFixture) -> None:
    observer = LogObserver(Logger(service=RETRY_LOGGER))
    for outcome in retry_outcomes():
        observer.observe(outcome)

    lines = [
        (r.levelname, r.getMessage(), r.__dict__.get("run_chain"), r.__dict__.get("JobRunId"))
        for r in caplog.records
        if r.name == RETRY_LOGGER
    ]
    assert lines == [
        ("INFO", "failed job run's retry delayed", None, None),
        ("INFO", "failed job run retried", [RUN_ID, "jr_retry1"], "jr_retry1"),
        ("INFO", "failed job run already retried by an earlier delivery", [RUN_ID, "jr_retry1"], None),
        ("WARNING", "failed job run not retried: gave up after 2 retries", [RUN_ID, "jr_retry1", "jr_retry2"], None),
    ]


def test_retries_started_now_and_given_up_are_counted() -> None:
    tally = Tally.of(retry_outcomes())
    assert (tally.counters()["RunsRetried"], tally.counters()["RetriesExhausted"]) == (1, 1)
