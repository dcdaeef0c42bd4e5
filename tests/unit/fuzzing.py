"""Hypothesis strategies for hostile input, shared by the fuzz tests (tests/unit/test_fuzz_*.py).

Events are the real shapes of ``examples/events/*.json``, cut to one logical event each so that
"this event is malformed" is a property of the whole payload, then mutated the ways the issue
lists: fields removed or of the wrong type, huge numbers, times at the calendar's edges, deep
nesting, lone surrogates and control characters, 1,024-byte keys, percent-encoding edge cases,
and text that looks like a template. The mutated event is then carried the ways AWS carries
events (directly, in a list, in SQS, in SNS, SNS in SQS) and the envelope is mutated too.

:func:`qualifies` is the oracle: whether a payload is one well-formed event that could honestly
become a run. It is written from the AWS formats (as the inbound schemas state them), not from
gluetrigger's normalizer, so the fuzz tests can assert "no run from malformed input" without
trusting the code under test.

Nesting thousands of levels deep must not make the strategies recurse either: such a value is
drawn as :class:`Deep`, a symbol that :func:`to_text` spells as JSON text and :func:`to_object`
builds iteratively.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from gluetrigger.core.config import parse_config
from gluetrigger.core.errors import EventShapeError
from gluetrigger.core.events import normalize
from gluetrigger.core.planner import Planner
from gluetrigger.core.start_job_run import ARGUMENTS_MAX_BYTES

if TYPE_CHECKING:
    from gluetrigger.core.planner import Plan, PlannedRun

__all__ = [
    "EDGE_TIMES",
    "EXAMPLES",
    "FUZZ_CONFIG",
    "HOSTILE",
    "HOSTILE_TEXT",
    "INNER_EVENTS",
    "MAX_NESTING",
    "PLANNER",
    "QUEUE_ARN",
    "SQS_RECORD",
    "YAML_ODDITIES",
    "Deep",
    "Payload",
    "alias_bomb",
    "check_plan",
    "check_run",
    "configs",
    "json_values",
    "payloads",
    "plan_or_refusal",
    "qualifies",
    "sqs_batches",
    "to_object",
    "to_text",
]

EXAMPLES = Path(__file__).parents[2] / "examples" / "events"
# The nesting gluetrigger promises to read (gluetrigger.core.events.MAX_NESTING), restated here
# so the oracle does not take it from the code under test.
MAX_NESTING = 64

# Text that has broken naive event handling somewhere: lone surrogates and control characters,
# S3's 1,024-byte key limit (and one byte over), percent-encoding edge cases, template syntax.
HOSTILE_TEXT = (
    "\ud800",
    "key\udfff.csv",
    "\x00",
    "line\nbreak",
    "\r\n",
    "\x1b[31mred\x1b[0m",
    "\u2028\u2029",
    "\x7f\x85",
    "\ufeff",
    "k" * 1024,
    "é" * 512,
    "😀" * 256,
    "k" * 1025,
    "%",
    "%2",
    "%zz",
    "%ff%fe",
    "%ed%a0%80",
    "%00",
    "+",
    "%2B",
    "%25",
    "%252F",
    "a+b%20c%2Fd",
    "${bucket}",
    "${key}",
    "${event:detail}",
    "${time:%Y}",
    "$$",
    "$${key}",
    "${",
    "}",
    "${unknown}",
    "$",
)
# Times at and past the calendar's edges, each with whether it is a real instant in UTC.
EDGE_TIMES = {
    "0001-01-01T00:00:00Z": True,
    "0001-01-01T00:00:00-14:00": True,
    "0001-01-01T00:00:00+00:01": False,
    "9999-12-31T23:59:59.999999Z": True,
    "9999-12-31T23:59:59+14:00": True,
    "9999-12-31T23:59:59-00:01": False,
    "1970-01-01T00:00:00Z": True,
    "2038-01-19T03:14:08Z": True,
    "2024-02-29T12:00:00Z": True,
    "2026-02-29T12:00:00Z": False,
    "2026-11-24T24:00:00Z": False,
    "2026-11-24T23:59:60Z": False,
    "2026-11-24T00:00:00+24:00": False,
    "10000-01-01T00:00:00Z": False,
    "0000-12-31T23:59:59Z": False,
    "-0001-01-01T00:00:00Z": False,
    "": False,
}
HUGE_NUMBERS = (2**63, -(2**63) - 1, 10**30, 10**4000, 1e308, -1e308, 5e-324, float("inf"), float("nan"), -0.0)
WRONG_TYPES = (None, True, False, 0, -1, 1.5, "", "text", [], [1], {}, {"a": 1})
# Fields worth mutating more often than their share of a document's paths.
INTERESTING_FIELDS = frozenset(
    {
        "Records", "eventName", "eventTime", "eventSource", "EventSource", "s3", "bucket", "object", "name", "key",
        "size", "eTag", "etag", "id", "time", "source", "detail-type", "detail", "resources", "region", "account",
        "body", "messageId", "eventSourceARN", "Sns", "Type", "Message", "MessageId", "TopicArn", "sequencer",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Deep:
    """A value ``depth`` levels deep, kept symbolic so that drawing or encoding it never recurses."""

    depth: int
    kind: str = "list"

    def text(self) -> str:
        if self.kind == "list":
            return "[" * self.depth + "]" * self.depth
        return '{"a": ' * self.depth + "null" + "}" * self.depth

    def build(self) -> object:
        value: object = None
        for _ in range(self.depth):
            value = [value] if self.kind == "list" else {"a": value}
        return value


def to_text(document: object, *, ensure_ascii: bool = True) -> str:
    """``document`` as JSON text, each :class:`Deep` spelled out where it stands."""
    holes: dict[str, str] = {}

    def swap(value: object) -> object:
        if isinstance(value, Deep):
            token = f"\x00deep{len(holes)}\x00"
            holes[json.dumps(token)] = value.text()
            return token
        if isinstance(value, dict):
            return {key: swap(item) for key, item in value.items()}
        if isinstance(value, list):
            return [swap(item) for item in value]
        return value

    text = json.dumps(swap(document), ensure_ascii=ensure_ascii)
    for token, nested in holes.items():
        text = text.replace(token, nested)
    return text


def to_object(document: object) -> object:
    """``document`` as the decoded JSON a Lambda receives, each :class:`Deep` built."""
    if isinstance(document, Deep):
        return document.build()
    if isinstance(document, dict):
        return {key: to_object(item) for key, item in document.items()}
    if isinstance(document, list):
        return [to_object(item) for item in document]
    return document


@dataclass(frozen=True)
class Payload:
    """One drawn payload: a document that may hold :class:`Deep` values, and how it was made."""

    document: object
    how: str

    def text(self) -> str:
        return to_text(self.document)

    def decoded(self) -> object:
        return to_object(self.document)


# --- the oracle ------------------------------------------------------------------------------


def qualifies(payload: object) -> bool:
    """Whether ``payload`` (decoded) is one well-formed event, in any envelope, that may become a run.

    False for anything an AWS format refuses: a field the service reads missing or of the wrong
    type, a time that is no instant, a body that is not JSON, text that is not Unicode, nesting
    past MAX_NESTING. True does not mean a run: no trigger may match.
    """
    if not _readable(payload):
        return False
    if isinstance(payload, list):
        return len(payload) == 1 and _event_qualifies(payload[0])
    return _event_qualifies(payload)


def _readable(document: object) -> bool:
    pending: list[tuple[object, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str) and re.search("[\ud800-\udfff]", value):
            return False
        if isinstance(value, dict | list):
            if depth >= MAX_NESTING:
                return False
            items = [*value, *value.values()] if isinstance(value, dict) else value
            pending += [(item, depth + 1) for item in items]
    return True


def _event_qualifies(event: object) -> bool:
    if not isinstance(event, dict):
        return False
    if isinstance(event.get("Records"), list):
        records = event["Records"]
        return len(records) == 1 and isinstance(records[0], dict) and _record_qualifies(records[0])
    if event.get("Event") == "s3:TestEvent":
        return False
    if event.get("Type") in ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"):
        return _sns_qualifies(event)
    if all(name in event for name in ("detail-type", "source", "detail")):
        return _eventbridge_qualifies(event)
    return False


def _record_qualifies(record: dict[str, Any]) -> bool:
    source = record["eventSource"] if "eventSource" in record else record.get("EventSource")
    if source == "aws:sqs":
        return (
            _nonempty(record.get("messageId"))
            and _optional(record, "eventSourceARN", str)
            and _body_qualifies(record.get("body"))
        )
    if source == "aws:sns":
        return isinstance(record.get("Sns"), dict) and _sns_qualifies(record["Sns"])
    if source == "aws:s3" or (source is None and "s3" in record):
        return _s3_record_qualifies(record)
    return False


def _sns_qualifies(message: dict[str, Any]) -> bool:
    return (
        message.get("Type") == "Notification"
        and _optional(message, "MessageId", str)
        and _optional(message, "TopicArn", str)
        and _body_qualifies(message.get("Message"))
    )


def _body_qualifies(body: object) -> bool:
    if not isinstance(body, str):
        return False
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return _readable(decoded) and _event_qualifies(decoded)


def _s3_record_qualifies(record: dict[str, Any]) -> bool:
    s3 = record.get("s3")
    bucket = s3.get("bucket") if isinstance(s3, dict) else None
    obj = s3.get("object") if isinstance(s3, dict) else None
    name = record.get("eventName")
    return (
        isinstance(name, str)
        and name.removeprefix("s3:").startswith("ObjectCreated:")
        and _instant(record.get("eventTime"))
        and _optional(record, "awsRegion", str)
        and isinstance(bucket, dict)
        and _nonempty(bucket.get("name"))
        and isinstance(obj, dict)
        and _object_qualifies(obj, "eTag", "versionId")
    )


def _eventbridge_qualifies(event: dict[str, Any]) -> bool:
    source, detail_type, detail = event["source"], event["detail-type"], event["detail"]
    if not (
        _nonempty(event.get("id"))
        and _nonempty(source)
        and isinstance(detail_type, str)
        and isinstance(detail, dict | str)
        and _instant(event.get("time"))
        and _optional(event, "region", str)
        and _optional(event, "account", str)
    ):
        return False
    if source == "aws.s3" and detail_type == "Object Created" and isinstance(detail, dict):
        bucket, obj = detail.get("bucket"), detail.get("object")
        return (
            isinstance(bucket, dict)
            and _nonempty(bucket.get("name"))
            and isinstance(obj, dict)
            and _object_qualifies(obj, "etag", "version-id")
            and _optional(obj, "eTag", str)
        )
    if source in ("aws.events", "aws.scheduler") and detail_type == "Scheduled Event":
        resources = event.get("resources")
        return resources is None or (isinstance(resources, list) and all(isinstance(r, str) for r in resources))
    return True


def _object_qualifies(obj: dict[str, Any], etag: str, version: str) -> bool:
    size = obj.get("size")
    return (
        _nonempty(obj.get("key"))
        and (size is None or (isinstance(size, int) and not isinstance(size, bool)))
        and all(_optional(obj, name, str) for name in (etag, version, "sequencer"))
    )


def _instant(value: object) -> bool:
    """An ISO 8601 time that is a real instant in UTC (the standard library is the reference)."""
    if not isinstance(value, str) or not value:
        return False
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        return False
    return True


def _nonempty(value: object) -> bool:
    return isinstance(value, str) and value != ""


def _optional(mapping: dict[str, Any], name: str, kind: type) -> bool:
    value = mapping.get(name)
    return value is None or isinstance(value, kind)


# --- strategies ------------------------------------------------------------------------------


def json_values(max_leaves: int = 20) -> st.SearchStrategy[object]:
    """Random JSON, as Python's decoder yields it (NaN and Infinity included: json.loads reads them)."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.sampled_from(HUGE_NUMBERS),
        st.text(max_size=20),
        HOSTILE,
    )
    return st.recursive(
        scalars,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
        max_leaves=max_leaves,
    )


# Strategies are built once: building one (a recursive one above all) costs more than a draw.
HOSTILE = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.lists(st.sampled_from(HOSTILE_TEXT), min_size=2, max_size=4).map("".join),
    st.text(st.characters(exclude_categories=()), max_size=30),  # any code point, surrogates included
)
SMALL_JSON = json_values(max_leaves=6)
_REPLACEMENTS = (
    st.sampled_from(WRONG_TYPES).map(copy.deepcopy),  # a fresh list or dict each time: drawn values get mutated
    HOSTILE,
    st.sampled_from(HUGE_NUMBERS),
    st.builds(Deep, st.sampled_from([MAX_NESTING - 8, MAX_NESTING + 1, 300, 5000]), st.sampled_from(["list", "map"])),
    SMALL_JSON,
)
REPLACEMENT = st.one_of(_REPLACEMENTS)
TIME_REPLACEMENT = st.one_of(st.sampled_from(sorted(EDGE_TIMES)), *_REPLACEMENTS)


def _paths(document: object, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    items = (
        document.items() if isinstance(document, dict) else enumerate(document) if isinstance(document, list) else []
    )
    for name, value in items:
        found.append((*prefix, name))
        found += _paths(value, (*prefix, name))
    return found


@st.composite
def _mutated(draw: st.DrawFn, document: dict[str, Any], at_most: int) -> tuple[dict[str, Any], list[str]]:
    """``document`` with up to ``at_most`` mutations; the list says what each one did."""
    document = copy.deepcopy(document)
    done: list[str] = []
    for _ in range(draw(st.integers(0, at_most))):
        paths = _paths(document)
        interesting = [p for p in paths if p[-1] in INTERESTING_FIELDS]
        if not paths:
            break
        path = (
            draw(st.sampled_from(interesting)) if interesting and draw(st.booleans()) else draw(st.sampled_from(paths))
        )
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        operation = draw(st.sampled_from(["delete", "replace", "replace", "add-key"]))
        if operation == "delete":
            del parent[path[-1]]
        elif operation == "replace":
            parent[path[-1]] = draw(TIME_REPLACEMENT if path[-1] in ("eventTime", "time") else REPLACEMENT)
        elif isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(HOSTILE)] = draw(SMALL_JSON)
        done.append(f"{operation} {'.'.join(map(str, path))}")
    return document, done


def _example(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return document


def _one_record(name: str) -> dict[str, Any]:
    document = _example(name)
    document["Records"] = document["Records"][:1]
    return document


def _inner_events() -> dict[str, dict[str, Any]]:
    """The logical events of the examples, one per payload."""
    return {
        "s3": _one_record("s3-notification.json"),
        "s3-removed": _example("s3-object-removed.json"),
        "s3-test": _example("s3-test-event.json"),
        "eventbridge-s3": _example("eventbridge-s3-object-created.json"),
        "custom": _example("eventbridge-custom-event.json"),
        "scheduled": _example("eventbridge-scheduled-event.json"),
        "scheduler": _example("scheduler-payload.json"),
    }


def _sqs_record() -> dict[str, Any]:
    record: dict[str, Any] = _example("sqs-s3-notifications.json")["Records"][0]
    return record


def _sns_message() -> dict[str, Any]:
    message: dict[str, Any] = json.loads(_example("sqs-sns-s3-notification.json")["Records"][0]["body"])
    return message


def _sns_record() -> dict[str, Any]:
    record: dict[str, Any] = _example("sns-s3-notification.json")["Records"][0]
    return record


INNER_EVENTS = _inner_events()
SQS_RECORD = _sqs_record()
SNS_MESSAGE = _sns_message()
SNS_RECORD = _sns_record()


def _wrapped(inner: object, envelope: str) -> object:
    """``inner`` (a document) carried the way ``envelope`` names."""
    if envelope == "direct":
        return inner
    if envelope == "list":
        return [inner]
    if envelope == "sns":
        return {"Records": [{**SNS_RECORD, "Sns": {**SNS_RECORD["Sns"], "Message": to_text(inner)}}]}
    if envelope == "sqs-sns":
        inner = {**SNS_MESSAGE, "Message": to_text(inner)}
    return {"Records": [{**SQS_RECORD, "body": to_text(inner)}]}


ENVELOPES = ("direct", "list", "sqs", "sns", "sqs-sns")


@st.composite
def payloads(draw: st.DrawFn, envelopes: tuple[str, ...] = ENVELOPES) -> Payload:
    """A real event shape, mutated, in one of ``envelopes``, whose own fields may be mutated too."""
    name = draw(st.sampled_from(sorted(INNER_EVENTS)))
    inner, inner_changes = draw(_mutated(INNER_EVENTS[name], at_most=3))
    envelope = draw(st.sampled_from(envelopes))
    outer = _wrapped(inner, envelope)
    changes: list[str] = []
    if isinstance(outer, dict):
        outer, changes = draw(_mutated(outer, at_most=2))
    return Payload(outer, f"{name} in {envelope}; inner: {inner_changes}; envelope: {changes}")


def sqs_batches() -> st.SearchStrategy[Payload]:
    """SQS batches (as the event source mapping delivers them) whose records and bodies are mutated."""
    return payloads(envelopes=("sqs", "sqs-sns"))


# --- configs ---------------------------------------------------------------------------------

# Every variable, every template kind ($$, ${name}, ${time:...}, ${event:...}) in every templated
# field (arguments, job_run_id, idempotency_key), on each source type; lenient triggers use only
# what every well-formed event has, so runs happen, strict ones also what many events lack.
FUZZ_CONFIG: dict[str, Any] = {
    "triggers": [
        {
            "name": "s3-plain",
            "source": {"type": "s3", "bucket": "landing-bucket"},
            "job": {
                "name": "etl",
                "arguments": {
                    "--bucket": "${bucket}",
                    "--key": "${key}",
                    "--literal": "$${key} costs $$5 for ${trigger}",
                    "--when": "${event_time}",
                    "--day": "${time:%Y-%m-%d %H:%M:%S %s %j}",
                },
            },
        },
        {
            "name": "s3-everything",
            "source": {
                "type": "s3",
                "bucket": "landing-bucket",
                "key_pattern": r"^(?P<top>[^/]+)/(?P<rest>.*)$",
            },
            "job": {
                "name": "etl",
                "arguments": {
                    "--all": "${bucket} ${key} ${size} ${etag} ${sequencer} ${event_id} ${region}",
                    "--groups": "${top}|${rest}",
                    "--raw": "${event:s3.object.key || detail.object.key}",
                    "--version": "${version_id}",
                    "--account": "${account}",
                },
            },
            "idempotency_key": "${bucket}/${key}@${etag}",
        },
        {
            "name": "nightly-rollup",
            "source": {"type": "schedule", "expression": "cron(0 2 * * ? *)", "timezone": "Europe/Paris"},
            "job": {"name": "rollup", "arguments": {"--date": "${time:%Y-%m-%d}", "--at": "${event:time}"}},
        },
        {
            "name": "orders-exported",
            "source": {
                "type": "event",
                "pattern": {
                    "source": ["com.example.orders"],
                    "detail": {"status": ["SUCCEEDED"], "rows": [{"numeric": [">", 0]}]},
                },
            },
            "job": {
                "name": "orders-load",
                "arguments": {"--export": "${event:detail.exportId}", "--rows": "${event:detail.rows}"},
                "job_run_id": "${event:detail.exportId}",
            },
            "idempotency_key": "${event:detail.exportId}",
        },
        {
            "name": "any-event",
            "source": {"type": "event", "pattern": {"detail-type": [{"anything-but": "Object Created"}]}},
            "job": {
                "name": "catch-all",
                "arguments": {
                    "--detail": "${event:detail}",
                    "--type": '${event:"detail-type"}',
                    "--id": "${event_id}",
                    "--length": "${event:length(detail)}",
                },
            },
            "idempotency_key": "${event:id}",
        },
    ]
}


# YAML that is valid but no JSON: tags for other types, recursion, escapes that are no Unicode.
YAML_ODDITIES = (
    "x: &a [1, *a]\n",
    "x: &a {k: *a}\n",
    'triggers: [{name: "\\ud800"}]\n',
    "triggers: [{name: !!timestamp 2026-13-45}]\n",
    "triggers: [{name: !!timestamp 2026-11-24}]\n",
    "triggers: [{name: !!binary aGVsbG8=}]\n",
    'triggers: [{name: !!binary "@@"}]\n',
    "triggers: !!set {a, b}\n",
    "triggers: !!omap [{a: 1}]\n",
    "triggers: !!pairs [{a: 1}]\n",
    "triggers: !!python/object:os.system ls\n",
    "triggers: [{name: !!float .nan}]\n",
    "triggers: [{name: !!int 0x_}]\n",
    "triggers: [{name: !!str [1]}]\n",
    "%YAML 1.1\n---\ntriggers: []\n...\n---\nsecond: document\n",
    "triggers: [{<<: *undefined}]\n",
    "triggers: [{<<: [1, 2]}]\n",
)


def alias_bomb(levels: int, width: int) -> str:
    """YAML whose aliases expand to ``width ** levels`` values ("billion laughs")."""
    lines = ["a0: &a0 [lol]"]
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + f"\ntriggers: *a{levels - 1}\n"


def _yaml_texts() -> st.SearchStrategy[str]:
    import yaml

    mutated = _mutated(FUZZ_CONFIG, at_most=3).map(lambda drawn: to_text(drawn[0]))  # JSON is YAML
    return st.one_of(
        mutated,
        st.builds(alias_bomb, st.integers(2, 12), st.integers(2, 12)),
        st.builds(lambda d: "triggers: " + Deep(d).text(), st.sampled_from([10, 63, 65, 300])),
        st.builds(lambda d: "".join(f"{' ' * i}k{i}:\n" for i in range(d)) + " " * d + "v\n", st.integers(1, 200)),
        st.builds(lambda n: f"triggers: [{{name: a, job: {{timeout: {'9' * n}}}}}]\n", st.sampled_from([20, 4301])),
        st.sampled_from(YAML_ODDITIES),
        st.builds(yaml.safe_dump, json_values()),
        st.text(st.sampled_from("{}[]:-,&*!|>'\"%@` \n\tab#?<=0.\x00\x85\ufeff"), max_size=60),
    )


def configs() -> st.SearchStrategy[bytes]:
    """triggers.yaml files, as bytes: valid ones mutated, YAML attacks, and text in no encoding we read."""
    texts = _yaml_texts()
    return st.one_of(
        texts.map(lambda text: text.encode("utf-8", "surrogatepass")),
        texts.map(lambda text: text.encode("utf-16")),
        st.builds(lambda text: text.encode("latin-1", "replace"), texts),
        st.binary(max_size=200),
        st.builds(lambda prefix, text: prefix + text.encode("utf-8", "surrogatepass"), st.binary(max_size=4), texts),
    )


# --- checks shared by the fuzz tests ---------------------------------------------------------

PLANNER = Planner(parse_config(FUZZ_CONFIG))
QUEUE_ARN: str = SQS_RECORD["eventSourceARN"]


def plan_or_refusal(document: object) -> Plan | None:
    """The plan for ``document``, or None when the core refuses it whole (with a one-line reason)."""
    try:
        items = normalize(document)
    except EventShapeError as refused:
        reason = str(refused)
    else:
        return PLANNER.plan(items)
    assert reason and reason.isprintable(), reason
    return None


def check_plan(plan: Plan, document: object) -> None:
    """Every reason is one line, a malformed ``document`` started nothing, and each run is sound."""
    for reason in [s.reason for s in plan.ignored] + [r.reason for r in plan.rejected]:
        assert reason and reason.isprintable(), reason
    if not qualifies(document):
        assert plan.runs == [], "a malformed event became a run"
    for run in plan.runs:
        check_run(run)


def check_run(run: PlannedRun) -> None:
    """A run's request is what Glue accepts, and event text in it is copied, never expanded."""
    encoded = json.dumps(run.request, allow_nan=False).encode()  # no NaN, no lone surrogate
    assert len(encoded) < 2 * ARGUMENTS_MAX_BYTES
    run.idempotency_key.encode()
    arguments: dict[str, str] = run.request.get("Arguments", {})
    event = run.event
    if run.trigger.name == "s3-plain":
        assert event.s3 is not None
        assert arguments["--key"] == event.s3.key
        assert arguments["--bucket"] == event.s3.bucket
        assert arguments["--literal"] == "${key} costs $5 for s3-plain"
    if run.trigger.name == "any-event":
        detail = event.raw["detail"]
        expected = detail if isinstance(detail, str) else json.dumps(detail, separators=(",", ":"), ensure_ascii=False)
        assert arguments["--detail"] == expected
        assert arguments["--type"] == event.raw["detail-type"]
        assert arguments["--id"] == event.event_id
