"""cdk-nag (AwsSolutions pack) wiring and acknowledgments.

cdk-nag 3 runs as a CDK policy-validation plugin (``Validations.of(app).add_plugins``) rather
than as an Aspect, and findings are acknowledged with CDK's own ``Validations.acknowledge``, which
records them in construct metadata. Every acknowledgment goes through :func:`acknowledge` so it
always carries a reason, next to the construct that causes it.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

__all__ = ["acknowledge", "add_nag_checks"]


def add_nag_checks(app: App) -> None:
    """Run the AwsSolutions pack on every synth of ``app``: an unacknowledged finding fails synth."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Accept ``rule_id`` (a rule, or one finding as ``Rule[Finding]``) on ``scope`` and its children."""
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))
