"""The CLI contract: output, exit codes and one-line errors of validate, render and compile."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gluetrigger import __version__
from gluetrigger.tooling.cli import main

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples" / "events"
EXAMPLE_CONFIG = str(ROOT / "triggers.yaml")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "validate", "--config", EXAMPLE_CONFIG) == (0, "5 triggers OK\n", "")


def test_version_is_the_packages(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr() == (f"gluetrigger {__version__}\n", "")


def test_validate_reports_every_problem_one_line_each(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(
        tmp_path,
        "t.yaml",
        """
triggers:
  - name: sales
    source: {type: s3, bucket: landing}
    job: {name: etl, worker_typ: G.1X, timeout: 0}
  - name: nightly
    source: {type: schedule, expression: "rate(1 hours)"}
    job: {name: roll}
""",
    )
    code, out, err = run(capsys, "validate", "--config", config)
    assert code == 1
    assert out == ""
    lines = err.splitlines()
    assert lines[0].startswith("sales: job.worker_typ: unknown field (did you mean 'worker_type'?)")
    assert lines[1] == "sales: job.timeout: must be an integer number of minutes, 1..10080 (7 days)"
    assert lines[2].startswith("nightly: source.expression: ")
    assert len(lines) == 3


def test_validate_default_path_is_cwd_triggers_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "validate")
    assert code == 1
    assert err.startswith("config: triggers.yaml: cannot read")
    (tmp_path / "triggers.yaml").write_text((ROOT / "triggers.yaml").read_text())
    assert run(capsys, "validate")[:2] == (0, "5 triggers OK\n")


def test_validate_yaml_syntax_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(tmp_path, "t.yaml", "triggers:\n  - name: [unclosed\n")
    code, _, err = run(capsys, "validate", "--config", config)
    assert code == 1
    assert len(err.splitlines()) == 1
    assert err.startswith("config: line ")


def test_validate_prints_deprecation_warnings_but_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(
        tmp_path,
        "t.yaml",
        "triggers:\n  - {name: a, source: {type: s3, bucket: bkt}, job: {name: j, allocated_capacity: 5}}\n",
    )
    code, out, err = run(capsys, "validate", "--config", config)
    assert (code, out) == (0, "1 trigger OK\n")
    assert err == "a: job.allocated_capacity: warning: is deprecated by Glue; use max_capacity instead\n"


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_render_every_example(example: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "render", "--config", EXAMPLE_CONFIG, "--event", str(EXAMPLES / example))
    assert code == 0, err
    result = json.loads(out)
    assert set(result) == {"runs", "ignored"}
    assert result["runs"] or result["ignored"]
    for item in result["runs"]:
        assert set(item) == {"trigger", "idempotency_key", "request"}
        assert item["idempotency_key"].startswith(item["trigger"] + ":")
        assert item["request"]["JobName"]


def test_render_from_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO((EXAMPLES / "eventbridge-custom-event.json").read_text()))
    code, out, _ = run(capsys, "render", "--config", EXAMPLE_CONFIG, "--event", "-")
    assert code == 0
    assert json.loads(out)["runs"][0]["trigger"] == "orders-exported"


def test_render_nothing_matches_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    event: dict[str, Any] = json.loads((EXAMPLES / "eventbridge-custom-event.json").read_text())
    event["source"] = "com.example.other"
    code, out, _ = run(
        capsys, "render", "--config", EXAMPLE_CONFIG, "--event", write(tmp_path, "e.json", json.dumps(event))
    )
    assert code == 0
    assert json.loads(out) == {
        "runs": [],
        "ignored": [
            {
                "reason": "no trigger matches event a6a2c1f3-51b0-4d1c-9a53-3bfa1c2b9e11 (Export Finished)"
                ' (orders-exported: source: "com.example.other" is not "com.example.orders")',
                "event": "event/a6a2c1f3-51b0-4d1c-9a53-3bfa1c2b9e11",
            }
        ],
    }


def test_render_schedule_with_trigger_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    event: dict[str, Any] = json.loads((EXAMPLES / "eventbridge-scheduled-event.json").read_text())
    event["resources"] = ["arn:aws:events:eu-west-1:111122223333:rule/unrelated-name"]
    path = write(tmp_path, "e.json", json.dumps(event))
    assert json.loads(run(capsys, "render", "--config", EXAMPLE_CONFIG, "--event", path)[1])["runs"] == []
    code, out, _ = run(capsys, "render", "--config", EXAMPLE_CONFIG, "--event", path, "--trigger", "nightly-rollup")
    assert code == 0
    assert json.loads(out)["runs"][0]["idempotency_key"] == "nightly-rollup:2026-11-24T01:00:00Z"


def test_render_rejection_exits_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    event: dict[str, Any] = json.loads((EXAMPLES / "eventbridge-custom-event.json").read_text())
    del event["detail"]["manifest"]
    code, out, err = run(
        capsys, "render", "--config", EXAMPLE_CONFIG, "--event", write(tmp_path, "e.json", json.dumps(event))
    )
    assert code == 1
    assert json.loads(out)["rejected"] == [
        {
            "trigger": "orders-exported",
            "reason": "variable ${event:detail.manifest} is missing or empty in "
            "event a6a2c1f3-51b0-4d1c-9a53-3bfa1c2b9e11 (Export Finished)",
            "event": "event/a6a2c1f3-51b0-4d1c-9a53-3bfa1c2b9e11",
        }
    ]
    assert err.startswith("orders-exported: variable ${event:detail.manifest} is missing")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not JSON"),
        ('{"hello": 1}', "not an event shape gluetrigger knows"),
        ("[]", "empty list"),
        ('{"Records": [{"foo": 1}]}', "is not supported"),
    ],
)
def test_render_bad_input_exits_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    code, out, err = run(capsys, "render", "--config", EXAMPLE_CONFIG, "--event", write(tmp_path, "e.json", content))
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1
    assert message in err


def test_render_missing_event_file_and_unknown_trigger_exit_two(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "render", "--config", EXAMPLE_CONFIG, "--event", "/nonexistent.json")[0] == 2
    code, _, err = run(
        capsys,
        "render",
        "--config",
        EXAMPLE_CONFIG,
        "--event",
        str(EXAMPLES / "s3-notification.json"),
        "--trigger",
        "nope",
    )
    assert code == 2
    assert "--trigger 'nope' is not in the config" in err


def test_compile_is_compact_json_for_one_trigger(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compile", "--config", EXAMPLE_CONFIG, "--trigger", "sales-arrival")
    assert code == 0
    compiled = json.loads(out)
    assert compiled["only"] == "sales-arrival"
    assert [t["name"] for t in compiled["triggers"]] == ["sales-arrival"]
    assert compiled["triggers"][0]["job"]["timeout"] == 120  # defaults are merged in
    assert out == json.dumps(compiled, separators=(",", ":"), ensure_ascii=False) + "\n"


def test_schema_prints_the_json_schema_indented_with_a_trailing_newline(capsys: pytest.CaptureFixture[str]) -> None:
    from gluetrigger.core.schema import triggers_schema

    code, out, err = run(capsys, "schema")
    assert (code, err) == (0, "")
    assert out == json.dumps(triggers_schema(), indent=2) + "\n"
    assert json.loads(out)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_output_writes_the_file_and_an_unwritable_path_exits_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "triggers.schema.json"
    assert run(capsys, "schema", "--output", str(target)) == (0, "", "")
    assert target.read_text(encoding="utf-8") == run(capsys, "schema")[1]
    missing = str(tmp_path / "no-such-dir" / "x.json")
    assert run(capsys, "schema", "--output", missing) == (
        2,
        "",
        f"gluetrigger: {missing}: cannot write: No such file or directory\n",
    )


def test_installed_entry_point_runs_without_traceback(tmp_path: Path) -> None:
    bad = write(tmp_path, "t.yaml", "triggers: [{name: x}]\n")
    result = subprocess.run(
        [sys.executable, "-m", "gluetrigger", "validate", "--config", bad],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0] == "x: source: required: a mapping with type s3, schedule or event"


def test_yaml_dates_are_read_as_the_text_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(
        tmp_path,
        "t.yaml",
        "triggers:\n"
        "  - name: dated\n"
        "    source: {type: event, pattern: {detail: {day: [2026-11-24]}}}\n"
        "    job:\n"
        "      name: etl\n"
        "      arguments: {--day: 2026-11-24}\n"
        "      execution_role_session_policy: {Version: 2012-10-17, Statement: []}\n",
    )
    assert run(capsys, "validate", "--config", config)[:2] == (0, "1 trigger OK\n")
    code, out, _ = run(capsys, "compile", "--config", config)
    job = json.loads(out)["triggers"][0]["job"]
    assert code == 0
    assert job["arguments"] == {"--day": "2026-11-24"}
    assert job["execution_role_session_policy"]["Version"] == "2012-10-17"


def test_duplicate_yaml_key_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(
        tmp_path,
        "t.yaml",
        "triggers:\n  - name: a\n    source: {type: s3, bucket: b-1}\n    job:\n      name: j\n"
        "      timeout: 10\n      timeout: 20\n",
    )
    code, _, err = run(capsys, "validate", "--config", config)
    assert code == 1
    assert err == "config: line 7: invalid YAML: found duplicate key 'timeout'\n"


def test_yaml_merge_keys_may_be_overridden(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(
        tmp_path,
        "t.yaml",
        "triggers:\n  - name: a\n    source: {type: s3, bucket: b-1}\n    job: &job {name: j, timeout: 10}\n"
        "  - name: b\n    source: {type: s3, bucket: b-2}\n    job: {<<: *job, timeout: 20}\n",
    )
    assert run(capsys, "validate", "--config", config)[:2] == (0, "2 triggers OK\n")


def test_render_eventbridge_envelope_with_a_non_string_source_exits_two(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = {"id": "1", "source": ["x"], "detail-type": "t", "time": "2026-11-24T00:00:00Z", "detail": {}}
    code, out, err = run(
        capsys, "render", "--config", EXAMPLE_CONFIG, "--event", write(tmp_path, "e.json", json.dumps(event))
    )
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert "'source' and 'detail-type' strings" in err


def test_render_jmespath_type_error_is_a_rejection(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(
        tmp_path,
        "t.yaml",
        "triggers:\n  - name: ev\n    source: {type: event, pattern: {source: [com.example.orders]}}\n"
        '    job: {name: j, arguments: {--n: "${event:length(detail.rows)}"}}\n',
    )
    code, out, err = run(
        capsys, "render", "--config", config, "--event", str(EXAMPLES / "eventbridge-custom-event.json")
    )
    assert code == 1
    assert json.loads(out)["rejected"][0]["trigger"] == "ev"
    assert err.startswith("ev: ${event:length(detail.rows)} cannot be evaluated on event ")
    assert "18342" not in err  # the event's value is not quoted


def test_yaml_text_that_yaml_would_rewrite_is_refused_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(
        tmp_path,
        "t.yaml",
        "defaults: {arguments: {--region: no}, security_configuration: Off}\n"
        "triggers:\n"
        "  - name: sales\n"
        "    description: ~\n"
        "    idempotency_key: 1_000\n"
        "    source: {type: s3, bucket: landing-bucket, prefix: 0123, suffix: 0x1F}\n"
        "    job:\n"
        "      name: 0123\n"
        "      timeout: 0\n"
        "      arguments:\n"
        "        --store_code: 0123\n"
        "        --country: NO\n"
        "        --ratio: 0.10\n"
        "        --big: 1.0e+3\n"
        "        --nothing: null\n",
    )
    code, out, err = run(capsys, "validate", "--config", config)
    quote = "in quotes to send it as written"
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"defaults: arguments.--region: YAML reads no as the boolean false; write 'no' {quote}",
        f"defaults: security_configuration: YAML reads Off as the boolean false; write 'Off' {quote}",
        f"sales: description: YAML reads ~ as null (no value); write '~' {quote}",
        f"sales: idempotency_key: YAML reads 1_000 as the number 1000; write '1_000' {quote}",
        f"sales: source.prefix: YAML reads 0123 as the number 83; write '0123' {quote}",
        f"sales: source.suffix: YAML reads 0x1F as the number 31; write '0x1F' {quote}",
        f"sales: job.name: YAML reads 0123 as the number 83; write '0123' {quote}",
        f"sales: job.arguments.--store_code: YAML reads 0123 as the number 83; write '0123' {quote}",
        f"sales: job.arguments.--country: YAML reads NO as the boolean false; write 'NO' {quote}",
        f"sales: job.arguments.--ratio: YAML reads 0.10 as the number 0.1; write '0.10' {quote}",
        f"sales: job.arguments.--big: YAML reads 1.0e+3 as the number 1000.0; write '1.0e+3' {quote}",
        f"sales: job.arguments.--nothing: YAML reads null as null (no value); write 'null' {quote}",
        # the other problems of the config come in the same run (the default, merged into the trigger, too)
        "sales: job.timeout: must be an integer number of minutes, 1..10080 (7 days)",
        "sales: job.security_configuration: must be a string of 1..255 characters",
    ]


# Plain values whose text YAML keeps: accepted, and typed fields keep their types.
UNCHANGED_PLAIN_VALUES = (
    "triggers:\n"
    "  - name: sales\n"
    "    source: {type: s3, bucket: landing-bucket, create: yes}\n"
    "    job:\n"
    "      name: etl\n"
    "      timeout: 0x10\n"
    "      job_run_queuing_enabled: on\n"
    "      arguments: {--n: 3, --flag: true, --ratio: 2.5, --code: '0123', --country: \"NO\",\n"
    "                  --big: 1e3, --y: Y}\n"
)


def test_yaml_plain_values_whose_text_is_unchanged_are_sent_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, "t.yaml", UNCHANGED_PLAIN_VALUES)
    code, out, _ = run(capsys, "compile", "--config", config)
    trigger = json.loads(out)["triggers"][0]
    assert code == 0
    assert trigger["source"]["create"] is True  # booleans and numbers keep their types
    assert (trigger["job"]["timeout"], trigger["job"]["job_run_queuing_enabled"]) == (16, True)
    # YAML 1.1 as PyYAML reads it: 1e3 (no dot) and Y are text
    written = {"--n": 3, "--flag": True, "--ratio": 2.5, "--code": "0123", "--country": "NO"}
    assert trigger["job"]["arguments"] == {**written, "--big": "1e3", "--y": "Y"}
