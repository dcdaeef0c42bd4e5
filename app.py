"""The CDK app: load and validate triggers.yaml, build the stack. Wiring only; see infra/.

``cdk synth`` runs this file (see cdk.json). An invalid triggers.yaml or setting fails synth with
the same one-line messages as ``gluetrigger validate`` and exit code 1, never a stack trace; so
does a cdk-nag (AwsSolutions) finding that no construct acknowledges, with cdk-nag's report.
"""

from __future__ import annotations

import sys

from aws_cdk import App

from gluetrigger.core.errors import ConfigError
from gluetrigger.tooling.config_file import load_config
from infra.deploy_settings import DeploySettings
from infra.nag import add_nag_checks
from infra.stack import GlueTriggerStack

__all__ = ["main"]

# How the CDK reports that a policy-validation plugin (cdk-nag) found unacknowledged violations.
VALIDATION_FAILED = "ValidationFailed"


def main() -> int:
    app = App()
    try:
        settings = DeploySettings.from_context(app.node.get_all_context())
        config = load_config(settings.triggers_path)
        GlueTriggerStack(app, config=config, settings=settings)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    # Printed as `gluetrigger validate` prints them (a deprecated field, say); they do not fail synth.
    for warning in config.warnings:
        print(warning, file=sys.stderr)
    add_nag_checks(app)
    try:
        app.synth()
    except RuntimeError as exc:
        # The message carries cdk-nag's report (rule, construct, how to acknowledge); the JavaScript
        # stack trace around it adds nothing.
        if not str(exc).startswith(VALIDATION_FAILED):
            raise
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
