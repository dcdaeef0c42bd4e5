"""How local mode rehearses bursts: runs that last, jobs that allow few of them at once.

On moto a placeholder job's run succeeds the moment it is read, so no burst ever meets a job's
concurrency limit, and backpressure (:mod:`gluetrigger.runtime.backpressure`) never shows. Two
options of ``gluetrigger local`` change that:

- ``--run-seconds N``: runs stay STARTING, then RUNNING, for at least N seconds. moto's state
  manager advances a run one state per read once ``seconds`` have passed since its last step
  (``{"progression": "time"}``), and a run has two steps (STARTING to RUNNING to SUCCEEDED), so
  each step gets half of N. moto reads a run's state when it is listed (GetJobRun, GetJobRuns)
  and when StartJobRun counts the job's active runs against MaxConcurrentRuns, so a run that
  nobody looks at stays RUNNING longer than N: its end shows at the next read.
- ``--max-concurrent-runs N``: the MaxConcurrentRuns of placeholder jobs whose triggers set no
  ``max_concurrent_runs`` (:func:`job_limits`); otherwise the job keeps Glue's default of 1.

Held-back messages come back after a delay whose base is 5 s when deployed, meant for runs of
minutes; with runs of a few seconds that base would leave the job idle most of the time, so
local mode scales it to the run length (:func:`hold_back_policy`), between 1 and 5 s.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gluetrigger.core.backpressure import MAX_CONCURRENT_RUNS_LIMIT
from gluetrigger.core.errors import GlueTriggerError
from gluetrigger.runtime.backpressure import HoldBackPolicy

if TYPE_CHECKING:
    from gluetrigger.core.model import Config
    from gluetrigger.tooling.local.endpoint import Endpoint

__all__ = [
    "MAX_RUN_SECONDS",
    "Bursts",
    "BurstsError",
    "hold_back_policy",
    "hold_runs",
    "job_limits",
    "problems",
]

# An hour: a rehearsal whose runs last longer is better served by a real account.
MAX_RUN_SECONDS = 3600.0
JOB_RUN_MODEL = "glue::job_run"
# The states a moto job run steps through after STARTING (RUNNING, then SUCCEEDED).
RUN_STEPS = 2
MOTO_API_TIMEOUT_SECONDS = 10.0


class BurstsError(GlueTriggerError):
    """The emulator would not hold runs (it is not moto's server); the message is one line."""


@dataclass(frozen=True)
class Bursts:
    """The burst options of ``gluetrigger local``: None means the emulator's own behaviour."""

    run_seconds: float | None = None
    max_concurrent_runs: int | None = None


def problems(bursts: Bursts) -> list[str]:
    """Why each option is refused, one line each ([] when both are usable)."""
    found = []
    seconds = bursts.run_seconds
    if seconds is not None and not (0 < seconds <= MAX_RUN_SECONDS and math.isfinite(seconds)):
        found.append(f"--run-seconds {seconds:g}: must be more than 0 and at most {MAX_RUN_SECONDS:.0f}")
    runs = bursts.max_concurrent_runs
    if runs is not None and not 1 <= runs <= MAX_CONCURRENT_RUNS_LIMIT:
        found.append(f"--max-concurrent-runs {runs}: must be a whole number from 1 to {MAX_CONCURRENT_RUNS_LIMIT}")
    return found


def job_limits(config: Config, default: int | None) -> dict[str, int | None]:
    """Per Glue job of ``config``, the MaxConcurrentRuns its placeholder gets (None: Glue's default).

    The highest ``max_concurrent_runs`` of the job's triggers (each trigger's own cap is still
    enforced by the handler), else ``default`` (``--max-concurrent-runs``).
    """
    configured: dict[str, list[int]] = {}
    for trigger in config.triggers:
        limits = configured.setdefault(trigger.job.name, [])
        if trigger.max_concurrent_runs is not None:
            limits.append(trigger.max_concurrent_runs)
    return {job: max(limits) if limits else default for job, limits in configured.items()}


def hold_back_policy(bursts: Bursts) -> HoldBackPolicy | None:
    """The hold-back delays for runs of ``--run-seconds`` (None: the deployed policy)."""
    if bursts.run_seconds is None:
        return None
    base = HoldBackPolicy().base_seconds
    return HoldBackPolicy(base_seconds=max(1, min(base, math.ceil(bursts.run_seconds))))


def hold_runs(endpoint: Endpoint, seconds: float) -> None:
    """Make the emulator's job runs last ``seconds``: a state transition set through moto's own API."""
    transition = {"progression": "time", "seconds": seconds / RUN_STEPS}
    payload = json.dumps({"model_name": JOB_RUN_MODEL, "transition": transition}).encode()
    url = f"{endpoint.url}/moto-api/state-manager/set-transition"
    request = urllib.request.Request(url, data=payload, method="POST")  # noqa: S310 (an http(s) endpoint)
    try:
        with urllib.request.urlopen(request, timeout=MOTO_API_TIMEOUT_SECONDS) as response:  # noqa: S310
            response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise BurstsError(
            f"--run-seconds needs moto's state manager, which {endpoint.url} does not offer ({exc}); "
            "use the embedded emulator (no --endpoint-url) or a moto server"
        ) from None
