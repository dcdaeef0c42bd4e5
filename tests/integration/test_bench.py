"""The bench's sections keep working: each handler it compares starts a run, and AWS answered in-process suffices.

``make bench`` takes minutes, so it is not run here; its parts are, at their smallest: one
interleaved cold-start round of the three handlers from the staged asset against moto's server
(each must start its run: a handler that fails would be timed on its failure path), and the
CPU section's two handlers over a few events with every AWS call answered in-process (a call
the responder does not know fails the section, so a new call in the handler is noticed here).
"""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from bench.coldstart import cold_starts, prepare_account
from bench.common import HANDLERS, JOB, stage_asset
from bench.run import in_process

from .conftest import Emulator

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def asset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stage_asset(tmp_path_factory.mktemp("bench") / "asset")


def test_one_cold_start_round_starts_a_run_per_handler(aws: Emulator, asset: Path) -> None:
    prepare_account(aws.url)
    figures = cold_starts(asset, aws.url, rounds=1)
    glue = boto3.client("glue", endpoint_url=aws.url, region_name="us-east-1")
    runs = glue.get_job_runs(JobName=JOB)["JobRuns"]
    assert sorted(figures) == sorted(HANDLERS)
    assert all(summary["n"] == 1 and summary["median"] > 0 for summary in figures.values())
    assert len(runs) == len(HANDLERS)


def test_the_cpu_section_runs_both_handlers_with_aws_answered_in_process(asset: Path) -> None:
    figures = in_process(asset, "cpu", "1", "3")
    assert sorted(figures) == ["gluetrigger", "powertools"]
    assert all(summary["n"] == 1 and summary["median"] > 0 for summary in figures.values())
