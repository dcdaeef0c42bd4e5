"""The CDK app's constructs: triggers.yaml, validated by the core, turned into one stack and its nested stacks.

One module per concern: deploy_settings (context and environment), state (idempotency table and DLQ),
deployment (what every trigger's constructs share), trigger_function, queued_rule (S3 and custom
events), s3_source, schedule_source, batching, alarms, powertools_layer, code_asset, nag (cdk-nag
wiring), trigger_group (a nested stack holding a group of triggers) and stack, the parent that puts
them together.
"""

from __future__ import annotations

__all__: list[str] = []
