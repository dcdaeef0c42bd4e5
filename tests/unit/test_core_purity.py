"""The core stays pure: importing all of it loads neither AWS SDKs, Powertools, YAML, moto nor the CDK.

The handler, the CLI, local mode and the CDK app share the core's decisions; that only holds
while the core does no I/O of its own. Each check runs in a fresh interpreter, so modules that
another test imported cannot hide a dependency.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import gluetrigger.core

FORBIDDEN = ("boto3", "botocore", "aws_lambda_powertools", "yaml", "moto", "aws_cdk", "constructs", "jsii")
# Adapters the core must never reach back into.
ADAPTERS = ("gluetrigger.runtime", "gluetrigger.tooling", "gluetrigger.handler")

CORE_MODULES = sorted(
    info.name for info in pkgutil.walk_packages(gluetrigger.core.__path__, prefix="gluetrigger.core.")
)


def loaded_after_importing(modules: list[str]) -> list[str]:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def offending(loaded: list[str]) -> list[str]:
    return [
        name
        for name in loaded
        if name.split(".")[0] in FORBIDDEN or any(name == a or name.startswith(f"{a}.") for a in ADAPTERS)
    ]


def test_the_core_has_modules_to_check() -> None:
    assert "gluetrigger.core.planner" in CORE_MODULES
    assert "gluetrigger.core.config" in CORE_MODULES


def test_importing_the_whole_core_loads_no_sdk_yaml_emulator_cdk_or_adapter() -> None:
    assert offending(loaded_after_importing(CORE_MODULES)) == []


def test_the_check_fails_when_the_core_imports_an_adapter() -> None:
    # The same check, fed a module that pulls in boto3 and the runtime, names both.
    found = offending(loaded_after_importing(["gluetrigger.runtime.aws_clients"]))
    assert "boto3" in found
    assert "gluetrigger.runtime.aws_clients" in found


@pytest.mark.parametrize("module", CORE_MODULES)
def test_each_core_module_imports_on_its_own(module: str) -> None:
    assert offending(loaded_after_importing([module])) == []
