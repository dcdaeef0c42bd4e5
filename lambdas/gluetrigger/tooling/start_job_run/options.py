"""The command line of ``gluetrigger start-job-run``: the AWS CLI's options, built as the AWS CLI builds them.

The service options come from botocore's model of StartJobRun, member by member, as the AWS CLI
makes its argument table: ``JobRunQueuingEnabled`` becomes ``--job-run-queuing-enabled`` and
``--no-job-run-queuing-enabled``, every other member ``--<member-in-hyphens> <value>``. So the
options are the reference's, and a member AWS adds appears with the botocore that models it. Then
the CLI's own options (``--cli-input-json``/``--cli-input-yaml``, ``--generate-cli-skeleton``), the
global options that mean something for one call, and gluetrigger's additions
(``--idempotency-key``, ``--idempotency-table``, ``--dry-run``).

A parse error is a :class:`~gluetrigger.tooling.start_job_run.exits.UsageError` (exit 252), not
argparse's exit 2: the AWS CLI's code for it.
"""

from __future__ import annotations

import argparse
import functools
from typing import TYPE_CHECKING, Any, NoReturn

from gluetrigger.tooling.start_job_run.exits import UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "IDEMPOTENCY_TABLE_ENV",
    "OUTPUT_FORMATS",
    "SKELETON_KINDS",
    "Member",
    "input_shape",
    "members",
    "parse",
    "parser",
]

OPERATION = "StartJobRun"
OUTPUT_FORMATS = ("json", "text", "table", "yaml", "yaml-stream")
SKELETON_KINDS = ("input", "yaml-input", "output")
IDEMPOTENCY_TABLE_ENV = "GLUETRIGGER_IDEMPOTENCY_TABLE"


class Member:
    """One request member as a command-line option: its name, its option, its botocore shape."""

    def __init__(self, name: str, shape: Any) -> None:
        from botocore import xform_name

        self.name = name
        self.shape = shape
        self.option = "--" + xform_name(name, "-")
        self.dest = xform_name(name)

    @property
    def type_name(self) -> str:
        return str(self.shape.type_name)


@functools.cache
def input_shape() -> Any:
    """StartJobRun's input shape in the botocore the project pins (loaded once: the Glue model is large)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("glue")
    return model.operation_model(OPERATION).input_shape


def members() -> tuple[Member, ...]:
    """The request members, in the model's order (the order the AWS CLI sends them in)."""
    return tuple(Member(name, shape) for name, shape in input_shape().members.items())


class _Parser(argparse.ArgumentParser):
    """argparse, with errors as UsageError (exit 252) instead of SystemExit(2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.format_usage().rstrip()}\n{self.prog}: error: {message}")


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The parsed command line; UsageError for one argparse cannot read."""
    return parser().parse_args(argv)


def parser() -> argparse.ArgumentParser:
    built = _Parser(
        prog="gluetrigger start-job-run",
        description="Start a Glue job run with the options of `aws glue start-job-run`, checked first.",
    )
    service = built.add_argument_group("StartJobRun options (as `aws glue start-job-run`)")
    for member in members():
        _add_member(service, member)
    _add_cli_input(built)
    _add_globals(built.add_argument_group("global options (as the AWS CLI's)"))
    _add_gluetrigger(built.add_argument_group("gluetrigger's additions"))
    return built


def _add_member(group: argparse._ArgumentGroup, member: Member) -> None:
    if member.type_name == "boolean":
        group.add_argument(member.option, dest=member.dest, action="store_true", default=None)
        negative = "--no-" + member.option[2:]
        group.add_argument(negative, dest=member.dest, action="store_false", default=None)
        return
    group.add_argument(member.option, dest=member.dest, metavar="<value>", help=f"{member.name} ({member.type_name})")


def _add_cli_input(built: argparse.ArgumentParser) -> None:
    source = built.add_mutually_exclusive_group()
    source.add_argument("--cli-input-json", metavar="<value>", help="the request as JSON (inline or file://)")
    source.add_argument("--cli-input-yaml", metavar="<value>", help="the request as YAML (inline or file://)")
    built.add_argument(
        "--generate-cli-skeleton",
        nargs="?",
        const="input",
        choices=SKELETON_KINDS,
        help="print a request skeleton (input, yaml-input) or a sample response (output); sends nothing",
    )


def _add_globals(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--debug", action="store_true", help="log the HTTP exchange on stderr")
    group.add_argument("--endpoint-url", metavar="<value>")
    group.add_argument("--no-verify-ssl", dest="verify_ssl", action="store_false")
    group.add_argument("--no-paginate", action="store_true", help="accepted; StartJobRun has no pages")
    group.add_argument("--output", choices=OUTPUT_FORMATS)
    group.add_argument("--query", metavar="<value>", help="a JMESPath expression over the response")
    group.add_argument("--profile", metavar="<value>")
    group.add_argument("--region", metavar="<value>")
    group.add_argument("--color", choices=("on", "off", "auto"), default="auto")
    group.add_argument("--cli-read-timeout", type=_seconds, metavar="<value>")
    group.add_argument("--cli-connect-timeout", type=_seconds, metavar="<value>")
    group.add_argument("--no-cli-pager", action="store_true", help="accepted; output is never paged")


def _add_gluetrigger(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="start at most once per KEY, through the triggers' idempotency table and run key",
    )
    group.add_argument("--idempotency-table", metavar="NAME", help=f"default: ${IDEMPOTENCY_TABLE_ENV}")
    group.add_argument("--dry-run", action="store_true", help="print the request; send nothing")


def _seconds(text: str) -> int:
    """A timeout in seconds, as the AWS CLI reads it (an int; 0 waits forever)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
