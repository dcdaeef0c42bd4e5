"""End to end: ``gluetrigger backfill`` and ``gluetrigger dlq`` against a running ``gluetrigger local``.

One local-mode process serves the module, as in test_local_mode. Files that "landed before their
trigger existed" are uploaded while the trigger's rule has no target, so S3's events reach no
queue; the backfill then starts them. What counts is what GetJobRuns shows, and what the DLQ holds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gluetrigger.core.naming import schedule_resource_name
from gluetrigger.tooling.local.provision import DEAD_LETTER_QUEUE, IDEMPOTENCY_TABLE, RESOURCE_PREFIX
from tests.integration.test_local_mode import REPO, LocalProcess, serving

pytestmark = pytest.mark.integration

BUCKET = "op-landing"
CONFIG = f"""
triggers:
  - name: landed                       # its files landed before it existed: no live events
    source: {{type: s3, bucket: {BUCKET}, prefix: in/, suffix: .csv,
             key_pattern: '^in/(?P<day>\\d{{4}}-\\d{{2}}-\\d{{2}})/'}}
    job: {{name: op-landed, arguments: {{--path: "s3://${{bucket}}/${{key}}", --day: "${{day}}"}}}}
  - name: content                      # live, keyed on the content: a backfill computes the same key
    source: {{type: s3, bucket: {BUCKET}, prefix: content/}}
    job: {{name: op-content, arguments: {{--key: "${{key}}"}}}}
    idempotency_key: "${{bucket}}/${{key}}@${{etag}}"
  - name: grouped                      # a batch trigger without live events
    source: {{type: s3, bucket: {BUCKET}, prefix: grouped/}}
    batch: {{max_files: 3, window_seconds: 2}}
    job: {{name: op-grouped, arguments: {{--manifest: "${{manifest}}", --count: "${{file_count}}"}}}}
  - name: fragile                      # live; its job is deleted to make its events fail for good
    source: {{type: s3, bucket: {BUCKET}, prefix: fragile/}}
    job: {{name: op-fragile, arguments: {{--key: "${{key}}"}}}}
"""
NOT_LIVE = ("landed", "grouped")
WAIT_SECONDS = 20.0


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("operations") / "triggers.yaml"
    path.write_text(CONFIG)
    return path


@pytest.fixture(scope="module")
def local(config_path: Path) -> Iterator[LocalProcess]:
    with serving(config_path) as running:
        events = running.client("events")
        for trigger in NOT_LIVE:  # as if the trigger did not exist yet: S3's events reach no queue
            events.remove_targets(Rule=schedule_resource_name(RESOURCE_PREFIX, trigger), Ids=["queue"])
        yield running


def gluetrigger(local: LocalProcess, config_path: Path, *args: str) -> tuple[int, str, str]:
    done = local.cli(*args, "--config", str(config_path))
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr


def put(local: LocalProcess, *keys: str) -> None:
    for key in keys:
        local.client("s3").put_object(Bucket=BUCKET, Key=key, Body=key.encode())


def runs_with(local: LocalProcess, job: str, argument: str, value: str) -> list[dict[str, Any]]:
    pages = local.client("glue").get_paginator("get_job_runs").paginate(JobName=job)
    return [run for page in pages for run in page["JobRuns"] if run.get("Arguments", {}).get(argument) == value]


def wait_until(done: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not done():
        assert time.monotonic() < deadline, f"{what} within {WAIT_SECONDS} s"
        time.sleep(0.2)


def test_backfill_twice_starts_each_matching_object_once(local: LocalProcess, config_path: Path) -> None:
    matching = ["in/2026-01-01/a.csv", "in/2026-01-02/b b.csv"]
    put(local, *matching, "in/undated/c.csv", "in/2026-01-01/d.txt", "elsewhere/2026-01-01/e.csv")
    time.sleep(1)
    for key in matching:  # no live event started them
        assert runs_with(local, "op-landed", "--path", f"s3://{BUCKET}/{key}") == []

    code, out, err = gluetrigger(local, config_path, "backfill", "--trigger", "landed", "--dry-run")
    assert code == 0, err
    for key in matching:
        assert f"would start s3://{BUCKET}/{key} (run key " in out
    assert "c.csv" not in out
    assert "d.txt" not in out
    assert "e.csv" not in out
    assert runs_with(local, "op-landed", "--path", f"s3://{BUCKET}/{matching[0]}") == []

    code, out, err = gluetrigger(local, config_path, "backfill", "--trigger", "landed")
    assert code == 0, err
    assert "2 started, 0 already started, 0 batched, 0 failed" in out
    code, again, err = gluetrigger(local, config_path, "backfill", "--trigger", "landed")
    assert code == 0, err
    assert "0 started, 2 already started, 0 batched, 0 failed" in again
    code, out, err = gluetrigger(local, config_path, "backfill", "--trigger", "landed", "--dry-run")
    assert code == 0, err
    assert f"already started s3://{BUCKET}/{matching[0]} (run key " in out

    for key, day in zip(matching, ["2026-01-01", "2026-01-02"], strict=True):
        (run,) = runs_with(local, "op-landed", "--path", f"s3://{BUCKET}/{key}")
        assert run["Arguments"]["--day"] == day


def test_since_and_until_keep_the_objects_modified_in_between(local: LocalProcess, config_path: Path) -> None:
    before = datetime.now(UTC) - timedelta(seconds=2)
    put(local, "in/2026-02-01/window.csv")
    after = datetime.now(UTC) + timedelta(seconds=2)
    wanted = f"s3://{BUCKET}/in/2026-02-01/window.csv"

    def dry_run(*dates: str) -> str:
        code, out, err = gluetrigger(local, config_path, "backfill", "--trigger", "landed", "--dry-run", *dates)
        assert code == 0, err
        return out

    assert wanted in dry_run("--since", before.isoformat(), "--until", after.isoformat())
    assert wanted not in dry_run("--since", after.isoformat())
    assert wanted not in dry_run("--until", before.isoformat())
    code, _, err = gluetrigger(local, config_path, "backfill", "--trigger", "landed", "--since", "yesterday")
    assert code == 2
    assert "--since 'yesterday': not an ISO 8601 date or time" in err


def test_a_backfill_after_the_live_event_starts_nothing_new_when_the_key_is_the_content(
    local: LocalProcess, config_path: Path
) -> None:
    key = "content/report.csv"
    put(local, key)
    wait_until(lambda: len(runs_with(local, "op-content", "--key", key)) == 1, "the live event started its run")

    code, out, err = gluetrigger(local, config_path, "backfill", "--trigger", "content")
    assert code == 0, err
    assert "0 started, 1 already started" in out
    assert len(runs_with(local, "op-content", "--key", key)) == 1


def test_a_batch_backfill_starts_a_run_per_batch_and_twice_joins_nothing(
    local: LocalProcess, config_path: Path
) -> None:
    keys = [f"grouped/{n}.csv" for n in range(7)]
    put(local, *keys)

    code, out, err = gluetrigger(local, config_path, "backfill", "--trigger", "grouped")
    assert code == 0, err
    assert "7 batched, 0 failed, 2 runs started" in out  # the third batch starts when its window ends
    runs = lambda: local.client("glue").get_job_runs(JobName="op-grouped")["JobRuns"]  # noqa: E731
    wait_until(lambda: len(runs()) == 3, "three batch runs")
    assert sorted(run["Arguments"]["--count"] for run in runs()) == ["1", "3", "3"]
    listed = []
    for run in runs():
        bucket, key = run["Arguments"]["--manifest"].removeprefix("s3://").split("/", 1)
        manifest = json.loads(local.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
        listed += [f["key"] for f in manifest["files"]]
    assert sorted(listed) == keys

    code, again, err = gluetrigger(local, config_path, "backfill", "--trigger", "grouped")
    assert code == 0, err
    assert "0 started, 7 already started, 0 batched, 0 failed" in again
    time.sleep(3)  # a window's length: a batch the second backfill opened would have started by now
    assert len(runs()) == 3


def dlq_url(local: LocalProcess) -> str:
    return str(local.client("sqs").get_queue_url(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"])


def test_a_dead_letter_is_listed_shown_and_after_the_fix_redriven_into_a_run(
    local: LocalProcess, config_path: Path
) -> None:
    glue = local.client("glue")
    job = glue.get_job(JobName="op-fragile")["Job"]
    glue.delete_job(JobName="op-fragile")
    key = "fragile/x.csv"
    put(local, key)

    def listed() -> list[dict[str, Any]]:
        code, out, err = gluetrigger(local, config_path, "dlq", "list", "--trigger", "fragile", "--json")
        assert code == 0, err
        return list(json.loads(out))

    wait_until(lambda: len(listed()) == 1, "the event reached the DLQ")
    (letter,) = listed()
    assert letter["trigger"] == "fragile"
    assert "EntityNotFoundException" in letter["reason"]
    code, table, err = gluetrigger(local, config_path, "dlq", "list")
    assert code == 0, err
    assert table.split()[:3] == ["TRIGGER", "MESSAGES", "REASON"]
    assert any(line.split()[:2] == ["fragile", "1"] for line in table.splitlines())

    code, shown, err = gluetrigger(local, config_path, "dlq", "show", letter["id"])
    assert code == 0, err
    whole = json.loads(shown)
    assert whole["body"]["detail"]["object"]["key"] == key
    assert whole["attributes"]["gluetrigger-trigger"] == "fragile"
    assert whole["attributes"]["gluetrigger-reason"] == letter["reason"]

    glue.create_job(Name="op-fragile", Role=job["Role"], Command=job["Command"])  # the fix
    code, out, err = gluetrigger(local, config_path, "dlq", "redrive", "--trigger", "fragile")
    assert code == 0, err
    assert "redriven 1 of 1 messages" in out
    wait_until(lambda: len(runs_with(local, "op-fragile", "--key", key)) == 1, "the redriven event started its run")
    assert listed() == []
    code, out, err = gluetrigger(local, config_path, "dlq", "list", "--trigger", "fragile")
    assert (code, out) == (0, "no messages in the DLQ for fragile\n"), err
    code, out, err = gluetrigger(local, config_path, "dlq", "redrive", "--trigger", "fragile")
    assert code == 0, err
    assert out.startswith("redriven 0 of 0 messages;")


def test_a_dead_letter_of_no_known_trigger_stays_and_is_named(local: LocalProcess, config_path: Path) -> None:
    sqs = local.client("sqs")
    sent = sqs.send_message(QueueUrl=dlq_url(local), MessageBody=json.dumps({"not": "an event"}))["MessageId"]
    try:
        code, out, err = gluetrigger(local, config_path, "dlq", "redrive", "--message-id", sent)
        assert code == 1
        assert f"{sent} (unknown trigger) stays: its trigger is unknown" in err
        assert "redriven 0 of 1 messages" in out
        code, shown, err = gluetrigger(local, config_path, "dlq", "show", sent)
        assert code == 0, err
        assert json.loads(shown)["body"] == {"not": "an event"}
        code, _, err = gluetrigger(local, config_path, "dlq", "show", "no-such-id")
        assert code == 1
        assert "no message no-such-id in the DLQ" in err
    finally:
        for message in sqs.receive_message(QueueUrl=dlq_url(local), MaxNumberOfMessages=10).get("Messages", []):
            if message["MessageId"] == sent:
                sqs.delete_message(QueueUrl=dlq_url(local), ReceiptHandle=message["ReceiptHandle"])


def on_aws(local: LocalProcess, config_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """``gluetrigger ARGS --aws`` with the shell's AWS settings (and ``env``), pointed at the emulator as
    an AWS CLI user could: --aws reads nothing of local mode."""
    shell = {**os.environ, "AWS_ENDPOINT_URL": local.endpoint.url, "AWS_DEFAULT_REGION": local.endpoint.region}
    shell |= {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", **env}
    for name in ("GLUETRIGGER_IDEMPOTENCY_TABLE", "GLUETRIGGER_DEAD_LETTER_QUEUE_URL"):
        if name not in env:
            shell.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "gluetrigger", *args, "--aws", "--config", str(config_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
        env=shell,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr


def test_with_aws_the_names_come_from_the_options_or_the_handlers_variables(
    local: LocalProcess, config_path: Path
) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=2)).isoformat()
    key = "in/2026-05-01/on-aws.csv"
    put(local, key)
    backfill = ("backfill", "--trigger", "landed", "--since", since)

    code, _, err = on_aws(local, config_path, *backfill)
    assert code == 2
    assert "--idempotency-table is required against AWS (or set $GLUETRIGGER_IDEMPOTENCY_TABLE)" in err
    code, out, err = on_aws(local, config_path, *backfill, "--idempotency-table", IDEMPOTENCY_TABLE)
    assert code == 0, err
    assert "1 matched: 1 started, 0 already started" in out
    code, out, err = on_aws(local, config_path, *backfill, GLUETRIGGER_IDEMPOTENCY_TABLE=IDEMPOTENCY_TABLE)
    assert code == 0, err
    assert "1 matched: 0 started, 1 already started" in out
    assert len(runs_with(local, "op-landed", "--path", f"s3://{BUCKET}/{key}")) == 1

    code, _, err = on_aws(local, config_path, "dlq", "list")
    assert code == 2
    assert "--dlq-url is required against AWS" in err
    code, out, err = on_aws(
        local, config_path, "dlq", "list", "--json", GLUETRIGGER_DEAD_LETTER_QUEUE_URL=dlq_url(local)
    )
    assert code == 0, err
    assert isinstance(json.loads(out), list)


def test_runs_lists_a_triggers_runs_by_its_run_key_and_the_configs_jobs_with_aws(
    local: LocalProcess, config_path: Path
) -> None:
    key = "in/2026-04-01/listed.csv"
    put(local, key)
    code, _, err = gluetrigger(local, config_path, "backfill", "--trigger", "landed")
    assert code == 0, err
    local.client("glue").start_job_run(JobName="op-landed", Arguments={"--path": "started by hand"})

    code, out, err = gluetrigger(local, config_path, "runs", "--trigger", "landed", "--json")
    assert code == 0, err
    paths = [run["arguments"]["--path"] for run in json.loads(out)]
    assert f"s3://{BUCKET}/{key}" in paths
    assert "started by hand" not in paths  # it carries no run key: no trigger started it

    code, out, err = on_aws(local, config_path, "runs", "--json")
    assert code == 0, err
    jobs = {run["job"] for run in json.loads(out)}
    assert "op-landed" in jobs
    assert jobs <= {"op-landed", "op-content", "op-grouped", "op-fragile"}


def test_an_on_failure_envelope_is_redriven_by_invoking_its_function_with_the_event(
    local: LocalProcess, config_path: Path
) -> None:
    import io
    import urllib.request
    import zipfile

    # moto runs functions in Docker unless told to answer every invocation itself; so answered, any
    # invocation succeeds: this checks the call redrive makes and that the message leaves the DLQ.
    settings = json.dumps({"lambda": {"use_docker": False}}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{local.endpoint.url}/moto-api/config", data=settings), timeout=10)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = local.client("iam").create_role(RoleName="op-function", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    function = local.client("lambda").create_function(
        FunctionName="op-nightly",
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]
    scheduled = {
        "id": "s-1",
        "source": "aws.scheduler",
        "detail-type": "Scheduled Event",
        "time": "2026-03-14T02:00:00Z",
        "detail": "{}",
    }
    envelope = {
        "version": "1.0",
        "requestContext": {
            "requestId": "q-1",
            "functionArn": f"{function}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": scheduled,
        "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
        "responsePayload": {"errorType": "RetryableEventError", "errorMessage": "nightly: ThrottlingException"},
    }
    sent = local.client("sqs").send_message(QueueUrl=dlq_url(local), MessageBody=json.dumps(envelope))["MessageId"]

    code_, out, err = gluetrigger(local, config_path, "dlq", "list", "--json")
    assert code_ == 0, err
    (entry,) = [m for m in json.loads(out) if m["id"] == sent]
    assert entry["reason"] == "RetriesExhausted after 3 invocations: RetryableEventError: nightly: ThrottlingException"
    code_, out, err = gluetrigger(local, config_path, "dlq", "redrive", "--message-id", sent)
    assert code_ == 0, err
    assert "redriven 1 of 1 messages" in out
    code_, out, err = gluetrigger(local, config_path, "dlq", "list", "--json")
    assert sent not in {m["id"] for m in json.loads(out)}
