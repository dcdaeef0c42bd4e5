"""The staged code asset: the handler package, and each function's compiled config as a file of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gluetrigger.core.config import compile_config, parse_compiled, parse_config
from infra import code_asset
from infra.code_asset import compiled_config, config_file, stage

pytestmark = pytest.mark.infra

CONFIG = parse_config(
    {
        "defaults": {"arguments": {"--env": "prod"}},
        "triggers": [
            {"name": name, "source": {"type": "schedule", "expression": "rate(1 day)"}, "job": {"name": f"{name}-job"}}
            for name in ("daily", "hourly", "weekly")
        ],
    }
)


@pytest.mark.parametrize("function", ["", "../escape", "a/b", ".hidden", "x" * 129, "space d"])
def test_a_function_name_that_is_not_a_plain_file_name_is_refused(function: str) -> None:
    with pytest.raises(ValueError, match="cannot name a config file"):
        config_file(function)


def test_a_trigger_name_is_a_config_file_name() -> None:
    assert config_file("sales-arrival-2") == "gluetrigger-config/sales-arrival-2.json"


def test_a_function_serving_one_trigger_reads_what_compile_prints_for_it() -> None:
    assert compiled_config(CONFIG, ["hourly"]) == compile_config(CONFIG, only="hourly")


def test_a_function_serving_several_triggers_reads_those_triggers_alone_with_their_defaults() -> None:
    document = compiled_config(CONFIG, ["weekly", "daily"])
    config, only = parse_compiled(document)
    assert (only, [t.name for t in config.triggers]) == (None, ["daily", "weekly"])
    assert document["triggers"] == [d for d in compile_config(CONFIG)["triggers"] if d["name"] != "hourly"]
    assert all(d["job"]["arguments"] == {"--env": "prod"} for d in document["triggers"])


def test_an_unknown_trigger_is_refused() -> None:
    with pytest.raises(KeyError, match="monthly"):
        compiled_config(CONFIG, ["daily", "monthly"])


def test_staging_writes_the_package_without_tooling_and_one_file_per_function(tmp_path: Path) -> None:
    directory = tmp_path / "code"
    stage(directory, CONFIG, {"daily": ["daily"], "rest": ["hourly", "weekly"]})
    assert sorted(p.name for p in directory.iterdir()) == ["gluetrigger", "gluetrigger-config"]
    assert (directory / "gluetrigger" / "handler.py").is_file()
    assert not (directory / "gluetrigger" / "tooling").exists()
    assert not [p for p in directory.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc"]
    assert sorted(p.name for p in (directory / "gluetrigger-config").iterdir()) == ["daily.json", "rest.json"]
    daily = json.loads((directory / config_file("daily")).read_text(encoding="utf-8"))
    assert daily == compile_config(CONFIG, only="daily")


def test_build_leftovers_and_the_tooling_stay_out_wherever_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "lambdas"
    kept = ["gluetrigger/handler.py", "gluetrigger/core/tooling/kept.py", "gluetrigger/runtime/schemas/x.json"]
    left_out = [
        "gluetrigger/tooling/cli.py",
        "gluetrigger/__pycache__/handler.cpython-313.pyc",
        "gluetrigger/core/stray.pyc",
        "gluetrigger.egg-info/PKG-INFO",
    ]
    for name in kept + left_out:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text("x", encoding="utf-8")
    monkeypatch.setattr(code_asset, "LAMBDAS_DIR", source)
    stage(tmp_path / "code", CONFIG, {})
    staged = sorted(str(p.relative_to(tmp_path / "code")) for p in (tmp_path / "code").rglob("*") if p.is_file())
    assert staged == sorted(kept)


def test_staging_again_leaves_nothing_of_the_previous_config(tmp_path: Path) -> None:
    directory = tmp_path / "code"
    stage(directory, CONFIG, {"daily": ["daily"], "hourly": ["hourly"]})
    stage(directory, CONFIG, {"hourly": ["hourly"]})
    assert [p.name for p in (directory / "gluetrigger-config").iterdir()] == ["hourly.json"]
