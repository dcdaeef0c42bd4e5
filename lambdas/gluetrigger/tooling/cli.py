"""The ``gluetrigger`` command: validate, render and compile triggers.yaml, and print its JSON Schema.

Exit codes are a contract: 0 success; 1 an invalid config or a rejected event (one line per
problem on stderr); 2 input that is not JSON or not a known event shape, or a usage error.
``start-job-run`` keeps the AWS CLI's codes instead (:mod:`gluetrigger.tooling.start_job_run.exits`).
User errors never print a stack trace, and whatever a config or an event holds, each problem is
one line (characters that are not printable are written as escapes) and the JSON printed is valid
JSON on any terminal: readable where stdout can encode it, ASCII-escaped where it cannot (a
non-UTF-8 locale, or a lone surrogate in an event read from a non-UTF-8 stdin).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from gluetrigger import __version__
from gluetrigger.core.errors import ConfigError, EventShapeError, GlueTriggerError
from gluetrigger.core.events import printable

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from gluetrigger.core.model import Config

__all__ = ["main"]

DEFAULT_CONFIG = "triggers.yaml"
START_JOB_RUN = "start-job-run"
EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class _UsageError(GlueTriggerError):
    """A usage error: reported on one line, exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == [START_JOB_RUN]:
        # Its own parser and exit codes (the AWS CLI's: 252 for usage, not 2), as scripts expect.
        from gluetrigger.tooling.start_job_run import main as start_job_run

        return start_job_run(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.command
    try:
        return command(args)
    except ConfigError as exc:
        for problem in exc.problems:
            _say(str(problem))
        return EXIT_INVALID
    except _UsageError as exc:
        _say(f"gluetrigger: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gluetrigger", description="Event-driven triggers for AWS Glue jobs, from one triggers.yaml."
    )
    parser.add_argument("--version", action="version", version=f"gluetrigger {__version__}")
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

    schema = sub.add_parser("schema", help="print the JSON Schema of triggers.yaml, for editors")
    schema.add_argument("--output", metavar="PATH", help="write it to this file instead of stdout")
    schema.set_defaults(command=_schema)

    # Listed for --help; main() hands its command line to it before this parser sees it.
    sub.add_parser(
        START_JOB_RUN,
        help="start a Glue job run with the options of `aws glue start-job-run` (see its --help)",
        add_help=False,
    )

    from gluetrigger.tooling.local.commands import register_local_commands

    register_local_commands(sub)
    from gluetrigger.tooling.operations import register_operations_commands

    register_operations_commands(sub)
    return parser


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=DEFAULT_CONFIG, metavar="PATH", help="default: ./triggers.yaml")


def _load(path: str) -> Config:
    from gluetrigger.tooling.config_file import load_config

    config = load_config(path)
    for warning in config.warnings:
        _say(str(warning))
    return config


def _say(line: str) -> None:
    """One problem on stderr, as one line."""
    print(printable(line), file=sys.stderr)


def _print_json(document: object, **options: Any) -> None:
    """``document`` as JSON on stdout: non-ASCII text as written when stdout can encode it, else escaped."""
    text = json.dumps(document, ensure_ascii=False, allow_nan=False, **options)
    try:
        text.encode(sys.stdout.encoding or "utf-8")
    except UnicodeEncodeError:
        text = json.dumps(document, allow_nan=False, **options)
    print(text)


def _validate(args: argparse.Namespace) -> int:
    config = _load(args.config)
    count = len(config.triggers)
    print(f"{count} trigger{'' if count == 1 else 's'} OK")
    return EXIT_OK


def _checked_trigger(config: Config, name: str | None) -> str | None:
    if name is not None and name not in {t.name for t in config.triggers}:
        known = ", ".join(t.name for t in config.triggers)
        raise _UsageError(f"--trigger {name!r} is not in the config (triggers: {known})")
    return name


def _render(args: argparse.Namespace) -> int:
    from gluetrigger.core.events import decode_json, normalize
    from gluetrigger.core.planner import Planner

    config = _load(args.config)
    only = _checked_trigger(config, args.trigger)
    source = "stdin" if args.event == "-" else args.event
    try:
        items = normalize(decode_json(_read(args.event, source)))
    except EventShapeError as exc:
        raise _UsageError(f"{source}: {exc}") from None
    plan = Planner(config, only).plan(items)
    _print_json(plan.to_json(), indent=2)
    for rejection in plan.rejected:
        _say(f"{rejection.trigger or rejection.origin}: {rejection.reason}")
    return EXIT_INVALID if plan.rejected else EXIT_OK


def _read(path: str, source: str) -> str:
    """The text of the event file, or of stdin for ``-``; ``source`` names it in errors."""
    from gluetrigger.tooling.config_file import not_utf8

    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise _UsageError(f"{source}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise _UsageError(f"{source}: {not_utf8(exc)}") from None


def _compile(args: argparse.Namespace) -> int:
    from gluetrigger.core.config import compile_config

    config = _load(args.config)
    only = _checked_trigger(config, args.trigger)
    _print_json(compile_config(config, only), separators=(",", ":"))
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    """The schema as committed in schema/triggers.schema.json: two-space indent, one trailing newline."""
    from gluetrigger.core.schema import triggers_schema

    text = json.dumps(triggers_schema(), indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise _UsageError(f"{args.output}: cannot write: {exc.strerror}") from None
    return EXIT_OK
