"""The run key: the job argument that tags every run with the planned run it belongs to.

Glue's StartJobRun takes no client token, so when a call's outcome is unknown (a lost response,
a read timeout, a function killed between StartJobRun and recording the result) nothing in
Glue's answer can say whether the run started. The run key closes that gap: every run carries
an argument (``--gluetrigger-run-key`` unless the trigger names another) whose value is a
fixed-length digest of the planned run's idempotency key, so the runtime can find the run again
with GetJobRuns and adopt it instead of starting a second one. The digest keeps the value short
and free of event data (an idempotency key may hold an object key or an event field).
"""

from __future__ import annotations

import hashlib

__all__ = ["DEFAULT_RUN_KEY_ARGUMENT", "RUN_KEY_LENGTH", "run_key"]

DEFAULT_RUN_KEY_ARGUMENT = "--gluetrigger-run-key"
# 32 hex digits: 128 bits of SHA-256, far beyond any chance of two planned runs colliding.
RUN_KEY_LENGTH = 32


def run_key(idempotency_key: str) -> str:
    """The run-key argument's value for the planned run with ``idempotency_key``."""
    # surrogatepass: a lone surrogate from event text must give a key, not a UnicodeEncodeError.
    digest = hashlib.sha256(idempotency_key.encode("utf-8", "surrogatepass")).hexdigest()
    return digest[:RUN_KEY_LENGTH]
