"""StartJobRun's rules, checked before anything is deployed.

Glue itself rejects a bad request only when a run is attempted, at 2 a.m., and the local
emulator does not check these at all: this module is the guard. Rules follow the StartJobRun
reference and the Glue API model; each returns the job field at fault and a one-line message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gluetrigger.core.glue_api import (
    ARGUMENTS_MAX_BYTES,
    EXECUTION_CLASSES,
    JOB_TYPES,
    RESERVED_ARGUMENTS,
    WORKER_TYPES,
)
from gluetrigger.core.model import S3Source

if TYPE_CHECKING:
    from gluetrigger.core.model import Source
    from gluetrigger.core.templates import Template

__all__ = [
    "arguments_size",
    "check_job",
    "check_template_variables",
    "compact_policy",
    "is_int",
    "looks_secret",
]

# Argument names that suggest a credential; "api key" in any spelling (api_key, apikey, api-key).
SECRET_NAME = re.compile(r"pass(word|wd)|secret|token|api[-_]?key|credential", re.IGNORECASE)
# A literal that points at a secret store rather than holding the secret is what the reference asks for.
SECRET_REFERENCE = re.compile(r"^arn:aws[a-z-]*:(secretsmanager|ssm):")
POLICY_MIN, POLICY_MAX = 2, 2048
NAME_MAX = 255
TIMEOUT_MAX = 10080

Finding = tuple[str, str, bool]  # (job field, message, is_warning)


def is_int(value: object) -> bool:
    """True for ints but not bools (YAML's ``true`` must not pass as 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def looks_secret(name: str) -> bool:
    return SECRET_NAME.search(name) is not None


def arguments_size(arguments: Mapping[str, str]) -> int:
    """Bytes Glue counts against the Arguments limit: every key and value, UTF-8."""
    return sum(len(k.encode()) + len(v.encode()) for k, v in arguments.items())


def compact_policy(policy: object) -> str | None:
    """The session policy as sent: compact JSON; None when it is not a JSON object."""
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return None
    if not isinstance(policy, Mapping):
        return None
    try:
        return json.dumps(policy, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):  # a value JSON cannot carry (a date, say)
        return None


def check_job(job: Mapping[str, Any], arguments: Mapping[str, Template]) -> list[Finding]:
    """Every StartJobRun rule that ``job`` (a raw job block) breaks."""
    findings: list[Finding] = []
    findings += _check_strings(job)
    findings += _check_numbers(job)
    findings += _check_enums(job)
    findings += _check_capacity(job)
    findings += _check_job_type(job)
    findings += _check_policy(job)
    findings += _check_arguments(arguments)
    return findings


def _check_strings(job: Mapping[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    name = job.get("name")
    if name is None:
        findings.append(("name", "required: the Glue job name (JobName)", False))
    elif not isinstance(name, str) or not 1 <= len(name) <= NAME_MAX:
        findings.append(("name", f"must be a string of 1..{NAME_MAX} characters", False))
    elif "${" in name:
        findings.append(("name", "must be literal: IAM is scoped to the job's ARN at deploy time", False))
    security = job.get("security_configuration")
    if security is not None and (not isinstance(security, str) or not 1 <= len(security) <= NAME_MAX):
        findings.append(("security_configuration", f"must be a string of 1..{NAME_MAX} characters", False))
    queuing = job.get("job_run_queuing_enabled")
    if queuing is not None and not isinstance(queuing, bool):
        findings.append(("job_run_queuing_enabled", "must be true or false", False))
    return findings


def _check_numbers(job: Mapping[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    timeout = job.get("timeout")
    if timeout is not None and (not is_int(timeout) or not 1 <= timeout <= TIMEOUT_MAX):
        findings.append(("timeout", f"must be an integer number of minutes, 1..{TIMEOUT_MAX} (7 days)", False))
    delay = job.get("notify_delay_after")
    if delay is not None and (not is_int(delay) or delay < 1):
        findings.append(("notify_delay_after", "must be an integer number of minutes >= 1", False))
    workers = job.get("number_of_workers")
    if workers is not None and (not is_int(workers) or workers < 1):
        findings.append(("number_of_workers", "must be a positive integer", False))
    allocated = job.get("allocated_capacity")
    if allocated is not None:
        if not is_int(allocated) or allocated < 2:
            findings.append(("allocated_capacity", "must be an integer >= 2 (DPUs)", False))
        else:
            findings.append(("allocated_capacity", "is deprecated by Glue; use max_capacity instead", True))
    capacity = job.get("max_capacity")
    if capacity is not None and not _valid_max_capacity(capacity):
        findings.append(("max_capacity", "must be 0.0625, 1, or an integer from 2 to 100 (DPUs)", False))
    return findings


def _valid_max_capacity(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return value in (0.0625, 1) or (float(value).is_integer() and 2 <= value <= 100)


def _check_enums(job: Mapping[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    for field, allowed in (
        ("worker_type", WORKER_TYPES),
        ("execution_class", EXECUTION_CLASSES),
        ("job_type", JOB_TYPES),
    ):
        value = job.get(field)
        if value is not None and value not in allowed:
            findings.append((field, f"must be one of {', '.join(allowed)} (got {value!r})", False))
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
    if job_type is not None and capacity is not None and _valid_max_capacity(capacity):
        if job_type == "pythonshell" and capacity not in (0.0625, 1):
            findings.append(("max_capacity", "must be 0.0625 or 1 for a pythonshell job", False))
        if job_type in ("glueetl", "gluestreaming") and not 2 <= capacity <= 100:
            findings.append(("max_capacity", f"must be an integer from 2 to 100 for a {job_type} job", False))
    if job.get("execution_class") == "FLEX" and job_type not in (None, "glueetl"):
        findings.append(("execution_class", f"FLEX is only for glueetl jobs, not {job_type}", False))
    worker = job.get("worker_type")
    if worker == "G.025X" and job_type not in (None, "gluestreaming"):
        findings.append(("worker_type", f"G.025X is only for gluestreaming jobs, not {job_type}", False))
    if worker == "Z.2X" and job_type not in (None, "glueray"):
        findings.append(("worker_type", f"Z.2X is only for glueray jobs, not {job_type}", False))
    return findings


def _check_policy(job: Mapping[str, Any]) -> list[Finding]:
    policy = job.get("execution_role_session_policy")
    if policy is None:
        return []
    field = "execution_role_session_policy"
    compact = compact_policy(policy)
    if compact is None:
        return [(field, "must be an IAM policy: a mapping or a JSON object string", False)]
    document = json.loads(compact)
    if "Version" not in document or "Statement" not in document:
        return [(field, "must be an IAM policy with Version and Statement", False)]
    if not POLICY_MIN <= len(compact) <= POLICY_MAX:
        return [(field, f"is {len(compact)} characters as sent; must be {POLICY_MIN}..{POLICY_MAX}", False)]
    return []


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


def check_template_variables(source: Source, templates: Mapping[str, Template]) -> list[tuple[str, str]]:
    """(field, message) for every placeholder that ``source`` can never fill, or that can't compile."""
    from gluetrigger.core.variables import COMMON_VARIABLES, S3_VARIABLES, available_variables

    available = available_variables(source)
    findings: list[tuple[str, str]] = []
    for field, template in templates.items():
        for placeholder in template.placeholders:
            if placeholder.kind == "var" and placeholder.arg not in available:
                offered = ", ".join(sorted(available))
                findings.append(
                    (
                        field,
                        f"variable {placeholder} is never provided by a {source.type} source; available: {offered}",
                    )
                )
            elif placeholder.kind == "event":
                problem = _jmespath_problem(placeholder.arg)
                if problem:
                    findings.append((field, f"{placeholder}: invalid JMESPath expression: {problem}"))
    if isinstance(source, S3Source) and source.key_pattern is not None:
        for group in source.key_pattern.groupindex:
            if group in COMMON_VARIABLES | S3_VARIABLES:
                findings.append(("source.key_pattern", f"group name {group!r} shadows the built-in variable"))
    return findings


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
