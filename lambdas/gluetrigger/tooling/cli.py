"""The ``gluetrigger`` command: validate, render and compile triggers.yaml.

Exit codes are a contract: 0 success; 1 an invalid config or a rejected event (one line per
problem on stderr); 2 input that is not JSON or not a known event shape, or a usage error.
User errors never print a stack trace.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from gluetrigger.core.errors import ConfigError, EventShapeError, GlueTriggerError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from gluetrigger.core.model import Config

__all__ = ["main"]

DEFAULT_CONFIG = "triggers.yaml"
EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class _UsageError(GlueTriggerError):
    """A usage error: reported on one line, exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.command
    try:
        return command(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_INVALID
    except _UsageError as exc:
        print(f"gluetrigger: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gluetrigger", description="Event-driven triggers for AWS Glue jobs, from one triggers.yaml."
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    validate = sub.add_parser("validate", help="check triggers.yaml against every StartJobRun rule")
    _config_option(validate)
    validate.set_defaults(command=_validate)

    render = sub.add_parser("render", help="show the StartJobRun requests an event would produce")
    render.add_argument("--event", required=True, metavar="PATH|-", help="event JSON file, or - for stdin")
    _config_option(render)
    render.add_argument("--trigger", metavar="NAME", help="only this trigger (it also owns any scheduled event)")
    render.set_defaults(command=_render)

    compile_ = sub.add_parser("compile", help="print the JSON config a Lambda function serves")
    _config_option(compile_)
    compile_.add_argument("--trigger", metavar="NAME", help="compile for this trigger only")
    compile_.set_defaults(command=_compile)

    from gluetrigger.tooling.local.commands import register_local_commands

    register_local_commands(sub)
    return parser


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=DEFAULT_CONFIG, metavar="PATH", help="default: ./triggers.yaml")


def _load(path: str) -> Config:
    from gluetrigger.tooling.config_file import load_config

    config = load_config(path)
    for warning in config.warnings:
        print(warning, file=sys.stderr)
    return config


def _validate(args: argparse.Namespace) -> int:
    config = _load(args.config)
    print(f"{len(config.triggers)} triggers OK")
    return EXIT_OK


def _checked_trigger(config: Config, name: str | None) -> str | None:
    if name is not None and name not in {t.name for t in config.triggers}:
        known = ", ".join(t.name for t in config.triggers)
        raise _UsageError(f"--trigger {name!r} is not in the config (triggers: {known})")
    return name


def _render(args: argparse.Namespace) -> int:
    from gluetrigger.core.events import normalize
    from gluetrigger.core.planner import Planner

    config = _load(args.config)
    only = _checked_trigger(config, args.trigger)
    source = "stdin" if args.event == "-" else args.event
    try:
        text = sys.stdin.read() if args.event == "-" else _read(args.event)
        event = json.loads(text)
    except ValueError as exc:
        raise _UsageError(f"{source}: not JSON: {exc}") from None
    try:
        items = normalize(event)
    except EventShapeError as exc:
        raise _UsageError(f"{source}: {exc}") from None
    plan = Planner(config, only).plan(items)
    json.dump(plan.to_json(), sys.stdout, indent=2, ensure_ascii=False)
    print()
    for rejection in plan.rejected:
        print(f"{rejection.trigger or rejection.origin}: {rejection.reason}", file=sys.stderr)
    return EXIT_INVALID if plan.rejected else EXIT_OK


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise _UsageError(f"{path}: cannot read: {exc.strerror}") from None


def _compile(args: argparse.Namespace) -> int:
    from gluetrigger.core.config import compile_config

    config = _load(args.config)
    only = _checked_trigger(config, args.trigger)
    json.dump(compile_config(config, only), sys.stdout, separators=(",", ":"), ensure_ascii=False)
    print()
    return EXIT_OK
