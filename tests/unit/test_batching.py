"""Batch triggers in the pure core: the ``batch`` block, its variables, ids, manifests, slots and flushes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gluetrigger.core.batching import (
    BatchFlush,
    Claim,
    ClosedBatch,
    Head,
    batch_event,
    batch_id,
    batch_variables,
    claim_slot,
    file_digest,
    file_record,
    flush_body,
    flush_delay_seconds,
    manifest_body,
    manifest_location,
    read_flush,
)
from gluetrigger.core.config import parse_config
from gluetrigger.core.errors import ConfigError, EventShapeError
from gluetrigger.core.events import S3Object, normalize
from gluetrigger.core.model import Batch
from gluetrigger.core.planner import Planner, planned_run

OPENED = datetime(2026, 3, 14, 10, 15, 0, 250000, tzinfo=UTC)


def document(batch: Any = None, **job: Any) -> dict[str, Any]:
    trigger: dict[str, Any] = {
        "name": "landing",
        "source": {"type": "s3", "bucket": "landing-bucket", "prefix": "in/"},
        "job": {"name": "load", "arguments": {"--manifest": "${manifest}"}, **job},
    }
    if batch is not None:
        trigger["batch"] = batch
    return {"triggers": [trigger]}


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    return [str(problem) for problem in caught.value.problems]


def s3_event(key: str, sequencer: str = "0A1") -> Any:
    record = {
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "eventTime": "2026-03-14T10:15:01.000Z",
        "awsRegion": "eu-west-1",
        "s3": {
            "bucket": {"name": "landing-bucket"},
            "object": {"key": key, "size": 5, "eTag": "abc", "sequencer": sequencer},
        },
    }
    [event] = normalize({"Records": [record]})
    return event


# -- the batch block ------------------------------------------------------------------------


def test_every_problem_of_a_batch_block_is_named_at_once() -> None:
    data = document({"max_files": 0, "window_seconds": 901, "manifest_location": "bucket/x", "max_file": 3})

    assert problems(data) == [
        "landing: batch.max_file: unknown field (did you mean 'max_files'?); allowed: max_files, window_seconds, "
        "manifest_location",
        "landing: batch.max_files: must be a whole number from 1 to 10000",
        "landing: batch.window_seconds: must be a whole number from 1 to 900",
        "landing: batch.manifest_location: must be s3://bucket/ or s3://bucket/prefix/ (a valid bucket name)",
    ]


@pytest.mark.parametrize("value", [True, 1.5, "100", 10_001])
def test_max_files_must_be_a_whole_number_in_range(value: object) -> None:
    assert problems(document({"max_files": value})) == [
        "landing: batch.max_files: must be a whole number from 1 to 10000"
    ]


@pytest.mark.parametrize("location", ["s3://Bad_Bucket/", "s3://bucket/prefix", "s3://bucket//", "s3:/b/", 5])
def test_a_manifest_location_must_be_a_bucket_and_a_folder(location: object) -> None:
    assert problems(document({"manifest_location": location})) == [
        "landing: batch.manifest_location: must be s3://bucket/ or s3://bucket/prefix/ (a valid bucket name)"
    ]


@pytest.mark.parametrize(
    ("location", "bucket", "prefix"),
    [
        (None, None, ""),
        ("s3://manifests", "manifests", ""),
        ("s3://manifests/", "manifests", ""),
        ("s3://manifests/a/b/", "manifests", "a/b/"),
    ],
)
def test_a_batch_block_reads_its_limits_and_location(location: str | None, bucket: str | None, prefix: str) -> None:
    block: dict[str, Any] = {"max_files": 5, "window_seconds": 900}
    if location is not None:
        block["manifest_location"] = location
    [trigger] = parse_config(document(block)).triggers

    assert trigger.batch == Batch(max_files=5, window_seconds=900, manifest_bucket=bucket, manifest_prefix=prefix)


def test_an_empty_batch_block_takes_the_defaults() -> None:
    assert parse_config(document({})).triggers[0].batch == Batch(max_files=100, window_seconds=60)


def test_only_an_s3_trigger_batches() -> None:
    data = document({})
    data["triggers"][0]["source"] = {"type": "schedule", "expression": "rate(1 hour)"}

    assert problems(data) == ["landing: batch: only an s3 trigger gathers files into batches, not a schedule trigger"]


def test_a_batch_must_be_a_mapping() -> None:
    assert problems(document([1])) == [
        "landing: batch: must be a mapping with max_files, window_seconds, manifest_location"
    ]


def test_a_batch_trigger_has_no_idempotency_key() -> None:
    data = document({})
    data["triggers"][0]["idempotency_key"] = "${batch_id}"

    assert problems(data) == [
        "landing: idempotency_key: a batch trigger's run is keyed by its batch id: remove idempotency_key"
    ]


# -- variables ------------------------------------------------------------------------------


def test_each_use_of_a_per_file_variable_in_a_batch_trigger_is_one_line() -> None:
    data = document({}, arguments={"--key": "${key}", "--both": "${bucket}/${etag}", "--detail": "${event:detail}"})
    data["triggers"][0]["source"]["key_pattern"] = "^in/(?P<day>[^/]+)/"
    data["triggers"][0]["job"]["job_run_id"] = "${day}"

    found = problems(data)

    per_file = "describes one file, and a batch trigger's run covers many: read them from ${manifest}; available: "
    offered = "account, batch_id, event_id, event_time, file_count, manifest, region, trigger"
    assert found == [
        f"landing: job.arguments.--key: variable ${{key}} {per_file}{offered}",
        f"landing: job.arguments.--both: variable ${{bucket}} {per_file}{offered}",
        f"landing: job.arguments.--both: variable ${{etag}} {per_file}{offered}",
        "landing: job.arguments.--detail: ${event:detail} reads one file's event, and a batch trigger's run covers "
        "many: read them from ${manifest}",
        f"landing: job.job_run_id: variable ${{day}} {per_file}{offered}",
    ]


@pytest.mark.parametrize("name", ["manifest", "file_count", "batch_id"])
def test_the_batch_variables_are_refused_outside_a_batch_trigger(name: str) -> None:
    found = problems(document(None, arguments={"--x": f"${{{name}}}"}))

    assert len(found) == 1
    assert found[0].startswith(
        f"landing: job.arguments.--x: variable ${{{name}}} is provided only by a trigger with batch"
    )


def test_a_batch_trigger_uses_the_batch_and_common_variables() -> None:
    arguments = {"--m": "${manifest}", "--n": "${file_count}", "--id": "${batch_id}", "--t": "${trigger}@${event_time}"}
    [trigger] = parse_config(document({}, arguments=arguments)).triggers

    assert set(trigger.job.arguments) == set(arguments)


# -- ids, manifests, slots ------------------------------------------------------------------


def test_a_batch_id_is_its_opening_second_and_number() -> None:
    assert batch_id(OPENED, 42) == "20260314T101500Z-000042"
    assert batch_id(OPENED.astimezone(ZoneInfo("Europe/Paris")), 7) == "20260314T101500Z-000007"


def test_a_file_is_known_by_bucket_key_version_and_sequencer() -> None:
    first = S3Object("b", "k", 1, "e", None, "01")
    assert file_digest(first) == file_digest(S3Object("b", "k", 99, "other", None, "01"))
    assert (
        len(
            {
                file_digest(first),
                file_digest(S3Object("b", "k", 1, "e", None, "02")),
                file_digest(S3Object("b", "k", 1, "e", "v1", "01")),
                file_digest(S3Object("b", "k2", 1, "e", None, "01")),
            }
        )
        == 4
    )


def test_a_manifest_lists_the_files_in_slot_order_the_same_bytes_every_time() -> None:
    files = [file_record(s3_event("in/b.csv", "02")), file_record(s3_event("in/a.csv", "01"))]

    body = manifest_body("landing", "20260314T101500Z-000001", files)

    assert body == manifest_body("landing", "20260314T101500Z-000001", [dict(reversed(f.items())) for f in files])
    assert json.loads(body) == {
        "trigger": "landing",
        "batch_id": "20260314T101500Z-000001",
        "files": [
            {
                "bucket": "landing-bucket",
                "key": "in/b.csv",
                "size": 5,
                "etag": "abc",
                "version_id": None,
                "sequencer": "02",
                "event_time": "2026-03-14T10:15:01Z",
            },
            {
                "bucket": "landing-bucket",
                "key": "in/a.csv",
                "size": 5,
                "etag": "abc",
                "version_id": None,
                "sequencer": "01",
                "event_time": "2026-03-14T10:15:01Z",
            },
        ],
    }


def test_a_manifest_goes_to_the_configured_location_or_the_stack_bucket() -> None:
    own = Batch(manifest_bucket="mine", manifest_prefix="m/")
    assert manifest_location(own, "stack-bucket", "landing", "X") == ("mine", "m/landing/X.json")
    assert manifest_location(Batch(), "stack-bucket", "landing", "X") == ("stack-bucket", "landing/X.json")
    with pytest.raises(ValueError, match="landing: no manifest location"):
        manifest_location(Batch(), None, "landing", "X")


def test_the_first_slot_opens_a_batch_and_the_last_closes_it() -> None:
    assert claim_slot(Head(seq=3, count=0), 3) == Claim(3, 1, opens=True, closes=False)
    assert claim_slot(Head(seq=3, count=2), 3).closes
    one = claim_slot(Head(seq=1, count=0), 1)
    assert one.opens and one.closes


def test_a_flush_waits_for_the_rest_of_the_window() -> None:
    head = Head(opened_at=OPENED)
    assert flush_delay_seconds(head, 60, OPENED) == 60
    assert flush_delay_seconds(head, 60, OPENED + timedelta(seconds=10.5)) == 50
    assert flush_delay_seconds(head, 60, OPENED + timedelta(minutes=5)) == 0
    assert flush_delay_seconds(Head(), 60, OPENED) == 60


def test_a_flush_message_reads_back_and_a_broken_one_is_refused() -> None:
    assert read_flush(json.loads(flush_body("landing", 4))) == BatchFlush("landing", 4)
    assert read_flush({"Records": []}) is None
    for broken in (
        {"gluetrigger-batch-flush": {"trigger": "t", "batch": 0}},
        {"gluetrigger-batch-flush": {"trigger": "t", "batch": True}},
        {"gluetrigger-batch-flush": "t"},
        {"gluetrigger-batch-flush": {"trigger": "t", "batch": 1}, "more": 1},
    ):
        with pytest.raises(EventShapeError, match="a batch flush must be"):
            read_flush(broken)


# -- planning -------------------------------------------------------------------------------


def test_a_batch_trigger_plans_no_run_per_file_but_batches_it() -> None:
    config = parse_config(document({}))

    plan = Planner(config).plan([s3_event("in/a.csv")])

    assert plan.runs == []
    assert [(b.trigger.name, b.event.s3.key if b.event.s3 else None) for b in plan.batched] == [("landing", "in/a.csv")]
    assert plan.to_json()["batched"] == [{"trigger": "landing", "file": "s3://landing-bucket/in/a.csv"}]


def test_a_batch_run_sees_the_batch_and_its_close_time() -> None:
    arguments = {"--m": "${manifest}", "--n": "${file_count}", "--id": "${batch_id}", "--day": "${time:%Y-%m-%d %H:%M}"}
    [trigger] = parse_config(document({}, arguments=arguments)).triggers
    closed = ClosedBatch("landing", 2, 100, OPENED, OPENED + timedelta(minutes=1), "eu-west-1", None)

    run = planned_run(trigger, batch_event(closed), batch_variables(closed, "s3://m/landing/x.json"))

    assert run.idempotency_key == "landing:batch:20260314T101500Z-000002"
    assert run.request["Arguments"] == {
        "--m": "s3://m/landing/x.json",
        "--n": "100",
        "--id": "20260314T101500Z-000002",
        "--day": "2026-03-14 10:16",
        "--gluetrigger-run-key": run.run_key,
    }
