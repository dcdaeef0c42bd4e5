"""The staged code asset: the handler package, and each function's compiled config as a file of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gluetrigger.core.config import compile_config, parse_compiled, parse_config
from infra import code_asset
from infra.code_asset import compiled_config, config_file, runtime_interpreter, stage

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


THIS_RUNTIME = f"python{sys.version_info[0]}.{sys.version_info[1]}"


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_a_runtime_that_is_not_a_python_runtime_name_is_refused() -> None:
    with pytest.raises(ValueError, match="not a Python runtime name"):
        runtime_interpreter("nodejs20.x")


def test_without_an_interpreter_of_the_runtime_the_asset_ships_source_only(tmp_path: Path) -> None:
    assert runtime_interpreter("python3.99") is None
    stage(tmp_path / "code", CONFIG, {"daily": ["daily"]}, runtime="python3.99")
    assert not [p for p in (tmp_path / "code").rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc"]


def test_with_the_runtime_s_interpreter_every_module_ships_unchecked_hash_bytecode(tmp_path: Path) -> None:
    directory = tmp_path / "code"
    stage(directory, CONFIG, {"daily": ["daily"]}, runtime=THIS_RUNTIME)
    tag = sys.implementation.cache_tag
    sources = sorted(directory.rglob("*.py"))
    assert sources
    for source in sources:
        compiled = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
        # PEP 552: the flags word after the magic number is 0b01 for hash-based, source unchecked.
        assert compiled.read_bytes()[4:8] == (1).to_bytes(4, "little"), compiled


def test_the_runtime_loads_the_shipped_bytecode_without_reading_the_source(tmp_path: Path) -> None:
    directory = tmp_path / "code"
    stage(directory, CONFIG, {"daily": ["daily"]}, runtime=THIS_RUNTIME)
    # Had the runtime compiled the source, this line would fail the import.
    with (directory / "gluetrigger" / "core" / "config.py").open("a", encoding="utf-8") as source:
        source.write("\nraise RuntimeError('the source was compiled')\n")
    probe = "import gluetrigger.core.config"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(directory), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_staged_bytes_do_not_depend_on_when_or_where_they_were_staged(tmp_path: Path) -> None:
    stage(tmp_path / "one", CONFIG, {"daily": ["daily"]}, runtime=THIS_RUNTIME)
    stage(tmp_path / "elsewhere" / "two", CONFIG, {"daily": ["daily"]}, runtime=THIS_RUNTIME)
    first, second = _files(tmp_path / "one"), _files(tmp_path / "elsewhere" / "two")
    assert any(name.endswith(".pyc") for name in first)
    assert first == second
