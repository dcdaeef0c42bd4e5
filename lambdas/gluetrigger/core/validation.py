"""StartJobRun's rules, checked before anything is deployed.

Glue itself rejects a bad request only when a run is attempted, at 2 a.m., and the local
emulator does not check these at all: this module is the guard. Rules follow the StartJobRun
reference and the Glue API model; each returns the job field at fault and a one-line message.
A field's own rule is in its row of :data:`gluetrigger.core.start_job_run.FIELDS`; this module
runs those, then the rules that span several fields, the arguments' and the templates'.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gluetrigger.core.model import S3Source
from gluetrigger.core.run_key import DEFAULT_RUN_KEY_ARGUMENT
from gluetrigger.core.start_job_run import (
    ARGUMENTS_MAX_BYTES,
    FIELDS,
    MAX_CAPACITY_MAX,
    MAX_CAPACITY_MIN,
    RESERVED_ARGUMENTS,
    SHELL_CAPACITIES,
    arguments_size,
    valid_max_capacity,
)

if TYPE_CHECKING:
    from gluetrigger.core.model import Source
    from gluetrigger.core.templates import Template

__all__ = ["check_job", "check_template_variables", "looks_secret"]

# Argument names that suggest a credential; "api key" in any spelling (api_key, apikey, api-key).
SECRET_NAME = re.compile(r"pass(word|wd)|secret|token|api[-_]?key|credential", re.IGNORECASE)
# A literal that points at a secret store rather than holding the secret is what the reference asks for.
SECRET_REFERENCE = re.compile(r"^arn:aws[a-z-]*:(secretsmanager|ssm):")

Finding = tuple[str, str, bool]  # (job field, message, is_warning)


def looks_secret(name: str) -> bool:
    return SECRET_NAME.search(name) is not None


def check_job(job: Mapping[str, Any], arguments: Mapping[str, Template]) -> list[Finding]:
    """Every StartJobRun rule that ``job`` (a raw job block) breaks: each field's, then those across fields."""
    findings: list[Finding] = []
    findings += _check_fields(job)
    findings += _check_capacity(job)
    findings += _check_job_type(job)
    findings += _check_pythonshell_workers(job)
    findings += _check_arguments(arguments)
    findings += _check_run_key_argument(job, arguments)
    return findings


def _check_run_key_argument(job: Mapping[str, Any], arguments: Mapping[str, Template]) -> list[Finding]:
    """The run-key argument must not clash with the job's own arguments; turning it off is warned about."""
    field = "run_key_argument"
    name = job.get(field, DEFAULT_RUN_KEY_ARGUMENT)
    if name is False:
        return [
            (
                field,
                "false gives up exactly one run per event when a start's outcome is unknown (a lost response, "
                "a timeout, a crash after StartJobRun): such a start may run the job twice",
                True,
            )
        ]
    if isinstance(name, str) and name in arguments:
        return [(field, f"{name} is also set in arguments; the run key needs an argument of its own", False)]
    return []


def _check_fields(job: Mapping[str, Any]) -> list[Finding]:
    """Each field's own rule, from its row of the StartJobRun table, in the API's member order."""
    findings: list[Finding] = []
    for field in FIELDS:
        value = job.get(field.name)
        if value is None:
            if field.required is not None:
                findings.append((field.name, field.required, False))
            continue
        problem = field.check(value)
        if problem is not None:
            findings.append((field.name, problem, False))
        elif field.deprecated is not None:
            findings.append((field.name, field.deprecated, True))
    return findings


def _check_capacity(job: Mapping[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    has = {f: job.get(f) is not None for f in ("worker_type", "number_of_workers", "max_capacity")}
    if has["worker_type"] != has["number_of_workers"]:
        missing = "number_of_workers" if has["worker_type"] else "worker_type"
        findings.append((missing, "worker_type and number_of_workers go together: set both or neither", False))
    if has["max_capacity"] and (has["worker_type"] or has["number_of_workers"]):
        findings.append(("max_capacity", "cannot be set with worker_type/number_of_workers", False))
    if job.get("allocated_capacity") is not None:
        for other in ("max_capacity", "worker_type", "number_of_workers"):
            if has[other]:
                findings.append(("allocated_capacity", f"cannot be set with {other}", False))
    return findings


def _check_job_type(job: Mapping[str, Any]) -> list[Finding]:
    job_type = job.get("job_type")
    findings: list[Finding] = []
    capacity = job.get("max_capacity")
    if job_type is not None and capacity is not None and valid_max_capacity(capacity):
        if job_type == "pythonshell" and capacity not in SHELL_CAPACITIES:
            findings.append(("max_capacity", "must be 0.0625 or 1 for a pythonshell job", False))
        if job_type in ("glueetl", "gluestreaming") and not MAX_CAPACITY_MIN <= capacity <= MAX_CAPACITY_MAX:
            limits = f"{MAX_CAPACITY_MIN} to {MAX_CAPACITY_MAX}"
            findings.append(("max_capacity", f"must be an integer from {limits} for a {job_type} job", False))
    if job.get("execution_class") == "FLEX" and job_type not in (None, "glueetl"):
        findings.append(("execution_class", f"FLEX is only for glueetl jobs, not {job_type}", False))
    worker = job.get("worker_type")
    if worker == "G.025X" and job_type not in (None, "gluestreaming"):
        findings.append(("worker_type", f"G.025X is only for gluestreaming jobs, not {job_type}", False))
    if worker == "Z.2X" and job_type not in (None, "glueray"):
        findings.append(("worker_type", f"Z.2X is only for glueray jobs, not {job_type}", False))
    return findings


def _check_pythonshell_workers(job: Mapping[str, Any]) -> list[Finding]:
    """A Python shell job is sized by max_capacity alone; Glue refuses workers for it."""
    if job.get("job_type") != "pythonshell":
        return []
    return [
        (field, "cannot be set for a pythonshell job (size it with max_capacity: 0.0625 or 1)", False)
        for field in ("worker_type", "number_of_workers")
        if job.get(field) is not None
    ]


def _check_arguments(arguments: Mapping[str, Template]) -> list[Finding]:
    findings: list[Finding] = []
    for name, template in arguments.items():
        field = f"arguments.{name}"
        if not name.startswith("--"):
            findings.append((field, "argument names start with '--'", False))
        elif name in RESERVED_ARGUMENTS:
            findings.append((field, f"{name} is set by Glue itself and cannot be passed", False))
        is_literal = not template.placeholders
        if looks_secret(name) and is_literal and not SECRET_REFERENCE.match(template.source):
            findings.append(
                (
                    field,
                    "looks like a plaintext secret; job arguments may be logged: pass a Secrets Manager "
                    "or SSM parameter ARN and read the secret in the job",
                    False,
                )
            )
    literal_size = arguments_size({k: "".join(p for p in t.parts if isinstance(p, str)) for k, t in arguments.items()})
    if literal_size > ARGUMENTS_MAX_BYTES:
        findings.append(
            (
                "arguments",
                f"total size {literal_size} bytes exceeds Glue's limit of {ARGUMENTS_MAX_BYTES}",
                False,
            )
        )
    return findings


def check_template_variables(
    source: Source, templates: Mapping[str, Template], *, batched: bool = False
) -> list[tuple[str, str]]:
    """(field, message) for every placeholder that ``source`` can never fill, or that can't compile.

    Also a constant ``idempotency_key`` (no placeholder at all): it would make every event one run.
    ``batched``: the trigger gathers files into batches, whose runs have no one file's variables.
    """
    from gluetrigger.core.variables import COMMON_VARIABLES, S3_VARIABLES

    findings: list[tuple[str, str]] = []
    key = templates.get("idempotency_key")
    if key is not None and not key.placeholders:
        findings.append(
            ("idempotency_key", "uses no variable: every event would have the same key and only the first would run")
        )
    for field, template in templates.items():
        findings += [(field, message) for message in _placeholder_problems(source, template, batched=batched)]
    if isinstance(source, S3Source) and source.key_pattern is not None:
        for group in source.key_pattern.groupindex:
            if group in COMMON_VARIABLES | S3_VARIABLES:
                findings.append(("source.key_pattern", f"group name {group!r} shadows the built-in variable"))
    return findings


def _placeholder_problems(source: Source, template: Template, *, batched: bool) -> list[str]:
    """Why each placeholder of ``template`` cannot be filled for a trigger on ``source``."""
    from gluetrigger.core.variables import BATCH_VARIABLES, available_variables, per_file_variables

    available = available_variables(source, batched=batched)
    offered = ", ".join(sorted(available))
    problems: list[str] = []
    for placeholder in template.placeholders:
        if placeholder.kind == "var" and placeholder.arg not in available:
            if batched and placeholder.arg in per_file_variables(source):
                why = "describes one file, and a batch trigger's run covers many: read them from ${manifest}"
            elif placeholder.arg in BATCH_VARIABLES:
                why = "is provided only by a trigger with batch"
            else:
                why = f"is never provided by a {source.type} source"
            problems.append(f"variable {placeholder} {why}; available: {offered}")
        elif placeholder.kind == "event" and batched:
            problems.append(
                f"{placeholder} reads one file's event, and a batch trigger's run covers many: "
                "read them from ${manifest}"
            )
        elif placeholder.kind == "event":
            problem = _jmespath_problem(placeholder.arg)
            if problem:
                problems.append(f"{placeholder}: invalid JMESPath expression: {problem}")
    return problems


def _jmespath_problem(expression: str) -> str | None:
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        parsed = jmespath.compile(expression).parsed
    except JMESPathError as exc:
        return str(exc).splitlines()[0]
    return _function_problem(parsed)


def _function_problem(node: Any) -> str | None:
    """An unknown function or a wrong argument count: JMESPath finds these only on an event."""
    from jmespath.functions import Functions

    if not isinstance(node, Mapping):
        return None
    if node.get("type") == "function_expression":
        name, count = node.get("value"), len(node.get("children", []))
        entry = Functions.FUNCTION_TABLE.get(name)
        if entry is None:
            return f"unknown function {name}()"
        signature = entry["signature"]
        variadic = bool(signature) and signature[-1].get("variadic", False)
        if count < len(signature) or (count > len(signature) and not variadic):
            expected = f"at least {len(signature)}" if variadic else str(len(signature))
            return f"function {name}() takes {expected} argument(s), not {count}"
    for child in node.get("children", []):
        problem = _function_problem(child)
        if problem:
            return problem
    return None
