"""The operators' commands: ``gluetrigger backfill`` and ``gluetrigger dlq list|show|redrive``.

Registered by :mod:`gluetrigger.tooling.cli` (imported only when the parser is built). They act on
local mode's emulator by default and on AWS with ``--aws`` (:mod:`gluetrigger.tooling.place`).
Exit codes follow the CLI's: 0 success; 1 an invalid config, an object that did not start or a
message not redriven (each named on stderr with why), an unreachable endpoint or an AWS error;
2 a usage error on one line, naming every problem (a bad date, an unknown trigger with the
nearest name, a name AWS needs and was not given, no local instance to talk to).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING

from gluetrigger.tooling.local.commands import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandError, guarded
from gluetrigger.tooling.place import add_place_options

if TYPE_CHECKING:
    from collections.abc import Iterator

    from gluetrigger.core.model import Config
    from gluetrigger.tooling.backfill import Window
    from gluetrigger.tooling.dlq import DeadLetterQueueReader, Letter, Target
    from gluetrigger.tooling.local.commands import Subparsers
    from gluetrigger.tooling.place import Place

__all__ = ["register_operations_commands"]

DEFAULT_CONFIG = "triggers.yaml"


def register_operations_commands(sub: Subparsers[argparse.ArgumentParser]) -> None:
    """Add ``backfill`` and ``dlq`` (with ``list``, ``show`` and ``redrive``) to the ``gluetrigger`` parser."""
    backfill = sub.add_parser(
        "backfill",
        help="start the runs of files already in an s3 trigger's bucket (once each)",
        description="List the trigger's bucket under its prefix and start one run per matching object "
        "(or batch them), through the trigger's own handler and idempotency: running it twice starts nothing new.",
    )
    backfill.add_argument("--trigger", required=True, metavar="NAME", help="an s3 trigger of the config")
    backfill.add_argument("--since", metavar="DATE", help="only objects last modified at or after DATE (ISO 8601)")
    backfill.add_argument("--until", metavar="DATE", help="only objects last modified before DATE (ISO 8601)")
    backfill.add_argument("--dry-run", action="store_true", help="list what would start; start nothing")
    _common(backfill)
    backfill.set_defaults(command=guarded(_backfill))

    dlq = sub.add_parser("dlq", help="read the dead-letter queue, and send its messages back after a fix")
    actions = dlq.add_subparsers(required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="messages per trigger and reason")
    listing.add_argument("--trigger", metavar="NAME", help="only this trigger's messages")
    listing.add_argument("--json", action="store_true", help="one JSON object per message instead of a table")
    _common(listing, queue=False)
    listing.set_defaults(command=guarded(_dlq_list))
    show = actions.add_parser("show", help="one message whole: body, attributes, reason")
    show.add_argument("message_id", metavar="MESSAGE_ID")
    _common(show, queue=False)
    show.set_defaults(command=guarded(_dlq_show))
    redrive = actions.add_parser("redrive", help="send messages back to their trigger's queue (or function)")
    redrive.add_argument("--trigger", metavar="NAME", help="only this trigger's messages")
    redrive.add_argument("--message-id", action="append", metavar="ID", help="only this message (repeatable)")
    _common(redrive)
    redrive.set_defaults(command=guarded(_dlq_redrive))


def _common(parser: argparse.ArgumentParser, *, queue: bool = True) -> None:
    parser.add_argument("--config", default=DEFAULT_CONFIG, metavar="PATH", help="default: ./triggers.yaml")
    add_place_options(parser, queue=queue)


def _load(path: str) -> Config:
    from gluetrigger.tooling.config_file import load_config

    config = load_config(path)  # ConfigError: gluetrigger.tooling.cli prints each problem, exit 1
    for warning in config.warnings:
        print(warning, file=sys.stderr)
    return config


def unknown_trigger(config: Config, name: str, path: str) -> str | None:
    """Why ``name`` is refused (not in the config, with the nearest name), or None when it is a trigger."""
    known = [trigger.name for trigger in config.triggers]
    if name in known:
        return None
    nearest = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {nearest[0]!r}?)" if nearest else ""
    return f"--trigger {name!r} is not in {path}{hint}; triggers: {', '.join(known)}"


@contextmanager
def _usage() -> Iterator[None]:
    """What the place or the command's input cannot do: a usage error, one line."""
    from gluetrigger.runtime.environment import HandlerEnvironmentError
    from gluetrigger.tooling.backfill import BackfillError
    from gluetrigger.tooling.local.session_file import SessionDirError
    from gluetrigger.tooling.place import PlaceError

    try:
        yield
    except (PlaceError, BackfillError, SessionDirError, HandlerEnvironmentError) as exc:
        raise CommandError(EXIT_USAGE, " ".join(str(exc).split("\n"))) from None


def _place(args: argparse.Namespace, only: str | None) -> Place:
    """Local mode's emulator, or AWS with ``--aws``; the process set up for the handler's service."""
    from gluetrigger.tooling.local.commands import endpoint_for
    from gluetrigger.tooling.local.function import HANDLER_ENV, activate_handler_env
    from gluetrigger.tooling.place import aws_place, local_place, names

    if args.aws:
        os.environ.update(HANDLER_ENV)  # the handler's metrics and traces stay off; its clients use the shell's AWS
        return aws_place(names(args, environment=True), only)
    endpoint = endpoint_for(args.endpoint_url, args.config)
    activate_handler_env(endpoint)
    return local_place(endpoint, names(args, environment=False), only)


def _backfill(args: argparse.Namespace) -> int:
    from gluetrigger.tooling.backfill import Backfill, LastInvocation, Progress

    config = _load(args.config)
    window = _window(config, args)
    with _usage():
        place = _place(args, args.trigger)
        backfill = Backfill.of(config, args.trigger, place, window)
    with _reaching(place), _usage():
        if args.dry_run:
            summary = backfill.dry_run(sys.stdout)
        else:
            observer = LastInvocation()
            summary = backfill.run(backfill.service(observer), observer, Progress(sys.stderr, args.trigger))
    for failure in summary.failures:
        print(f"gluetrigger: not started: {failure}", file=sys.stderr)
    print(summary.line(args.trigger, dry_run=args.dry_run))
    return EXIT_FAILED if summary.failed and not args.dry_run else EXIT_OK


def _window(config: Config, args: argparse.Namespace) -> Window:
    """The dates' window; a usage error naming every problem with the dates and the trigger."""
    from gluetrigger.tooling.backfill import BackfillError, Window, parse_moment

    problems = []
    moments = {}
    for option, text in (("--since", args.since), ("--until", args.until)):
        try:
            moments[option] = parse_moment(text, option) if text is not None else None
        except BackfillError as exc:
            problems.append(str(exc))
    if (unknown := unknown_trigger(config, args.trigger, args.config)) is not None:
        problems.append(unknown)
    elif (kind := config.trigger(args.trigger).source.type) != "s3":
        problems.append(f"{args.trigger} is a {kind} trigger; only s3 triggers are backfilled")
    if problems:
        raise CommandError(EXIT_USAGE, "; ".join(problems))
    with _usage():
        return Window(moments["--since"], moments["--until"])


def _reader(args: argparse.Namespace) -> tuple[Config, Place, DeadLetterQueueReader]:
    from gluetrigger.tooling.dlq import DeadLetterQueueReader

    config = _load(args.config)
    only = getattr(args, "trigger", None)
    if only is not None and (unknown := unknown_trigger(config, only, args.config)) is not None:
        raise CommandError(EXIT_USAGE, unknown)
    with _usage():
        place = _place(args, only)
        url = place.dead_letter_queue_url()
    return config, place, DeadLetterQueueReader(place.aws("sqs"), url, config)


def _dlq_list(args: argparse.Namespace) -> int:
    from gluetrigger.tooling.dlq import reasons_table
    from gluetrigger.tooling.local.console import table

    _, place, reader = _reader(args)
    with _reaching(place):
        letters = reader.read()
        reader.release(letters)
    chosen = [letter for letter in letters if args.trigger in (None, letter.trigger)]
    if args.json:
        json.dump([letter.summary() for letter in chosen], sys.stdout, indent=2)
        print()
    elif chosen:
        print(table(reasons_table(chosen)))
    else:
        print(f"no messages in the DLQ{f' for {args.trigger}' if args.trigger else ''}")
    return EXIT_OK


def _dlq_show(args: argparse.Namespace) -> int:
    _, place, reader = _reader(args)
    with _reaching(place):
        letters = reader.read()
        reader.release(letters)
    found = next((letter for letter in letters if letter.message_id == args.message_id), None)
    if found is None:
        raise CommandError(EXIT_FAILED, f"no message {args.message_id} in the DLQ ({len(letters)} messages there)")
    json.dump(found.whole(), sys.stdout, indent=2, ensure_ascii=False)
    print()
    return EXIT_OK


def _dlq_redrive(args: argparse.Namespace) -> int:
    from gluetrigger.tooling.dlq import Redrive

    _, place, reader = _reader(args)
    with _reaching(place):
        letters = reader.read()
        wanted = set(args.message_id or ())
        chosen = [x for x in letters if args.trigger in (None, x.trigger) and (not wanted or x.message_id in wanted)]
        reader.release(x for x in letters if x not in chosen)
        redrive = Redrive(reader, lambda letter: _target(place, letter), lambda: place.aws("lambda"))
        redrive.send(chosen)
    for letter, why in redrive.left:
        print(f"gluetrigger: {letter.message_id} ({letter.trigger or 'unknown trigger'}) stays: {why}", file=sys.stderr)
    missing = wanted - {letter.message_id for letter in letters}
    for message_id in sorted(missing):
        print(f"gluetrigger: no message {message_id} in the DLQ", file=sys.stderr)
    print(f"redriven {len(redrive.done)} of {len(chosen)} messages; {len(letters) - len(redrive.done)} left in the DLQ")
    return EXIT_FAILED if redrive.left or missing else EXIT_OK


def _target(place: Place, letter: Letter) -> Target:
    """Where ``letter`` goes back: its function (an on-failure envelope), else its trigger's queue."""
    from gluetrigger.tooling.dlq import RedriveError, Target
    from gluetrigger.tooling.place import PlaceError

    if letter.function_arn is not None:
        return Target(function=letter.function_arn)
    if letter.trigger is None:
        raise RedriveError("its trigger is unknown (no gluetrigger-trigger attribute, and no trigger matches its body)")
    try:
        return Target(queue_url=place.queue_url(letter.trigger))
    except PlaceError as exc:
        raise RedriveError(str(exc)) from None


@contextmanager
def _reaching(place: Place) -> Iterator[None]:
    from gluetrigger.tooling.local.commands import reaching

    with reaching(place.where):
        yield
