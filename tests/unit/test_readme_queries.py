"""The README's Logs Insights queries against the log lines the handler really writes.

A query over a field the handler does not write, or a value it never logs (a message reworded, an
outcome renamed), finds nothing and says nothing: these tests fail instead. The lines are the
handler's own log observer's, through a Powertools logger, for one S3 file's every fate.
"""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from gluetrigger.core.config import parse_config
from gluetrigger.core.events import normalize_message
from gluetrigger.core.planner import Planner, Rejection
from gluetrigger.runtime.delivery import Delivery
from gluetrigger.runtime.failures import Failure
from gluetrigger.runtime.logs import LogObserver
from gluetrigger.runtime.outcomes import (
    DeadLettered,
    EventIgnored,
    MessageHeldBack,
    Outcome,
    RunDuplicate,
    RunFailed,
    RunStarted,
    Settlement,
)

ROOT = Path(__file__).parents[2]
SECTION = "### Seeing it once deployed"
TRIGGER = "sales-arrival"
BUCKET, KEY = "landing-bucket", "sales/2026-11-24.csv"
CONFIG = parse_config(
    {
        "triggers": [
            {"name": TRIGGER, "source": {"type": "s3", "bucket": BUCKET, "prefix": "sales/"}, "job": {"name": "etl"}}
        ]
    }
)
# Words of the query language, not fields: commands, operators, functions, sort orders.
KEYWORDS = frozenset(
    {"fields", "filter", "sort", "stats", "by", "as", "and", "or", "not", "like", "in", "asc", "desc", "count", "limit"}
)
FIELD = re.compile(r"(?<![\w@.])[A-Za-z_][\w.]*")
STRING = re.compile(r'"[^"]*"')
COMPARISON = re.compile(r'([A-Za-z_][\w.]*)\s*=\s*"([^"]*)"')
ALIAS = re.compile(r"\bas\s+(\w+)")


def readme_queries() -> list[str]:
    """The ``logs-insights`` blocks of the README's section on seeing a deployment."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(SECTION, 1)[1].split("\n### ", 1)[0]
    return re.findall(r"```logs-insights\n(.*?)```", section, flags=re.DOTALL)


def s3_body(key: str) -> str:
    """An S3 notification (EventBridge delivers the same fields) for one object."""
    document = json.loads((ROOT / "examples" / "events" / "s3-notification.json").read_text(encoding="utf-8"))
    [record, *_] = document["Records"]
    record["s3"]["bucket"]["name"] = BUCKET
    record["s3"]["object"]["key"] = key
    return json.dumps({"Records": [record]})


def outcomes() -> list[Outcome]:
    """A file's every fate: started, found started, not started, held back, dead-lettered; another ignored."""
    delivery = Delivery.message({"messageId": "m1", "body": s3_body(KEY), "eventSourceARN": "arn:q"})
    [run] = Planner(CONFIG).plan(normalize_message(delivery.body(), "m1")).runs
    other = Delivery.message({"messageId": "m2", "body": s3_body("other/x.csv"), "eventSourceARN": "arn:q"})
    [skip] = Planner(CONFIG).plan(normalize_message(other.body(), "m2")).ignored
    refused = Failure("EntityNotFoundException", "no such job", retryable=False)
    busy = Failure("ConcurrentRunsExceededException", "busy", retryable=True, capacity=True)
    rejected = Rejection(TRIGGER, "variable ${day} is missing", f"s3://{BUCKET}/{KEY}", "m1")
    return [
        RunStarted(delivery, run, "jr_1"),
        RunDuplicate(delivery, run, "jr_1"),
        RunFailed(delivery, run, refused),
        RunFailed(delivery, run, busy),
        MessageHeldBack(delivery, 60, 1, datetime(2026, 11, 24, tzinfo=UTC), ("ConcurrentRunsExceededException",)),
        Settlement(delivery, rejected=(rejected,)),
        DeadLettered(delivery, f"{TRIGGER}: EntityNotFoundException: no such job", TRIGGER),
        EventIgnored(other, skip),
    ]


@pytest.fixture(scope="module")
def log_lines() -> list[dict[str, Any]]:
    """The JSON lines the handler's log observer writes for :func:`outcomes`, as Lambda would store them."""
    stream = io.StringIO()
    logger = Logger(service=TRIGGER, logger_handler=logging.StreamHandler(stream), level="INFO")
    observer = LogObserver(logger)
    for outcome in outcomes():
        observer.observe(outcome)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def fields_of(query: str) -> set[str]:
    """The fields a query reads: its identifiers (bare or in backticks), less strings, keywords, ``@`` fields
    and its own aliases."""
    text = STRING.sub(" ", query).replace("`", "")
    aliases = set(ALIAS.findall(text))
    return {name for name in FIELD.findall(text) if name.lower() not in KEYWORDS and name not in aliases}


def test_the_readme_has_the_queries_operators_need() -> None:
    queries = readme_queries()

    assert len(queries) == 5
    assert all(fields_of(query) for query in queries)


def test_the_log_lines_cover_every_fate_of_a_file(log_lines: list[dict[str, Any]]) -> None:
    assert {line["message"] for line in log_lines} >= {
        "job run started",
        "job run already started by an earlier delivery",
        "job run not started",
        "event dead-lettered",
        "event ignored",
    }
    assert {line["service"] for line in log_lines} == {TRIGGER}


@pytest.mark.parametrize("query", readme_queries(), ids=lambda query: query.splitlines()[0][:50])
def test_every_field_a_readme_query_reads_is_one_the_handler_writes(
    query: str, log_lines: list[dict[str, Any]]
) -> None:
    written = {key for line in log_lines for key in line}

    assert fields_of(query) - written == set()


@pytest.mark.parametrize("query", readme_queries(), ids=lambda query: query.splitlines()[0][:50])
def test_every_value_a_readme_query_compares_with_is_one_the_handler_logs(
    query: str, log_lines: list[dict[str, Any]]
) -> None:
    # "<...>" is a placeholder the reader fills in from an earlier query's result.
    compared = [(field, value) for field, value in COMPARISON.findall(query) if not value.startswith("<")]

    missing = [(f, v) for f, v in compared if not any(line.get(f) == v for line in log_lines)]
    assert missing == []


def test_the_checks_fail_on_a_field_or_a_value_the_handler_does_not_write(log_lines: list[dict[str, Any]]) -> None:
    written = {key for line in log_lines for key in line}
    query = 'fields @timestamp, job_run_id | filter outcome = "succeeded" | stats count(*) as n by trigger'

    assert fields_of(query) - written == {"job_run_id"}
    assert not any(line.get("outcome") == "succeeded" for line in log_lines)
