"""Local mode: the whole service on an AWS emulator, with no AWS account and no Docker.

``gluetrigger local`` starts moto's server in-process (or uses an emulator the user already
runs), provisions what the config needs the way the deployed stack does (buckets with
EventBridge notifications, rules delivering to one SQS queue per trigger, a DLQ, placeholder
Glue jobs, the idempotency table), and runs the real Lambda handler the way Lambda's SQS event
source would. Nothing here is imported by the handler: this package is the only place that
may import moto.
"""

from __future__ import annotations

__all__: list[str] = []
