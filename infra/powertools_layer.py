"""The Powertools for AWS Lambda layer, for exactly the version requirements.txt pins.

The handler is tested against the pinned Powertools, so the deployed functions must run that
version too. AWS publishes each release's layer ARN, per region, runtime and architecture, as a
public SSM parameter; the stack references that parameter (a CloudFormation SSM parameter type,
resolved at deploy time in the target region), so no layer version number is guessed, no synth-
time lookup needs credentials, and bumping the pin is the only change needed to upgrade.
"""

from __future__ import annotations

import re
from pathlib import Path

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

__all__ = ["REQUIREMENTS", "layer_parameter_name", "pinned_powertools_version", "powertools_layer"]

REQUIREMENTS = Path(__file__).resolve().parent.parent / "requirements.txt"
# `aws-lambda-powertools==3.37.0`, with or without extras such as `[validation]`.
PIN = re.compile(r"^\s*aws-lambda-powertools(?:\[[^\]]*\])?\s*==\s*([0-9][0-9A-Za-z.+-]*)\s*(?:[;#].*)?$", re.MULTILINE)


def pinned_powertools_version(requirements: Path = REQUIREMENTS) -> str:
    """The version requirements.txt pins with ``==``; ValueError when it is not pinned exactly once."""
    versions = PIN.findall(requirements.read_text(encoding="utf-8"))
    if len(versions) != 1:
        raise ValueError(f"{requirements}: expected exactly one 'aws-lambda-powertools[...]==X' pin")
    return str(versions[0])


def layer_parameter_name(runtime: str, architecture: str, version: str) -> str:
    """The public SSM parameter whose value is the layer ARN, e.g. ``.../arm64/python3.13/3.37.0``."""
    return f"/aws/service/powertools/python/{architecture}/{runtime}/{version}"


def powertools_layer(
    scope: Construct, construct_id: str, *, runtime: lambda_.Runtime, architecture: lambda_.Architecture
) -> lambda_.ILayerVersion:
    """The layer for the pinned version, its ARN read from SSM when the stack is deployed."""
    name = layer_parameter_name(runtime.name, architecture.name, pinned_powertools_version())
    arn = ssm.StringParameter.value_for_string_parameter(scope, name)
    return lambda_.LayerVersion.from_layer_version_arn(scope, construct_id, arn)
