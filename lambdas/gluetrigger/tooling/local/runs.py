"""``gluetrigger runs``: the Glue job runs an emulator holds, for checking what local mode did.

GetJobRuns is the ground truth the demo and the tests count: whatever the handler logged, a
run exists only if the emulator recorded it. ``gluetrigger local fail`` ends a run as Glue would
tell it (:func:`put_state_change`): moto's runs never fail on their own, so retries are rehearsed
by putting the Glue Job State Change event on the default bus, where a retry trigger's rule
routes it to its queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

from gluetrigger.core.errors import GlueTriggerError
from gluetrigger.core.retry import STATE_CHANGE_DETAIL_TYPE, STATE_CHANGE_SOURCE

__all__ = ["JobRun", "format_runs", "list_runs", "put_state_change"]


@dataclass(frozen=True)
class JobRun:
    job: str
    run_id: str
    state: str
    started: datetime | None
    arguments: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "id": self.run_id,
            "state": self.state,
            "started": self.started.isoformat() if self.started else None,
            "arguments": self.arguments,
        }


def list_runs(
    glue: Any, job: str | None = None, *, among: Sequence[str] | None = None, carrying: str | None = None
) -> list[JobRun]:
    """Every run of ``job`` (or of the jobs ``among``, or of every job), oldest first.

    ``carrying``: only the runs with that argument (a trigger's run-key argument: the runs gluetrigger
    started). EntityNotFoundException for an unknown ``job``; a job of ``among`` that does not exist has no runs.
    """
    if job is not None:
        glue.get_job(JobName=job)
        names = [job]
    elif among is not None:
        names = list(among)
    else:
        names = [j["Name"] for page in glue.get_paginator("get_jobs").paginate() for j in page["Jobs"]]
    runs = [run for name in names for run in _runs(glue, name, absent_ok=job is None)]
    chosen = [run for run in runs if carrying is None or carrying in run.arguments]
    return sorted(chosen, key=lambda r: (r.started.timestamp() if r.started else 0.0, r.job))


def _runs(glue: Any, name: str, *, absent_ok: bool) -> list[JobRun]:
    try:
        return [
            JobRun(
                job=name,
                run_id=run["Id"],
                state=run.get("JobRunState", "?"),
                started=run.get("StartedOn"),
                arguments=dict(run.get("Arguments", {})),
            )
            for page in glue.get_paginator("get_job_runs").paginate(JobName=name)
            for run in page["JobRuns"]
        ]
    except glue.exceptions.EntityNotFoundException:
        if absent_ok:
            return []  # a configured job not created yet, or deleted between listing and reading
        raise


def format_runs(runs: list[JobRun]) -> list[list[str]]:
    """Table rows (header first) for :func:`gluetrigger.tooling.local.console.table`."""
    rows = [["STARTED", "JOB", "STATE", "RUN ID", "ARGUMENTS"]]
    for run in runs:
        started = run.started.strftime("%Y-%m-%d %H:%M:%S") if run.started else "-"
        arguments = " ".join(f"{name}={value}" for name, value in sorted(run.arguments.items()))
        rows.append([started, run.job, run.state, run.run_id, arguments or "-"])
    return rows


def put_state_change(events: Any, run: JobRun, state: str) -> str:
    """Put on the default bus the Glue Job State Change event Glue sends when ``run`` ends in ``state``; its id."""
    detail = {
        "jobName": run.job,
        "severity": "ERROR",
        "state": state,
        "jobRunId": run.run_id,
        "message": f"JobName:{run.job} and JobRunId:{run.run_id} ended {state} (gluetrigger local fail)",
    }
    entry = {"Source": STATE_CHANGE_SOURCE, "DetailType": STATE_CHANGE_DETAIL_TYPE, "Detail": json.dumps(detail)}
    [result] = events.put_events(Entries=[entry])["Entries"]
    if "EventId" not in result:
        raise GlueTriggerError(f"PutEvents refused the event: {result.get('ErrorCode')}: {result.get('ErrorMessage')}")
    return str(result["EventId"])
