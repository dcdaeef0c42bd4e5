"""The tooling adapter: the ``gluetrigger`` CLI, YAML loading and local mode.

It runs on a developer's machine and in the CDK app, never in Lambda: the function's code asset
leaves this package out.
"""

from __future__ import annotations

__all__: list[str] = []
