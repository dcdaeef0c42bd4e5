"""The Lambda runtime adapter: the handler's parts, the AWS clients it uses, its environment.

Only this package and the core ship in the function's code asset; :mod:`gluetrigger.handler`
is the thin entry point Lambda calls.
"""

from __future__ import annotations

__all__: list[str] = []
