"""The StartJobRun request as one table: each job field of triggers.yaml, its request member, its rule.

Every row of :data:`FIELDS` says, for one field of a trigger's ``job`` block: its name in
triggers.yaml, the StartJobRun request member it becomes, how a value is checked (the one-line
message when it is wrong), how a valid value is read into :class:`~gluetrigger.core.model.JobSpec`
and how it is encoded into the request (``notify_delay_after: 5`` is sent as
``"NotificationProperty": {"NotifyDelayAfter": 5}``). The table drives which job fields the
config accepts (:mod:`gluetrigger.core.config`), the per-field checks
(:mod:`gluetrigger.core.validation`, which adds the rules that span several fields) and the
request the planner builds, in the API's member order. A new StartJobRun member is one row and
its rule.

How JobSpec stays typed: the three fields that are more than a value each keep a typed attribute
of the same name (``name``, the literal job name the deployment scopes IAM to; ``job_run_id``, a
template; ``arguments``, templates), and their rows say ``setting=False``. Every other row is a
plain scalar, held in ``JobSpec.settings`` keyed by the row's name, as :attr:`JobField.read`
made it: one mapping instead of an attribute per row, so a new row needs no change to the model.

The allowed values and limits sit here too, as plain constants, so a unit test can compare them
with botocore's Glue service model: when AWS adds a worker type or a request member, the test
fails instead of the validator silently refusing valid configs.

Each row's :class:`Rule` says its rule twice from one place: as the check the validator runs and
as the JSON Schema editors check the field with (:mod:`gluetrigger.core.schema` publishes it), so
the two cannot drift apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

__all__ = [
    "ARGUMENTS_MAX_BYTES",
    "EXECUTION_CLASSES",
    "FIELDS",
    "INT32_MAX",
    "JOB_TYPES",
    "MAX_CAPACITY_MAX",
    "MAX_CAPACITY_MIN",
    "NAME_MAX",
    "POLICY_MAX",
    "POLICY_MIN",
    "RESERVED_ARGUMENTS",
    "RUN_KEY_ARGUMENT_NAME",
    "SHELL_CAPACITIES",
    "TIMEOUT_MAX",
    "WORKER_TYPES",
    "Check",
    "JobField",
    "RequestShape",
    "Rule",
    "Schema",
    "Setting",
    "arguments_size",
    "compact_policy",
    "is_int",
    "request",
    "valid_max_capacity",
]

WORKER_TYPES: tuple[str, ...] = (
    "Standard",
    "G.1X",
    "G.2X",
    "G.025X",
    "G.4X",
    "G.8X",
    "Z.2X",
    "G.12X",
    "G.16X",
    "R.1X",
    "R.2X",
    "R.4X",
    "R.8X",
)

EXECUTION_CLASSES: tuple[str, ...] = ("FLEX", "STANDARD")

# JobCommand.Name values that carry type-specific capacity rules.
JOB_TYPES: tuple[str, ...] = ("glueetl", "gluestreaming", "pythonshell", "glueray")

# Arguments Glue sets itself; passing them breaks the run or the job's bookkeeping.
RESERVED_ARGUMENTS: frozenset[str] = frozenset({"--conf", "--debug", "--mode", "--JOB_NAME"})

# Glue refuses a request whose Arguments exceed 260 KB (keys and values, UTF-8).
ARGUMENTS_MAX_BYTES = 260 * 1024

# The run-key argument's name (see gluetrigger.core.run_key): a plain Glue argument name.
RUN_KEY_ARGUMENT_NAME = re.compile(r"^--[A-Za-z0-9_.-]{1,128}$")

# Lengths and ranges from the StartJobRun reference and the Glue API model.
NAME_MAX = 255
TIMEOUT_MAX = 10080
POLICY_MIN, POLICY_MAX = 2, 2048
# The API's integer members are 32-bit: Glue refuses a larger value at the run, not at deploy.
INT32_MAX = 2**31 - 1
# MaxCapacity in DPUs: one of these (a Python shell job's sizes), or an integer in the range.
SHELL_CAPACITIES = (0.0625, 1)
# What IAM reads as a wildcard inside a resource ARN ('${', a policy variable, is refused as a template).
IAM_WILDCARDS = ("*", "?")
MAX_CAPACITY_MIN, MAX_CAPACITY_MAX = 2, 100

# A plain request value as JobSpec.settings holds it.
Setting: TypeAlias = bool | int | float | str
# A field's rule: the message for a present value that breaks it, None when it holds.
Check: TypeAlias = Callable[[Any], str | None]
# A JSON Schema (draft 2020-12) of a field's valid values, as far as JSON Schema can say it.
Schema: TypeAlias = Mapping[str, Any]


def is_int(value: object) -> bool:
    """True for ints but not bools (YAML's ``true`` must not pass as 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def valid_max_capacity(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return value in SHELL_CAPACITIES or (float(value).is_integer() and MAX_CAPACITY_MIN <= value <= MAX_CAPACITY_MAX)


def compact_policy(policy: object) -> str:
    """The session policy as sent: compact JSON; ValueError or TypeError when it is not a JSON object."""
    if isinstance(policy, str):
        policy = json.loads(policy)
    if not isinstance(policy, Mapping):
        raise TypeError("an IAM policy is a JSON object")
    # TypeError for a value JSON cannot carry (a YAML date, say).
    return json.dumps(policy, separators=(",", ":"), ensure_ascii=False)


def arguments_size(arguments: Mapping[str, str]) -> int:
    """Bytes Glue counts against the Arguments limit: every key and value, UTF-8."""
    return sum(len(k.encode()) + len(v.encode()) for k, v in arguments.items())


def _as_is(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Rule:
    """A field's own rule, for two readers: the validator calls it, editors read its ``schema``.

    ``schema`` says what JSON Schema can say of a valid value (its type, range or allowed values;
    never a rule that spans fields, which validation adds); ``problem`` gives the one-line message
    for a present value that breaks the rule. A field without ``problem`` is checked elsewhere
    (a template: config parses it).
    """

    schema: Schema
    problem: Check | None = None

    def __call__(self, value: Any) -> str | None:
        """The message for a present ``value`` that breaks the rule; None when it holds."""
        return None if self.problem is None else self.problem(value)


def _integer(low: int, high: int, message: str) -> Rule:
    def problem(value: Any) -> str | None:
        return None if is_int(value) and low <= value <= high else message

    return Rule({"type": "integer", "minimum": low, "maximum": high}, problem)


def _one_of(allowed: tuple[str, ...]) -> Rule:
    def problem(value: Any) -> str | None:
        return None if value in allowed else f"must be one of {', '.join(allowed)} (got {value!r})"

    return Rule({"type": "string", "enum": list(allowed)}, problem)


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _text(value: Any) -> str | None:
    return (
        None
        if isinstance(value, str) and 1 <= len(value) <= NAME_MAX
        else f"must be a string of 1..{NAME_MAX} characters"
    )


def _job_name(value: Any) -> str | None:
    """The deployment grants glue:StartJobRun on the job's ARN: IAM must read the name literally."""
    if (problem := _text(value)) is not None:
        return problem
    if "${" in value:
        return "must be literal: IAM is scoped to the job's ARN at deploy time"
    if any(wildcard in value for wildcard in IAM_WILDCARDS):
        return "contains '*' or '?', which IAM would read as a wildcard in the deployed grant; rename the job"
    return None


def _max_capacity(value: Any) -> str | None:
    return None if valid_max_capacity(value) else "must be 0.0625, 1, or an integer from 2 to 100 (DPUs)"


def _session_policy(value: Any) -> str | None:
    try:
        compact = compact_policy(value)
    except (TypeError, ValueError):
        return "must be an IAM policy: a mapping or a JSON object string"
    document = json.loads(compact)
    if any(key not in document for key in _POLICY_KEYS):
        return "must be an IAM policy with Version and Statement"
    if not POLICY_MIN <= len(compact) <= POLICY_MAX:
        return f"is {len(compact)} characters as sent; must be {POLICY_MIN}..{POLICY_MAX}"
    return None


def _run_key_argument(value: Any) -> str | None:
    if value is False:
        return None  # off: allowed, and warned about (validation says what it gives up)
    if not isinstance(value, str) or not RUN_KEY_ARGUMENT_NAME.match(value):
        return (
            "must be an argument name such as --gluetrigger-run-key "
            "('--' and 1..128 of A-Z, a-z, 0-9, _, -, .) or false"
        )
    if value in RESERVED_ARGUMENTS:
        return f"{value} is set by Glue itself and cannot be passed"
    return None


def _notification_property(minutes: Any) -> dict[str, Any]:
    return {"NotifyDelayAfter": minutes}


_POLICY_KEYS = ("Version", "Statement")
_NOT_RESERVED: Schema = {"not": {"enum": sorted(RESERVED_ARGUMENTS)}}
_TEXT = Rule({"type": "string", "minLength": 1, "maxLength": NAME_MAX}, _text)
# Templates are rendered per event: config parses them, validation checks the arguments' names.
_TEMPLATE = Rule({"type": "string"})
# The schema asks for every argument value as a string: quoted text is never rewritten by YAML.
_ARGUMENTS = Rule(
    {"type": "object", "propertyNames": {"pattern": "^--", **_NOT_RESERVED}, "additionalProperties": _TEMPLATE.schema}
)
_MAX_CAPACITY = Rule(
    {
        "anyOf": [
            {"enum": list(SHELL_CAPACITIES)},
            {"type": "integer", "minimum": MAX_CAPACITY_MIN, "maximum": MAX_CAPACITY_MAX},
        ]
    },
    _max_capacity,
)
_SESSION_POLICY = Rule(
    {"anyOf": [{"type": "object", "required": list(_POLICY_KEYS)}, {"type": "string"}]}, _session_policy
)
_RUN_KEY_ARGUMENT = Rule(
    {"anyOf": [{"const": False}, {"type": "string", "pattern": RUN_KEY_ARGUMENT_NAME.pattern, **_NOT_RESERVED}]},
    _run_key_argument,
)


@dataclass(frozen=True)
class JobField:
    """One field of a trigger's ``job`` block and the StartJobRun member it becomes."""

    name: str
    # The request member; None for a field that only informs the rules (job_type).
    member: str | None
    check: Rule
    # A valid value as JobSpec.settings holds it (unused when ``setting`` is false).
    read: Callable[[Any], Setting] = _as_is
    # The value as the request member carries it.
    encode: Callable[[Any], Any] = _as_is
    # False: JobSpec has a typed attribute of this name instead of a settings entry.
    setting: bool = True
    # Chooses how capacity is sized: a trigger setting any such field does not inherit the defaults' ones.
    sizing: bool = False
    # The message when the field is missing; None: the field is optional.
    required: str | None = None
    # A warning for a valid value Glue still accepts but no longer recommends.
    deprecated: str | None = None


# triggers.yaml job fields, in the API's request member order (a test compares it with botocore's).
FIELDS: tuple[JobField, ...] = (
    JobField(
        "name",
        "JobName",
        Rule({**_TEXT.schema, "not": {"pattern": r"\$\{|[*?]"}}, _job_name),
        setting=False,
        required="required: the Glue job name (JobName)",
    ),
    JobField("job_run_queuing_enabled", "JobRunQueuingEnabled", Rule({"type": "boolean"}, _boolean)),
    # Templates: config parses them (and validation checks argument names), the planner renders them.
    JobField("job_run_id", "JobRunId", _TEMPLATE, setting=False),
    JobField("arguments", "Arguments", _ARGUMENTS, setting=False),
    JobField(
        "allocated_capacity",
        "AllocatedCapacity",
        _integer(2, INT32_MAX, f"must be an integer from 2 to {INT32_MAX} (DPUs)"),
        sizing=True,
        deprecated="is deprecated by Glue; use max_capacity instead",
    ),
    JobField(
        "timeout",
        "Timeout",
        _integer(1, TIMEOUT_MAX, f"must be an integer number of minutes, 1..{TIMEOUT_MAX} (7 days)"),
    ),
    JobField("max_capacity", "MaxCapacity", _MAX_CAPACITY, read=float, sizing=True),
    JobField("security_configuration", "SecurityConfiguration", _TEXT),
    JobField(
        "notify_delay_after",
        "NotificationProperty",
        _integer(1, INT32_MAX, f"must be an integer number of minutes, 1..{INT32_MAX}"),
        encode=_notification_property,
    ),
    JobField("worker_type", "WorkerType", _one_of(WORKER_TYPES), sizing=True),
    JobField(
        "number_of_workers",
        "NumberOfWorkers",
        _integer(1, INT32_MAX, f"must be a positive integer, at most {INT32_MAX}"),
        sizing=True,
    ),
    JobField("execution_class", "ExecutionClass", _one_of(EXECUTION_CLASSES)),
    JobField("execution_role_session_policy", "ExecutionRoleSessionPolicy", _SESSION_POLICY, read=compact_policy),
    # Not sent: the job's JobCommand.Name, declared so the type-specific rules can apply
    # (and local mode creates its placeholder job with it).
    JobField("job_type", None, _one_of(JOB_TYPES)),
    # Not a request member: the argument the planner adds to every run, so that a run whose start
    # had an unknown outcome can be found again (gluetrigger.core.run_key); false turns it off.
    JobField("run_key_argument", None, _RUN_KEY_ARGUMENT, setting=False),
)


def request(values: Mapping[str, object]) -> dict[str, Any]:
    """The StartJobRun request for a job's values (keyed by field name, templates rendered).

    Members come in the API's order, encoded by their rows; a field that is absent or None is not
    sent, so the job's own default applies.
    """
    return {
        field.member: field.encode(values[field.name])
        for field in FIELDS
        if field.member is not None and values.get(field.name) is not None
    }


class RequestShape:
    """One job's request laid out once: what :func:`request` gives, its fixed members encoded ahead.

    The planner builds a request per run, and all but the rendered fields (``job_run_id``,
    ``arguments``) are the same for every run of a job: walking :data:`FIELDS` for them on every
    event was a tenth of planning one. The layout is a sequence of segments in the API's member
    order, each a dict of fixed members copied as they are, or a row encoded per request: a
    rendered field, or a fixed value whose encoding is a new container (``NotificationProperty``),
    so that no two requests share one.
    """

    def __init__(self, fixed: Mapping[str, object], rendered: Collection[str]) -> None:
        """``fixed``: values by field name, as :func:`request` takes them; ``rendered``: the names
        whose values :meth:`fill` is given per request instead."""
        # A row encoded per request: its member, its row, and its fixed value (None: rendered).
        segments: list[dict[str, Any] | tuple[str, JobField, object]] = []
        for row in FIELDS:
            value = fixed.get(row.name)
            if row.member is None or (value is None and row.name not in rendered):
                continue
            if row.name in rendered or row.encode is not _as_is:
                segments.append((row.member, row, None if row.name in rendered else value))
            elif segments and isinstance(segments[-1], dict):
                segments[-1][row.member] = value
            else:
                segments.append({row.member: value})
        self._segments = tuple(segments)

    def fill(self, rendered: Mapping[str, object]) -> dict[str, Any]:
        """The request, given the rendered fields' values (one that is None is not sent)."""
        built: dict[str, Any] = {}
        for segment in self._segments:
            if isinstance(segment, dict):
                built.update(segment)
                continue
            member, row, value = segment
            if value is None:
                value = rendered.get(row.name)
            if value is not None:
                built[member] = row.encode(value)
        return built
