"""``gluetrigger start-job-run``: a manual Glue job run with ``aws glue start-job-run``'s options, checked first.

Operators start runs by hand (a rerun, a backfill, a test) with the options they know from the
AWS CLI; this command takes those options (:mod:`.options`), builds the very request the AWS CLI
would send for them (:mod:`.request`, :mod:`.shorthand`), refuses it before sending when a rule of
triggers.yaml forbids it, and prints the response as the AWS CLI does (:mod:`.output`,
:mod:`.table`), with the AWS CLI's exit codes (:mod:`.exits`). Two additions: ``--idempotency-key``
starts through the triggers' duplicate protection (:mod:`.idempotent`), ``--dry-run`` prints the
request and sends nothing.
"""

from __future__ import annotations

from gluetrigger.tooling.start_job_run.command import main

__all__ = ["main"]
