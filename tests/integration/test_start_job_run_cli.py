"""``gluetrigger start-job-run`` against the real AWS CLI: the same options send the same request and print the same.

Each option set runs twice against the emulator, through the recording proxy: once with
``aws glue start-job-run`` (the AWS CLI v1 pinned in requirements-dev.txt, in the project's
virtualenv after ``make install``; ``$GLUETRIGGER_AWS_CLI`` names another executable), once with
``gluetrigger start-job-run``. The recorded requests (X-Amz-Target and the parsed JSON body) must
be equal, and so must stdout, once the run ids Glue made up are masked (they differ per run, and
have the same length, so tables keep their widths). The AWS CLI v1 has json, text and table output
and ``--cli-input-json``; YAML output and ``--cli-input-yaml`` are v2's and covered by unit tests.

Then the additions: ``--idempotency-key`` pressed twice starts one run and prints its id twice, a
start whose answer is lost is found by its run key instead of being started again, ``--dry-run``
sends nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gluetrigger.core.run_key import DEFAULT_RUN_KEY_ARGUMENT, run_key

from .conftest import TABLE, Emulator
from .fault_proxy import Fault

pytestmark = pytest.mark.integration

START = "AWSGlue.StartJobRun"
JOB = "it-sales-etl"
AWS_CLI_ENV = "GLUETRIGGER_AWS_CLI"
RUN_ID = re.compile(r"jr_[0-9a-f]{64}")
LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
GLUETRIGGER = [sys.executable, "-c", "import sys; from gluetrigger.tooling.cli import main; sys.exit(main())"]
POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'

# Option sets both CLIs take alike; {input} is a --cli-input-json file written by the test.
OPTION_SETS: dict[str, list[str]] = {
    "job name only": [],
    "shorthand arguments": ["--arguments=--day=2026-11-25,--note=a b"],
    "json arguments": ['--arguments={"--day": "2026-11-25", "--note": "x, y"}'],
    "quoted shorthand": ["--arguments=--note='a,b',--path=\"s3://b/k\""],
    "shorthand notification": ["--notification-property", "NotifyDelayAfter=5"],
    "json notification": ["--notification-property", '{"NotifyDelayAfter": 7}'],
    "workers": ["--worker-type", "G.1X", "--number-of-workers", "2", "--execution-class", "FLEX"],
    "capacity and timeout": ["--max-capacity", "2", "--timeout", "60", "--security-configuration", "it-sc"],
    "queuing on": ["--job-run-queuing-enabled"],
    "queuing off": ["--no-job-run-queuing-enabled"],
    "session policy": ["--execution-role-session-policy", POLICY],
    "cli input with overrides": ["--cli-input-json", "file://{input}", "--timeout", "15"],
    "text": ["--output", "text"],
    "table": ["--output", "table"],
    "query": ["--query", "JobRunId"],
    "query text": ["--query", "JobRunId", "--output", "text"],
    "query object table": ["--query", "{id: JobRunId}", "--output", "table"],
    "query list table": ["--query", "[JobRunId, JobRunId]", "--output", "table"],
    "query nothing": ["--query", "Missing"],
    "nested query table": ["--query", "{a: {b: JobRunId, c: [JobRunId]}, d: `x`}", "--output", "table"],
    "nested query text": ["--query", "{a: {b: JobRunId, c: [JobRunId]}, d: `x`}", "--output", "text"],
    "objects query table": ["--query", "[{a: JobRunId}, {a: `1`, b: `2`}]", "--output", "table"],
    "objects query text": ["--query", "[{a: JobRunId}, {a: `1`, b: `2`}]", "--output", "text"],
    "narrow table": ["--query", "{a: `1`, b: `2`}", "--output", "table"],
    "coloured table": ["--output", "table", "--color", "on"],
    "coloured nested table": ["--output", "table", "--color", "on", "--query", "{a: {b: JobRunId}}"],
    "arguments from a file": ["--arguments", "file://{arguments}"],
    "retry of a run": ["--job-run-id", "jr_previous", "--allocated-capacity", "3"],
    "global options": ["--region", "eu-west-1", "--no-paginate", "--no-verify-ssl", "--cli-read-timeout", "30"],
    "debug": ["--debug", "--cli-connect-timeout", "0"],
}
CLI_INPUT = {
    "JobName": JOB,
    "Timeout": 30,
    "Arguments": {"--from-input": "1"},
    "WorkerType": "G.2X",
    "NumberOfWorkers": 3,
}


@pytest.fixture(scope="module")
def aws_cli() -> str:
    """The AWS CLI to compare with; the test fails, never skips, without it."""
    path = os.environ.get(AWS_CLI_ENV) or str(Path(sys.executable).with_name("aws"))
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"the AWS CLI is not at {path}: run `make install` (requirements-dev.txt pins awscli), "
            f"or set {AWS_CLI_ENV} to an aws executable"
        )
    return path


def run(command: list[str], emulator: Emulator, *options: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(LAMBDAS), "AWS_PAGER": ""}
    return subprocess.run(
        [*command, "--endpoint-url", emulator.proxy.url, *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def sent(emulator: Emulator) -> list[tuple[str, Any]]:
    """Every request the proxy recorded since its last reset: (X-Amz-Target, parsed body)."""
    return [(record.target, record.json()) for record in emulator.proxy.records()]


def sent_bytes(emulator: Emulator) -> list[tuple[str, bytes]]:
    """Every request recorded since the last reset, its body byte for byte (members in the order sent)."""
    return [(record.target, record.body) for record in emulator.proxy.records()]


def both(aws_cli: str, emulator: Emulator, *options: str) -> list[tuple[subprocess.CompletedProcess[str], Any]]:
    """The AWS CLI's and gluetrigger's result for the same options, each with the requests it sent, as bytes."""
    results = []
    for command in ([aws_cli, "glue", "start-job-run"], [*GLUETRIGGER, "start-job-run"]):
        emulator.proxy.reset()
        results.append((run(command, emulator, *options), sent_bytes(emulator)))
    return results


def masked(stdout: str) -> str:
    return RUN_ID.sub("jr_" + "0" * 64, stdout)


# Unhappy paths first.


def test_a_service_error_reads_as_the_aws_clis_and_exits_254(aws_cli: str, aws: Emulator) -> None:
    (theirs, their_requests), (ours, our_requests) = both(aws_cli, aws, "--job-name", "it-missing-job")

    assert our_requests == their_requests
    assert theirs.returncode != 0
    assert ours.returncode == 254
    assert ours.stderr.strip() == theirs.stderr.strip()
    assert "An error occurred (EntityNotFoundException) when calling the StartJobRun operation" in ours.stderr
    assert ours.stdout == theirs.stdout == ""


def test_a_value_the_rules_refuse_exits_252_and_sends_nothing(aws: Emulator) -> None:
    result = run([*GLUETRIGGER, "start-job-run"], aws, "--job-name", JOB, "--timeout", "20000", "--worker-type", "G.1X")

    assert result.returncode == 252
    assert "--timeout: must be an integer number of minutes, 1..10080 (7 days)" in result.stderr
    assert "--number-of-workers: worker_type and number_of_workers go together" in result.stderr
    assert sent(aws) == []


def test_an_idempotency_table_that_cannot_be_written_exits_255_and_starts_nothing(aws: Emulator) -> None:
    result = run(
        [*GLUETRIGGER, "start-job-run"],
        aws,
        "--job-name",
        JOB,
        "--idempotency-key",
        "k",
        "--idempotency-table",
        "no-such-table",
    )

    assert result.returncode == 255
    assert result.stderr.startswith("IdempotencyPersistenceLayerError: Failed to save in progress record")
    assert "(ResourceNotFoundException) when calling the PutItem operation" in result.stderr
    assert aws.job_runs(JOB) == []


def test_a_start_with_the_same_key_still_in_progress_exits_255_and_starts_nothing(aws: Emulator) -> None:
    options = ["--job-name", JOB, "--idempotency-key", "busy"]
    assert run([*GLUETRIGGER, "start-job-run"], aws, *options).returncode == 0
    [record] = aws.idempotency_records()
    in_an_hour = str(int((time.time() + 3600) * 1000))
    aws.client("dynamodb").update_item(
        TableName=TABLE,
        Key={"id": record["id"]},
        UpdateExpression="SET #s = :s, in_progress_expiration = :e",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "INPROGRESS"}, ":e": {"N": in_an_hour}},
    )

    result = run([*GLUETRIGGER, "start-job-run"], aws, *options)

    assert result.returncode == 255
    assert result.stderr == (
        "IdempotencyAlreadyInProgressError: another start with this --idempotency-key is in progress; "
        "retry once it has finished\n"
    )
    assert len(aws.job_runs(JOB)) == 1


@pytest.mark.parametrize("name", list(OPTION_SETS))
def test_the_same_options_send_the_same_request_and_print_the_same(
    name: str, aws_cli: str, aws: Emulator, tmp_path: Path
) -> None:
    cli_input = tmp_path / "input.json"
    cli_input.write_text(json.dumps(CLI_INPUT))
    arguments = tmp_path / "arguments.json"
    arguments.write_text('{"--from-file": "1", "--note": "a b"}')
    options = [
        option.replace("{input}", str(cli_input)).replace("{arguments}", str(arguments)) for option in OPTION_SETS[name]
    ]

    (theirs, their_requests), (ours, our_requests) = both(aws_cli, aws, "--job-name", JOB, *options)

    assert theirs.returncode == 0, theirs.stderr
    assert ours.returncode == 0, ours.stderr
    assert [target for target, _ in our_requests] == [START]
    assert our_requests == their_requests
    assert masked(ours.stdout) == masked(theirs.stdout)
    printed = RUN_ID.findall(ours.stdout)
    started = {run["Id"] for run in aws.job_runs(JOB)}
    assert set(printed) <= started


def test_the_skeletons_match_and_send_nothing(aws_cli: str, aws: Emulator) -> None:
    (their_input, their_requests), (our_input, our_requests) = both(aws_cli, aws, "--generate-cli-skeleton")
    (their_output, _), (our_output, _) = both(aws_cli, aws, "--job-name", JOB, "--generate-cli-skeleton", "output")

    assert their_requests == our_requests == []
    theirs, ours = json.loads(their_input.stdout), json.loads(our_input.stdout)
    assert list(ours) == list(theirs)
    # An enum member shows one of its values, picked at random by both.
    enums = {"WorkerType", "ExecutionClass"}
    assert {k: v for k, v in ours.items() if k not in enums} == {k: v for k, v in theirs.items() if k not in enums}
    assert our_output.stdout == their_output.stdout == '{\n    "JobRunId": "JobRunId"\n}\n'
    assert our_input.returncode == our_output.returncode == 0


def test_an_idempotency_key_pressed_twice_starts_one_run_and_prints_its_id_twice(aws: Emulator) -> None:
    options = ["--job-name", JOB, "--arguments=--day=2026-11-25", "--idempotency-key", "backfill-2026-11-25"]

    first = run([*GLUETRIGGER, "start-job-run"], aws, *options)
    second = run([*GLUETRIGGER, "start-job-run"], aws, *options)
    other = run([*GLUETRIGGER, "start-job-run"], aws, *options[:-1], "backfill-2026-11-26")

    assert first.returncode == second.returncode == other.returncode == 0, first.stderr + second.stderr
    assert first.stdout == second.stdout
    assert json.loads(first.stdout)["JobRunId"] != json.loads(other.stdout)["JobRunId"]
    runs = aws.job_runs(JOB)
    assert len(runs) == 2
    [run_of_first] = [r for r in runs if r["Id"] == json.loads(first.stdout)["JobRunId"]]
    assert run_of_first["Arguments"] == {
        "--day": "2026-11-25",
        DEFAULT_RUN_KEY_ARGUMENT: run_key("backfill-2026-11-25"),
    }
    assert [target for target, _ in sent(aws)].count(START) == 2
    assert all(item["id"]["S"].startswith("gluetrigger#_manual#") for item in aws.idempotency_records())


def test_a_start_whose_answer_is_lost_is_adopted_by_its_run_key_not_started_again(aws: Emulator) -> None:
    # The first StartJobRun reaches Glue and starts the run; its answer never comes back.
    aws.proxy.inject(START, Fault(drop=True, forward=True, times=1))

    result = run([*GLUETRIGGER, "start-job-run"], aws, "--job-name", JOB, "--idempotency-key", "lost-answer")

    assert result.returncode == 0, result.stderr
    [only_run] = aws.job_runs(JOB)
    assert json.loads(result.stdout) == {"JobRunId": only_run["Id"]}
    assert only_run["Arguments"] == {DEFAULT_RUN_KEY_ARGUMENT: run_key("lost-answer")}
    assert aws.proxy.count(START) == 1
    assert aws.proxy.count("AWSGlue.GetJobRuns") >= 1


def test_dry_run_prints_the_request_and_sends_nothing(aws: Emulator) -> None:
    result = run(
        [*GLUETRIGGER, "start-job-run"],
        aws,
        "--job-name",
        JOB,
        "--arguments=--day=2026-11-25",
        "--idempotency-key",
        "k",
        "--dry-run",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "JobName": JOB,
        "Arguments": {"--day": "2026-11-25", DEFAULT_RUN_KEY_ARGUMENT: run_key("k")},
    }
    assert sent(aws) == []
    assert aws.job_runs(JOB) == []
