"""What every trigger's constructs build on: the deployment's settings and the app-wide resources.

A trigger's function and its source (queue and rule, or schedule) all need the same few things
from the parent stack: the settings, the idempotency table and DLQ, the Powertools layer, the code
asset, the manifests (batch triggers) and the alarms' topic. Passed as one value, they keep each
construct's signature to what is its own (its trigger, its function, its source) and let a new
shared resource reach every construct without touching each signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_cdk import aws_lambda as lambda_

    from infra.alarms import Alarms
    from infra.batching import Manifests
    from infra.deploy_settings import DeploySettings
    from infra.state import SharedState

__all__ = ["Deployment"]


@dataclass(frozen=True)
class Deployment:
    """The settings and the resources that the parent stack creates once and every trigger uses."""

    settings: DeploySettings
    state: SharedState
    # The Powertools layer of the pinned version, and the ``lambdas/`` code asset: one of each per stack.
    layer: lambda_.ILayerVersion
    code: lambda_.Code
    # The manifests bucket and batch grants, and the app-wide alarms (their topic notifies for every group's).
    manifests: Manifests
    alarms: Alarms
