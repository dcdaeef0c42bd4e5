"""Read what a chaos run left behind, for :mod:`tests.chaos.verdict` to judge.

Only the handler's external contract is read: the runs GetJobRuns shows (every page, from moto
directly), the DLQ's messages with their attributes, and the "event ignored" lines of the
handler's JSON log.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import TYPE_CHECKING, Any

from gluetrigger.runtime.dead_letters import REASON_ATTRIBUTE
from tests.chaos.scenario import EVENT_ARGUMENT
from tests.chaos.stack import SQS_BATCH_LIMIT, VISIBLE, count_messages
from tests.chaos.verdict import RUN_KEY_ARGUMENT, DeadLetter, Observed, Run

if TYPE_CHECKING:
    from pathlib import Path

    from tests.chaos.stack import Moto, Resources

__all__ = ["observe"]

DLQ_SPARE_RECEIVES = 5  # receives beyond what the DLQ's message count calls for, in case it grew
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def observe(moto: Moto, resources: Resources, logs: list[Path]) -> Observed:
    """The runs, the dead letters and the ignored events; the queues must have drained."""
    return Observed(
        runs=[run for job in resources.jobs for run in _runs(moto.glue, job)],
        dead_letters=_dead_letters(moto.sqs, resources.dead_letter_queue.url),
        ignored=_ignored(logs),
    )


def _runs(glue: Any, job: str) -> list[Run]:
    """Every run of ``job``, page by page, with the event it names and its run key."""
    runs = []
    for page in glue.get_paginator("get_job_runs").paginate(JobName=job):
        for job_run in page["JobRuns"]:
            arguments = job_run.get("Arguments", {})
            runs.append(Run(job_run["Id"], arguments.get(EVENT_ARGUMENT), arguments.get(RUN_KEY_ARGUMENT)))
    return runs


def _dead_letters(sqs: Any, url: str) -> list[DeadLetter]:
    """Every message in the DLQ (received, so hidden for the rest of the run), with its reason."""
    expected = count_messages(sqs, url, VISIBLE)
    letters: list[DeadLetter] = []
    for _ in range(expected // SQS_BATCH_LIMIT + DLQ_SPARE_RECEIVES):
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=SQS_BATCH_LIMIT, VisibilityTimeout=3600, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            reason = message.get("MessageAttributes", {}).get(REASON_ATTRIBUTE, {}).get("StringValue")
            letters.append(DeadLetter(_event_id(message["Body"]), reason))
    return letters


def _event_id(body: str) -> str | None:
    """The id of the event a message body carries: its ``id`` if JSON, else the first UUID in it."""
    with contextlib.suppress(ValueError):
        document = json.loads(body)
        if isinstance(document, dict) and isinstance(document.get("id"), str):
            return str(document["id"])
    found = UUID.search(body)
    return found.group(0) if found else None


def _ignored(logs: list[Path]) -> set[str]:
    """The ids of the events that an "event ignored" line of the handler's log names."""
    ids: set[str] = set()
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict) and record.get("message") == "event ignored":
                    ids.update(UUID.findall(f"{record.get('event')} {record.get('reason')}"))
    return ids
