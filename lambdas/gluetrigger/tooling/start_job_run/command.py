"""The command's flow: parse, check, then print a skeleton, print the request, or send it and print the answer.

Everything that can be refused is refused before a client is made: the query, the options, the
request's checks. Each failure is a :class:`~gluetrigger.tooling.start_job_run.exits.CommandFailedError`
whose exit code is the AWS CLI's; its message goes to stderr on its own, as the AWS CLI writes it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

from gluetrigger.core.events import printable
from gluetrigger.tooling.start_job_run.exits import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    CommandFailedError,
    ConfigurationError,
    UsageError,
)
from gluetrigger.tooling.start_job_run.options import IDEMPOTENCY_TABLE_ENV, OUTPUT_FORMATS, parse

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from gluetrigger.tooling.start_job_run.sending import Clients

__all__ = ["main"]

_OUTPUT_ENV = "AWS_DEFAULT_OUTPUT"
_DEBUG_FORMAT = "%(asctime)s - %(threadName)s - %(name)s - %(levelname)s - %(message)s"


def main(argv: Sequence[str]) -> int:
    """Run ``gluetrigger start-job-run`` with ``argv`` (the options after the command); the exit code."""
    try:
        return _run(argv)
    except CommandFailedError as exc:
        for line in str(exc).splitlines() or [""]:
            print(printable(line), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(file=sys.stdout)
        return EXIT_INTERRUPTED


def _run(argv: Sequence[str]) -> int:
    from gluetrigger.tooling.start_job_run.output import compile_query

    args = parse(argv)
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format=_DEBUG_FORMAT)
    query = compile_query(args.query)
    if args.generate_cli_skeleton in ("input", "yaml-input"):
        from gluetrigger.tooling.start_job_run.skeleton import input_skeleton

        _write(input_skeleton(args.generate_cli_skeleton))
        return EXIT_OK
    request = _checked_request(args)
    if args.dry_run:
        _write(json.dumps(request, indent=4, ensure_ascii=False) + "\n")
        return EXIT_OK
    from gluetrigger.tooling.start_job_run.output import render
    from gluetrigger.tooling.start_job_run.sending import Clients

    clients = Clients(args)
    output = _output_format(args, clients)
    if args.generate_cli_skeleton == "output":
        from gluetrigger.tooling.start_job_run.skeleton import output_skeleton

        _write(render(output_skeleton(), output, query, args.color))
        return EXIT_OK
    _write(render(_send(args, clients, request), output, query, args.color))
    return EXIT_OK


def _write(text: str) -> None:
    """``text`` on stdout; a character stdout cannot encode (a non-UTF-8 locale) as a JSON escape (``\\u00fc``),
    which keeps JSON valid and other formats readable, never a traceback."""
    try:
        sys.stdout.write(text)
    except UnicodeEncodeError:
        encoding = sys.stdout.encoding or "ascii"
        sys.stdout.write("".join(char if _encodes(char, encoding) else json.dumps(char)[1:-1] for char in text))


def _encodes(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _checked_request(args: argparse.Namespace) -> dict[str, Any]:
    """The request to send (with its run key under ``--idempotency-key``); UsageError for every problem."""
    from gluetrigger.tooling.start_job_run.idempotent import with_run_key
    from gluetrigger.tooling.start_job_run.request import build_request

    if args.job_name is None and args.cli_input_json is None and args.cli_input_yaml is None:
        raise UsageError("the following arguments are required: --job-name")
    key = args.idempotency_key
    if key is not None and not key.strip():
        raise UsageError("--idempotency-key: must not be empty")
    checked = build_request(args, check_run_key=key is not None)
    for warning in checked.warnings:
        print(printable(f"warning: {warning}"), file=sys.stderr)
    return checked.members if key is None else with_run_key(checked.members, key)


def _output_format(args: argparse.Namespace, clients: Clients) -> str:
    """``--output``, else ``$AWS_DEFAULT_OUTPUT``, else the profile's ``output``, else json (the AWS CLI's order)."""
    output = args.output or os.environ.get(_OUTPUT_ENV) or clients.configured("output") or "json"
    if output not in OUTPUT_FORMATS:
        raise ConfigurationError(f"Unknown output type: {output} (one of {', '.join(OUTPUT_FORMATS)})")
    return str(output)


def _send(args: argparse.Namespace, clients: Clients, request: dict[str, Any]) -> dict[str, Any]:
    key = args.idempotency_key
    if key is None:
        from gluetrigger.tooling.start_job_run.sending import start_job_run

        return start_job_run(clients, request)
    from gluetrigger.tooling.start_job_run.idempotent import idempotent_start

    table = args.idempotency_table or os.environ.get(IDEMPOTENCY_TABLE_ENV)
    if not table:
        raise ConfigurationError(
            f"--idempotency-key needs the idempotency table: --idempotency-table or ${IDEMPOTENCY_TABLE_ENV}"
        )
    return idempotent_start(clients, table, request, key)
