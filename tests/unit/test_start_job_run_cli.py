"""``gluetrigger start-job-run`` offline: parsing, shorthand, input merging, checks, skeletons, output, exit codes.

Nothing here sends a request: every case either stops before the call (usage, refused values,
skeletons, dry runs) or renders a given response. The comparison with the real AWS CLI, over
HTTP, is tests/integration/test_start_job_run_cli.py.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import jmespath
import pytest
import yaml

from gluetrigger.core.run_key import DEFAULT_RUN_KEY_ARGUMENT, run_key
from gluetrigger.tooling.cli import main as gluetrigger
from gluetrigger.tooling.start_job_run.exits import CommandFailedError, ServiceError, UsageError
from gluetrigger.tooling.start_job_run.output import render
from gluetrigger.tooling.start_job_run.shorthand import ShorthandError, load_value, parse_shorthand

RUN_ID = "jr_" + "a" * 64
JOB = ["start-job-run", "--job-name", "nightly"]


def dry_run(capsys: pytest.CaptureFixture[str], *options: str) -> dict[str, object]:
    assert gluetrigger([*JOB, "--dry-run", *options]) == 0
    request: dict[str, object] = json.loads(capsys.readouterr().out)
    return request


# Shorthand, unhappy paths first.


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a", "Expected: '=', received: 'EOF'"),
        ("a=1,a=2", 'Second instance of key "a"'),
        ('a="open', "Expected: '<quoted>'"),
        ("a=[1,2", "Expected: ','"),
    ],
)
def test_shorthand_that_does_not_parse_says_where(text: str, problem: str) -> None:
    with pytest.raises(ShorthandError, match="for input:") as caught:
        parse_shorthand(text)
    assert problem in str(caught.value)
    assert str(caught.value).splitlines()[-1].strip() == "^"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("--a=1,--b=x y", {"--a": "1", "--b": "x y"}),
        ("a=b,c", {"a": ["b", "c"]}),
        ("a=b,c,d=e", {"a": ["b", "c"], "d": "e"}),
        ("a='x,y',b=\"q\"", {"a": "x,y", "b": "q"}),
        (r"a=x\,y", {"a": "x,y"}),
        ("a=x=y", {"a": "x=y"}),
        ("a=", {"a": ""}),
        ("a=[1,2],b={c=d}", {"a": ["1", "2"], "b": {"c": "d"}}),
        ("a = 1 , b = 2 ", {"a": "1", "b": "2"}),
    ],
)
def test_shorthand_reads_as_the_aws_cli_reads_it(text: str, parsed: dict[str, object]) -> None:
    assert parse_shorthand(text) == parsed


def test_a_file_value_is_read_and_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "value.txt"
    path.write_text("from a file")
    assert load_value(f"file://{path}") == "from a file"
    assert parse_shorthand(f"k@=file://{path}") == {"k": "from a file"}
    with pytest.raises(UsageError, match="Unable to load paramfile"):
        load_value(f"file://{tmp_path / 'missing'}")


# The command line: usage errors and refused values exit 252, before any client is made.


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ([], "the following arguments are required: --job-name"),
        (["--job-name", "j", "--timeout", "abc"], "Error parsing parameter '--timeout': invalid literal for int()"),
        (["--job-name", "j", "--arguments", "a"], "Error parsing parameter '--arguments': Expected: '='"),
        (["--job-name", "j", "--arguments", "{not json"], "Error parsing parameter '--arguments'"),
        (["--job-name", "j", "--notification-property", "Foo=1"], 'Unknown parameter in NotificationProperty: "Foo"'),
        (["--job-name", "j", "--output", "xml"], "argument --output: invalid choice: 'xml'"),
        (["--job-name", "j", "--query", "[["], "Bad value for --query [[: "),
        (["--job-name", "j", "--cli-input-json", "{}", "--cli-input-yaml", "{}"], "not allowed with argument"),
        (["--job-name", "j", "--cli-input-json", "[1"], "Error parsing parameter 'cli-input-json': Invalid JSON"),
        (["--job-name", "j", "--cli-input-json", "[1]"], "the input must be an object of request members"),
        (["--job-name", "j", "--cli-input-json", '{"Nope": 1}'], 'Unknown parameter in input: "Nope"'),
        (["--job-name", "j", "--idempotency-key", " "], "--idempotency-key: must not be empty"),
        (["--job-name", "j", "--timeout", "20000"], "--timeout: must be an integer number of minutes, 1..10080"),
        (["--job-name", "j", "--worker-type", "G.1X"], "--number-of-workers: worker_type and number_of_workers go"),
        (["--job-name", "j", "--arguments=--conf=x"], "--arguments --conf: --conf is set by Glue itself"),
        (
            ["--job-name", "j", "--arguments=--db_password=x"],
            "--arguments --db_password: looks like a plaintext secret",
        ),
        (["--job-name", "j", "--notification-property", "NotifyDelayAfter=0"], "valid min value: 1"),
        (["--job-name", "j*", "--timeout", "5"], "--job-name: contains '*' or '?'"),
        (["--job-name", "j", "--execution-role-session-policy", "{}"], "must be an IAM policy with Version"),
        (
            ["--job-name", "j", '--arguments={"--gluetrigger-run-key": "x"}', "--idempotency-key", "k"],
            "--idempotency-key: --gluetrigger-run-key is also set in arguments",
        ),
    ],
)
def test_a_usage_error_or_refused_value_exits_252_and_says_why(
    options: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gluetrigger(["start-job-run", "--dry-run", *options]) == 252
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_every_refused_value_is_reported_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert gluetrigger([*JOB, "--dry-run", "--timeout", "0", "--number-of-workers", "0"]) == 252
    assert capsys.readouterr().err.splitlines() == [
        "Parameter validation failed:",
        "Invalid value for parameter Timeout, value: 0, valid min value: 1",
        "--timeout: must be an integer number of minutes, 1..10080 (7 days)",
        "--number-of-workers: must be a positive integer, at most 2147483647",
        "--worker-type: worker_type and number_of_workers go together: set both or neither",
    ]


def test_an_unknown_profile_exits_253(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    assert gluetrigger([*JOB, "--profile", "nobody"]) == 253
    assert "The config profile (nobody) could not be found" in capsys.readouterr().err


def test_no_region_exits_253(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    assert gluetrigger(JOB) == 253
    assert "You must specify a region" in capsys.readouterr().err


def test_no_credentials_exit_253_before_anything_is_sent(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # Port 9 (discard) on the loopback: credentials are looked for before any connection is made.
    assert gluetrigger([*JOB, "--region", "eu-west-1", "--endpoint-url", "http://127.0.0.1:9"]) == 253
    assert capsys.readouterr().err == (
        'Unable to locate credentials. You can configure credentials by running "aws configure".\n'
    )


def test_an_idempotency_key_without_a_table_exits_253(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GLUETRIGGER_IDEMPOTENCY_TABLE", raising=False)
    assert gluetrigger([*JOB, "--region", "eu-west-1", "--idempotency-key", "k"]) == 253
    assert "--idempotency-table or $GLUETRIGGER_IDEMPOTENCY_TABLE" in capsys.readouterr().err


def test_ctrl_c_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("gluetrigger.tooling.start_job_run.command.parse", interrupted)
    assert gluetrigger(JOB) == 130


def test_a_service_error_is_worded_as_the_aws_clis() -> None:
    error = ServiceError("EntityNotFoundException", "Job nightly not found.")
    assert error.exit_code == 254
    assert str(error) == (
        "An error occurred (EntityNotFoundException) when calling the StartJobRun operation: Job nightly not found."
    )


# The request: as the AWS CLI builds it.


def test_options_become_members_in_the_models_order_typed(capsys: pytest.CaptureFixture[str]) -> None:
    request = dry_run(
        capsys,
        "--execution-class",
        "FLEX",
        "--number-of-workers",
        "2",
        "--worker-type",
        "G.1X",
        "--notification-property",
        "NotifyDelayAfter=5",
        "--timeout",
        "30",
        "--arguments=--day=2026-11-25,--note=a b",
        "--no-job-run-queuing-enabled",
    )
    assert list(request.items()) == [
        ("JobName", "nightly"),
        ("JobRunQueuingEnabled", False),
        ("Arguments", {"--day": "2026-11-25", "--note": "a b"}),
        ("Timeout", 30),
        ("NotificationProperty", {"NotifyDelayAfter": 5}),
        ("WorkerType", "G.1X"),
        ("NumberOfWorkers", 2),
        ("ExecutionClass", "FLEX"),
    ]


def test_the_command_line_overrides_the_input_and_the_inputs_other_members_follow(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "input.json"
    path.write_text(json.dumps({"Timeout": 30, "JobName": "from-input", "MaxCapacity": 2.0}))
    request = dry_run(capsys, "--cli-input-json", f"file://{path}", "--timeout", "15")
    assert list(request.items()) == [("JobName", "nightly"), ("Timeout", 15), ("MaxCapacity", 2.0)]


def test_yaml_input_is_read_like_json_input(capsys: pytest.CaptureFixture[str]) -> None:
    request = dry_run(capsys, "--cli-input-yaml", "Arguments:\n  --day: '2026-11-25'\nTimeout: 10\n")
    assert request == {"JobName": "nightly", "Arguments": {"--day": "2026-11-25"}, "Timeout": 10}


def test_a_deprecated_member_is_sent_with_a_warning(capsys: pytest.CaptureFixture[str]) -> None:
    assert gluetrigger([*JOB, "--dry-run", "--allocated-capacity", "5"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["AllocatedCapacity"] == 5
    assert "warning: --allocated-capacity: is deprecated by Glue" in captured.err


def test_an_idempotency_key_adds_the_run_key_as_the_triggers_do(capsys: pytest.CaptureFixture[str]) -> None:
    request = dry_run(capsys, "--arguments=--day=1", "--idempotency-key", "rerun-42")
    assert request["Arguments"] == {"--day": "1", DEFAULT_RUN_KEY_ARGUMENT: run_key("rerun-42")}


# Skeletons and output.


def test_the_input_skeleton_lists_every_member_and_its_yaml_form_is_the_same(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert gluetrigger(["start-job-run", "--generate-cli-skeleton"]) == 0
    as_json = json.loads(capsys.readouterr().out)
    assert gluetrigger(["start-job-run", "--generate-cli-skeleton", "yaml-input"]) == 0
    yaml_text = capsys.readouterr().out
    as_yaml = yaml.safe_load(yaml_text)
    assert list(as_json) == list(as_yaml)
    assert "JobName: ''  # [REQUIRED] The name of the job definition to use.\n" in yaml_text
    assert "Valid values are: FLEX, STANDARD." in yaml_text
    assert "Arguments:  # The job arguments associated with this run.\n  KeyName: ''\n" in yaml_text
    assert as_json["JobName"] == "" and as_json["NotificationProperty"] == {"NotifyDelayAfter": 0}
    assert "ExecutionRoleSessionPolicy" in as_json


RESPONSE = {"JobRunId": RUN_ID, "ResponseMetadata": {"RequestId": "r"}}


@pytest.mark.parametrize(
    ("output", "query", "printed"),
    [
        ("json", None, f'{{\n    "JobRunId": "{RUN_ID}"\n}}\n'),
        ("json", "JobRunId", f'"{RUN_ID}"\n'),
        ("json", "Missing", "null\n"),
        ("text", None, f"{RUN_ID}\n"),
        ("text", "Missing", "None\n"),
        ("text", "[JobRunId, JobRunId]", f"{RUN_ID}\t{RUN_ID}\n"),
        ("yaml", None, f"JobRunId: {RUN_ID}\n"),
        ("yaml", "JobRunId", f'"{RUN_ID}"\n'),
        ("yaml", "Missing", "null\n"),
        ("yaml", "[JobRunId]", f"- {RUN_ID}\n"),
        ("yaml-stream", None, f"- JobRunId: {RUN_ID}\n"),
        ("yaml-stream", "JobRunId", f"- {RUN_ID}\n"),
        ("table", "JobRunId", "-------------\n|StartJobRun|\n+-----------+\n"),
        ("table", "Missing", ""),
    ],
)
def test_the_response_prints_as_the_aws_cli_prints_it(output: str, query: str | None, printed: str) -> None:
    compiled = None if query is None else jmespath.compile(query)
    assert render(dict(RESPONSE), output, compiled) == printed


def test_a_wide_table_turns_vertical_as_the_aws_clis_does() -> None:
    table = render(dict(RESPONSE), "table", jmespath.compile("{a: JobRunId, b: JobRunId}"))
    assert table.splitlines()[3:5] == [f"|  a|  {RUN_ID}   |", f"|  b|  {RUN_ID}   |"]


def test_a_table_of_rows_of_different_widths_fails_as_the_aws_clis_does() -> None:
    with pytest.raises(CommandFailedError, match="Row should have 1 elements, instead it has 2") as caught:
        render(dict(RESPONSE), "table", jmespath.compile("[[JobRunId], [JobRunId, JobRunId]]"))
    assert caught.value.exit_code == 255


def test_nested_members_print_on_lines_of_their_own_in_text() -> None:
    query = jmespath.compile("{a: {b: JobRunId, c: [JobRunId]}, d: 'x'}")
    assert render(dict(RESPONSE), "text", query) == f"x\nA\t{RUN_ID}\nC\t{RUN_ID}\n"


def test_text_stdout_cannot_encode_is_escaped_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stdout)
    assert gluetrigger([*JOB, "--dry-run", "--arguments=--city=Zürich"]) == 0
    stdout.flush()
    assert json.loads(stdout.buffer.getvalue())["Arguments"] == {"--city": "Zürich"}  # type: ignore[attr-defined]
