"""app.py as `cdk synth` runs it: a bad config or setting fails with one-line messages, exit 1."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gluetrigger.core.errors import ConfigError
from gluetrigger.tooling.config_file import load_config
from tests.infra.conftest import REPO, cdk_context

pytestmark = pytest.mark.infra

INVALID = """\
triggers:
  - name: Bad_Name
    source: {type: s3, bucket: landing-bucket}
    job: {name: x, worker_typ: G.1X}
  - name: later
    source: {type: schedule, expression: "cron(0 2 * * *)"}
    job: {name: y}
"""


def run_app(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLUETRIGGER_", "CDK_"))}
    env.update(JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20", CDK_OUTDIR=str(tmp_path / "cdk.out"), **variables)
    return subprocess.run(
        [sys.executable, "app.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_an_invalid_triggers_yaml_fails_with_the_validators_lines_and_no_traceback(tmp_path: Path) -> None:
    config = tmp_path / "triggers.yaml"
    config.write_text(INVALID, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    expected = [str(problem) for problem in caught.value.problems]
    assert len(expected) >= 3  # every problem, not only the first

    result = run_app(tmp_path, GLUETRIGGER_TRIGGERS=str(config))

    assert result.returncode == 1
    assert result.stderr.splitlines() == expected
    assert result.stdout == ""
    assert list((tmp_path / "cdk.out").glob("*.template.json")) == []


def test_a_missing_config_and_a_bad_setting_fail_the_same_way(tmp_path: Path) -> None:
    result = run_app(tmp_path, GLUETRIGGER_MEMORY_MB="lots")
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["settings: memory_mb: must be an integer 128..10240 (got 'lots')"]

    result = run_app(tmp_path, GLUETRIGGER_TRIGGERS=str(tmp_path / "missing.yaml"))
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"config: {tmp_path / 'missing.yaml'}: cannot read")


def test_config_warnings_are_printed_at_synth_as_validate_prints_them(tmp_path: Path) -> None:
    config = tmp_path / "triggers.yaml"
    config.write_text(
        "triggers:\n  - name: old\n    source: {type: s3, bucket: landing-bucket}\n"
        "    job: {name: x, allocated_capacity: 10}\n",
        encoding="utf-8",
    )
    warnings = [str(warning) for warning in load_config(config).warnings]
    assert warnings

    result = run_app(tmp_path, GLUETRIGGER_TRIGGERS=str(config), CDK_CONTEXT_JSON=json.dumps(cdk_context()))

    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == warnings


def test_the_app_synthesizes_the_repo_config_with_cdk_nag_enabled(tmp_path: Path) -> None:
    result = run_app(tmp_path, CDK_CONTEXT_JSON=json.dumps(cdk_context()))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # The parent stack's template and each trigger group's (nested stacks).
    templates = [
        json.loads(path.read_text(encoding="utf-8")) for path in (tmp_path / "cdk.out").glob("*.template.json")
    ]
    handlers = [
        r
        for template in templates
        for r in template["Resources"].values()
        if r.get("Properties", {}).get("Handler") == "gluetrigger.handler.handler"
    ]
    assert len(handlers) == 5
    # The AwsSolutions pack runs as a validation plugin during synth; a violation would be reported here.
    report = json.loads((tmp_path / "cdk.out" / "validation-report.json").read_text(encoding="utf-8"))
    assert report["pluginReports"] == []


def test_an_unacknowledged_cdk_nag_finding_fails_synth_after_its_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import app
    import infra.trigger_function

    monkeypatch.setattr(infra.trigger_function, "acknowledge", lambda *_args, **_kwargs: None)
    monkeypatch.setenv("GLUETRIGGER_TRIGGERS", str(REPO / "triggers.yaml"))

    assert app.main() == 1
    err = capsys.readouterr().err  # the CDK's verdict, carrying cdk-nag's report
    assert "Traceback" not in err
    assert err.startswith("ValidationFailed: ERROR ")
    [where] = re.findall(r"A copy of this report can be found in: (\S+)", err)  # a temporary outdir
    report_file = Path(where)
    report = json.loads(report_file.read_text(encoding="utf-8"))
    shutil.rmtree(report_file.parent)
    [plugin] = report["pluginReports"]
    assert {v["ruleName"] for v in plugin["violations"]} == {"AwsSolutions-L1"}


def test_a_misspelt_setting_fails_synth_with_a_did_you_mean_and_no_traceback(tmp_path: Path) -> None:
    # As `cdk synth -c alarm_emial=...` passes it, next to cdk.json's feature flags.
    context = {**cdk_context(), "alarm_emial": "ops@example.com"}
    result = run_app(tmp_path, CDK_CONTEXT_JSON=json.dumps(context), GLUETRIGGER_MEMORY_M="512")
    assert result.returncode == 1
    assert [line.split("; known: ")[0] for line in result.stderr.splitlines()] == [
        "settings: alarm_emial: unknown setting (did you mean 'alarm_email'?)",
        "settings: GLUETRIGGER_MEMORY_M: unknown setting (did you mean 'GLUETRIGGER_MEMORY_MB'?)",
    ]
    assert list((tmp_path / "cdk.out").glob("*.template.json")) == []
