"""The StartJobRun request a command line asks for, checked as a trigger's job block is, before anything is sent.

Each option's text becomes its member's value as the AWS CLI makes it: ``file://`` read first,
integers and doubles parsed, a map or structure read as JSON when it starts with ``{`` or ``[`` and
as shorthand otherwise (shorthand scalars then take their member's type). Members come in the
model's order, then those of ``--cli-input-json``/``--cli-input-yaml`` that the command line did
not set (the command line wins), which is the AWS CLI's request, byte for byte.

Two checks run before any request, and every problem is reported at once, one line each: botocore's
own validation of the request (types, unknown or missing members: what the AWS CLI refuses too),
then the rules of triggers.yaml, from the core's one table of StartJobRun fields
(:data:`gluetrigger.core.start_job_run.FIELDS`, through :func:`gluetrigger.core.validation.check_job`),
so a manual start cannot do what a trigger may not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gluetrigger.core.run_key import DEFAULT_RUN_KEY_ARGUMENT
from gluetrigger.core.start_job_run import FIELDS
from gluetrigger.core.templates import Template
from gluetrigger.tooling.start_job_run.exits import UsageError
from gluetrigger.tooling.start_job_run.options import Member, input_shape, members
from gluetrigger.tooling.start_job_run.shorthand import load_value, parse_shorthand

if TYPE_CHECKING:
    import argparse

__all__ = ["CheckedRequest", "build_request", "command_line_members", "read_cli_input"]

_RUN_KEY_FIELD = "run_key_argument"


@dataclass(frozen=True)
class CheckedRequest:
    """A request that passed every check, and the warnings the checks gave (deprecated fields)."""

    members: dict[str, Any]
    warnings: list[str]


def build_request(args: argparse.Namespace, *, check_run_key: bool) -> CheckedRequest:
    """The request ``args`` spell, checked; UsageError listing every problem.

    ``check_run_key``: the start carries the run-key argument (``--idempotency-key``), so the
    arguments must leave it free, as a trigger's must.
    """
    request = command_line_members(args)
    for name, value in read_cli_input(args).items():
        request.setdefault(name, value)
    return _checked(request, check_run_key=check_run_key)


def command_line_members(args: argparse.Namespace) -> dict[str, Any]:
    """The members set on the command line, in the model's order, each as its shape's type."""
    request: dict[str, Any] = {}
    for member in members():
        raw = getattr(args, member.dest, None)
        if raw is not None:
            request[member.name] = raw if isinstance(raw, bool) else _unpack(member, raw)
    return request


def read_cli_input(args: argparse.Namespace) -> dict[str, Any]:
    """The members of ``--cli-input-json`` or ``--cli-input-yaml`` (inline or ``file://``); {} without either."""
    if args.cli_input_json is not None:
        option, text = "cli-input-json", load_value(args.cli_input_json)
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise UsageError(
                f"Error parsing parameter '{option}': Invalid JSON: {exc}\nJSON received: {text}"
            ) from None
    elif args.cli_input_yaml is not None:
        option, document = "cli-input-yaml", _yaml(load_value(args.cli_input_yaml))
    else:
        return {}
    if not isinstance(document, Mapping):
        raise UsageError(f"Error parsing parameter '{option}': the input must be an object of request members")
    return dict(document)


def _yaml(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"Error parsing parameter 'cli-input-yaml': Invalid YAML: {exc}") from None


def _unpack(member: Member, raw: str) -> Any:
    """The option's text as its member's value, as the AWS CLI reads it."""
    text = load_value(raw)
    try:
        # StartJobRun's members are scalars, maps and structures (no lists).
        if member.type_name in ("map", "structure"):
            if text.lstrip().startswith(("{", "[")):
                return json.loads(text)
            return _typed(member.shape, parse_shorthand(text))
        return _scalar(member.type_name, text)
    except (UsageError, ValueError) as exc:
        raise UsageError(f"Error parsing parameter '{member.option}': {exc}") from None


def _scalar(type_name: str, text: Any) -> Any:
    """A shorthand or option text as a number when ``type_name`` is one (ValueError when it is not).

    Booleans never come as text here: the boolean member is a flag pair, and no structure of
    StartJobRun holds one.
    """
    if not isinstance(text, str):
        return text
    if type_name in ("integer", "long"):
        return int(text)
    if type_name in ("double", "float"):
        return float(text)
    return text


def _typed(shape: Any, value: Any) -> Any:
    """Shorthand's strings converted to the numbers their shapes say, as the AWS CLI does (``NotifyDelayAfter=5``)."""
    if shape.type_name == "structure" and isinstance(value, dict):
        return {k: _typed(shape.members[k], v) if k in shape.members else v for k, v in value.items()}
    if shape.type_name == "map" and isinstance(value, dict):
        return {k: _typed(shape.value, v) for k, v in value.items()}
    return _scalar(shape.type_name, value)


def _shape_problems(request: Mapping[str, Any]) -> list[str]:
    """botocore's validation of the request, the one the AWS CLI's client runs before sending."""
    from botocore.validate import ParamValidator

    report = ParamValidator().validate(dict(request), input_shape())
    if not report.has_errors():
        return []
    return ["Parameter validation failed:", *report.generate_report().splitlines()]


def _checked(request: dict[str, Any], *, check_run_key: bool) -> CheckedRequest:
    """The request, when neither botocore nor a rule of triggers.yaml refuses it; UsageError, one line per problem."""
    from gluetrigger.core.validation import check_job

    job: dict[str, Any] = {_RUN_KEY_FIELD: DEFAULT_RUN_KEY_ARGUMENT}
    for row in FIELDS:
        if row.member in request:
            job[row.name] = _field_value(row.encode, request[row.member])
    arguments = {name: Template(value, (value,)) for name, value in request.get("Arguments", {}).items()}
    errors = _shape_problems(request)
    warnings: list[str] = []
    for field, message, is_warning in check_job(job, arguments):
        if field == _RUN_KEY_FIELD and not check_run_key:
            continue  # no run key is added without --idempotency-key
        line = f"{_option_of(field)}: {message}"
        (warnings if is_warning else errors).append(line)
    if errors:
        raise UsageError("\n".join(errors))
    return CheckedRequest(request, warnings)


_PROBE = object()


def _field_value(encode: Any, value: Any) -> Any:
    """A member's value as its field holds it: a row that wraps its value in a one-member structure
    (``notify_delay_after`` sent as ``NotificationProperty.NotifyDelayAfter``) is unwrapped."""
    wrapped = encode(_PROBE)
    if isinstance(wrapped, Mapping) and isinstance(value, Mapping):
        (key,) = wrapped
        return value.get(key)
    return value


def _option_of(field: str) -> str:
    """The command-line option a triggers.yaml field's finding is about, as the operator wrote it."""
    from botocore import xform_name

    if field.startswith("arguments."):
        return f"--arguments {field.removeprefix('arguments.')}"
    if field == _RUN_KEY_FIELD:
        return "--idempotency-key"
    row = next(row for row in FIELDS if row.name == field)
    wrapped = row.encode(_PROBE)
    option = "--" + xform_name(str(row.member), "-")
    return f"{option} {next(iter(wrapped))}" if isinstance(wrapped, Mapping) else option
