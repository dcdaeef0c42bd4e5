"""The pure core: what triggers.yaml means and what each event should start.

Config model and document, StartJobRun's rules and values, templates, variables, event
normalization, EventBridge patterns, schedules, the planner, naming, routing and the error
types. Nothing here does I/O or imports boto3, botocore, Powertools, YAML, moto or the CDK
(``tests/unit/test_core_purity.py`` fails if that stops being true), so the handler, the CLI,
local mode and the CDK app all decide the same thing the same way.
"""

from __future__ import annotations

__all__: list[str] = []
