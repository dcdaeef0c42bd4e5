"""``python -m tests.chaos``: one chaos run, its figures on one line, exit 0 only if every event ended right.

    python -m tests.chaos --events 2000 --fault-rate 0.2 --workers 6 --seed 7

Exit 0 when the queues drained with no duplicate, no lost event and a reason on every DLQ
message; 1 otherwise, with the faults by kind and the first problems listed under the figures;
2 when the harness itself failed; 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tests.chaos.harness import ChaosError, ChaosSettings, run

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    defaults = ChaosSettings()
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=defaults.events)
    parser.add_argument(
        "--fault-rate", type=float, default=defaults.fault_rate, help="share of Glue/DynamoDB calls failed"
    )
    parser.add_argument(
        "--kill-rate", type=float, default=defaults.kill_rate, help="share of those calls that kill the worker"
    )
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--seed", type=int, default=None, help="default: a random one (the figures say which)")
    parser.add_argument("--timeout", type=float, default=defaults.function_timeout_seconds, help="function timeout, s")
    parser.add_argument("--visibility-timeout", type=int, default=defaults.visibility_timeout_seconds)
    parser.add_argument("--max-receive-count", type=int, default=defaults.max_receive_count)
    parser.add_argument("--deadline", type=float, default=None, help="seconds the whole run may take")
    parser.add_argument("--log-dir", type=Path, default=None, help="keep the workers' logs here")
    args = parser.parse_args(argv)
    try:
        settings = ChaosSettings(
            events=args.events,
            fault_rate=args.fault_rate,
            kill_rate=args.kill_rate,
            workers=args.workers,
            seed=args.seed if args.seed is not None else random.randrange(1_000_000),
            function_timeout_seconds=args.timeout,
            visibility_timeout_seconds=args.visibility_timeout,
            max_receive_count=args.max_receive_count,
            deadline_seconds=args.deadline,
            log_dir=args.log_dir,
        )
    except ValueError as exc:
        parser.error(str(exc))
    try:
        figures = run(settings)
    except ChaosError as exc:
        print(f"chaos: the harness failed: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("chaos: interrupted; every process it started has been stopped", file=sys.stderr)
        return 130
    print(figures.report())
    return 0 if figures.passed else 1


if __name__ == "__main__":
    sys.exit(main())
