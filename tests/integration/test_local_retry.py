"""Retries in local mode: `gluetrigger local fail` ends a run as Glue would tell it, and the trigger retries it.

moto's runs never fail on their own, so `gluetrigger local fail TRIGGER` puts the Glue Job State
Change event of the job's newest run on the emulator's default bus; the retry rule local mode
provisioned (as the stack does) routes it to the trigger's queue, and the handler retries the run.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from gluetrigger.core.run_key import DEFAULT_RUN_KEY_ARGUMENT
from tests.integration.test_local_mode import WAIT_SECONDS, LocalProcess, serving

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.integration

JOB = "lr-exports"
CONFIG = f"""
triggers:
  - name: exports
    source:
      type: event
      pattern: {{source: [com.example.lr]}}
    job: {{name: {JOB}, arguments: {{--export: "${{event:detail.id}}"}}}}
    retry:
      max_attempts: 1
      on: [FAILED]
      delay_seconds: 0
"""


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("local-retry") / "triggers.yaml"
    path.write_text(CONFIG)
    return path


@pytest.fixture(scope="module")
def local(config_path: Path) -> Iterator[LocalProcess]:
    with serving(config_path) as running:
        yield running


def job_runs(local: LocalProcess, count: int) -> list[dict[str, Any]]:
    """The job's runs, oldest first, once there are ``count`` of them."""
    deadline = time.monotonic() + WAIT_SECONDS
    while len(found := local.client("glue").get_job_runs(JobName=JOB)["JobRuns"]) < count:
        assert time.monotonic() < deadline, f"{len(found)} runs of {JOB}, expected {count}"
        time.sleep(0.1)
    return sorted(found, key=lambda run: run["StartedOn"])


def test_fail_names_a_trigger_of_the_config(local: LocalProcess, config_path: Path) -> None:
    failed = local.cli("local", "fail", "nope", "--config", str(config_path))
    assert failed.returncode == 2
    assert "'nope' is not in" in failed.stderr
    assert "(triggers: exports)" in failed.stderr


def test_a_failed_run_is_retried_once_then_given_up(local: LocalProcess, config_path: Path) -> None:
    entry = {"Source": "com.example.lr", "DetailType": "Export Done", "Detail": json.dumps({"id": "exp-1"})}
    assert local.client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0
    [first] = job_runs(local, 1)

    failed = local.cli("local", "fail", "exports", "--config", str(config_path))

    assert failed.returncode == 0, failed.stderr
    assert failed.stdout.startswith(f"failed {first['Id']} of {JOB}: Glue Job State Change ")
    first_again, retry = job_runs(local, 2)
    assert first_again["Id"] == first["Id"]
    assert retry["PreviousRunId"] == first["Id"]
    key = first["Arguments"][DEFAULT_RUN_KEY_ARGUMENT]
    assert retry["Arguments"] == {"--export": "exp-1", DEFAULT_RUN_KEY_ARGUMENT: f"{key}-1"}
    local.wait_for_line(lambda line: f"JobRunId {retry['Id']}" in line and "Glue Job State Change" in line)

    again = local.cli("local", "fail", "exports", "--config", str(config_path))  # the retry failed too

    assert again.returncode == 0, again.stderr
    local.wait_for_line(lambda line: f"gave up after 1 retries: {first['Id']} -> {retry['Id']}" in line)
    assert len(job_runs(local, 2)) == 2
