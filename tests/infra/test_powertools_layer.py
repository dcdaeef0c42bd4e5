"""The Powertools layer is the version requirements.txt pins, resolved from SSM at deploy time."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import pytest

from infra.powertools_layer import layer_parameter_name, pinned_powertools_version
from tests.infra.conftest import Synthesized

pytestmark = pytest.mark.infra


def test_the_pin_is_the_powertools_the_tests_run_against() -> None:
    assert pinned_powertools_version() == version("aws-lambda-powertools")


@pytest.mark.parametrize(
    "line",
    [
        "aws-lambda-powertools==3.37.0",
        "aws-lambda-powertools[validation]==3.37.0",
        "aws-lambda-powertools[validation,tracer] == 3.37.0  # the layer's version",
        "aws-lambda-powertools==3.37.0 ; python_version >= '3.11'",
    ],
)
def test_pin_forms(tmp_path: Path, line: str) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"boto3==1.0\n{line}\naws-lambda-powertools-extra==9.9\n", encoding="utf-8")
    assert pinned_powertools_version(requirements) == "3.37.0"


@pytest.mark.parametrize(
    "text", ["aws-lambda-powertools>=3.0\n", "", "aws-lambda-powertools==1\naws-lambda-powertools==2\n"]
)
def test_a_missing_or_ambiguous_pin_is_an_error(tmp_path: Path, text: str) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="exactly one"):
        pinned_powertools_version(requirements)


@pytest.mark.parametrize(("stack", "runtime"), [("repo_stack", "python3.13"), ("extra_stack", "python3.12")])
def test_every_function_uses_the_layer_from_the_public_ssm_parameter(
    request: pytest.FixtureRequest, stack: str, runtime: str
) -> None:
    synthesized: Synthesized = request.getfixturevalue(stack)
    expected = f"/aws/service/powertools/python/arm64/{runtime}/{pinned_powertools_version()}"
    assert layer_parameter_name(runtime, "arm64", pinned_powertools_version()) == expected
    # A CloudFormation SSM parameter: resolved at deploy time in the stack's region, never at synth.
    [(name, parameter)] = [
        (n, p) for n, p in synthesized.json["Parameters"].items() if p["Default"].startswith("/aws/service/powertools/")
    ]
    assert parameter == {"Type": "AWS::SSM::Parameter::Value<String>", "Default": expected}
    functions = synthesized.of_type("AWS::Lambda::Function")
    ours = [
        f["Properties"] for f in functions.values() if f["Properties"].get("Handler") == "gluetrigger.handler.handler"
    ]
    assert len(ours) == len(synthesized.config.triggers)
    # The functions are in nested stacks (trigger groups): the parent passes the layer's ARN in.
    [layers] = {json.dumps(f["Layers"]) for f in ours}
    [reference] = json.loads(layers)
    assert reference["Ref"].startswith(f"referenceto{synthesized.stack.node.id}{name}")
    assert reference["Ref"].endswith("Ref")
    assert {f["Runtime"] for f in ours} == {runtime}
