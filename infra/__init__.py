"""The CDK app's constructs: triggers.yaml, validated by the core, turned into one stack.

One module per concern: deploy_settings (context and environment), state (idempotency table and DLQ),
deployment (what every trigger's constructs share), trigger_function, queued_rule (S3 and custom
events), s3_source, schedule_source, alarms, powertools_layer, nag (cdk-nag wiring) and stack,
which puts them together.
"""

from __future__ import annotations

__all__: list[str] = []
