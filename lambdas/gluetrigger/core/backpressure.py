"""A trigger's backpressure settings: how long an event may wait for Glue capacity, and how many runs at once.

When Glue's concurrency limit is reached (``ConcurrentRunsExceededException``, an account quota,
throttling), an event is not a failure: it waits, with growing delays, until its run can start
(:mod:`gluetrigger.runtime.backpressure`). Two settings bound that, per trigger or in
``defaults``:

- ``max_wait``: how long an event may wait before it goes to the dead-letter queue with the
  reason. An integer number of seconds, or a string with a unit: ``90s``, ``30m``, ``24h``,
  ``2d``. From 1 second to 14 days (SQS's longest retention: no message waits longer anywhere
  else in the service either); 24 hours by default, the idempotency record's default life, so
  that a run started at the end of the wait is still recognised as a duplicate.
- ``max_concurrent_runs``: hold a run back before Glue refuses it, once this many runs of the
  job are active. A whole number from 1 to :data:`MAX_CONCURRENT_RUNS_LIMIT`; unset, the job's
  own MaxConcurrentRuns is the only limit.

These are the pure rules; :mod:`gluetrigger.core.config` reads the fields with them.
"""

from __future__ import annotations

import re
from typing import cast

from gluetrigger.core.start_job_run import is_int

__all__ = [
    "BACKPRESSURE_FIELDS",
    "DEFAULT_MAX_WAIT_SECONDS",
    "MAX_CONCURRENT_RUNS_LIMIT",
    "MAX_WAIT_DURATION",
    "MAX_WAIT_LIMIT_SECONDS",
    "read_max_concurrent_runs",
    "read_max_wait",
]

# The trigger fields this module reads; also allowed in ``defaults``.
BACKPRESSURE_FIELDS = ("max_wait", "max_concurrent_runs")
DEFAULT_MAX_WAIT_SECONDS = 24 * 60 * 60
MAX_WAIT_LIMIT_SECONDS = 14 * 24 * 60 * 60
# The active-run count reads at most 2,000 of a job's runs (gluetrigger.runtime.run_lookup's bounds);
# a limit far above any job's own MaxConcurrentRuns would hold back nothing.
MAX_CONCURRENT_RUNS_LIMIT = 1000
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_WAIT_DURATION = re.compile(r"^\s*(\d{1,7})\s*([smhd])\s*$")
MAX_WAIT_RULE = "must be a number of seconds or a duration such as 90s, 30m, 24h, 2d, from 1s to 14d"
MAX_CONCURRENT_RUNS_RULE = f"must be a whole number from 1 to {MAX_CONCURRENT_RUNS_LIMIT}"


def read_max_wait(raw: object) -> tuple[int, str | None]:
    """``max_wait`` in seconds (the default when absent), and why it is refused (None when it is not)."""
    if raw is None:
        return DEFAULT_MAX_WAIT_SECONDS, None
    seconds: int | None = None
    if is_int(raw):
        seconds = cast("int", raw)
    elif isinstance(raw, str) and (match := MAX_WAIT_DURATION.match(raw)):
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds is None or not 1 <= seconds <= MAX_WAIT_LIMIT_SECONDS:
        return DEFAULT_MAX_WAIT_SECONDS, f"{MAX_WAIT_RULE} (got {raw!r})"
    return seconds, None


def read_max_concurrent_runs(raw: object) -> tuple[int | None, str | None]:
    """``max_concurrent_runs`` (None when absent), and why it is refused (None when it is not)."""
    if raw is None:
        return None, None
    if not is_int(raw) or not 1 <= cast("int", raw) <= MAX_CONCURRENT_RUNS_LIMIT:
        return None, f"{MAX_CONCURRENT_RUNS_RULE} (got {raw!r})"
    return cast("int", raw), None
