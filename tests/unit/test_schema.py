"""The JSON Schema of triggers.yaml agrees with the parser: same fields, and it refuses what the parser refuses.

The parser (``gluetrigger validate``) is the authority; the schema is what editors check as you
type. Every structural refusal of the parser (an unknown field, a wrong type, a value outside an
enum or an integer range, a missing required field) must be a refusal of the schema too, at the
same place. Most cases are generated from the parser's own field tables and the schema's bounds,
so a new field or limit is covered without a new test.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from gluetrigger.core.config import DEFAULTS_FIELDS, JOB_FIELDS, SOURCE_FIELDS, TOP_FIELDS, TRIGGER_FIELDS, parse_config
from gluetrigger.core.errors import ConfigError
from gluetrigger.core.schema import DIALECT, triggers_schema
from gluetrigger.tooling.cli import main
from gluetrigger.tooling.config_file import load_config, read_document

ROOT = Path(__file__).parents[2]
COMMITTED = ROOT / "schema" / "triggers.schema.json"
SCHEMA = triggers_schema()
VALIDATOR = Draft202012Validator(SCHEMA)
EXAMPLE_CONFIGS = sorted([ROOT / "triggers.yaml", *ROOT.glob("examples/**/*.yaml"), *ROOT.glob("examples/**/*.yml")])
TEST_CONFIGS = [ROOT / "tests/integration/triggers.yaml", ROOT / "tests/infra/triggers-extra.yaml"]

# One trigger per source type; jobs set nothing but their name, so ``defaults`` reach every one.
BASE: dict[str, Any] = {
    "defaults": {"timeout": 60},
    "triggers": [
        {"name": "files", "source": {"type": "s3", "bucket": "landing-bucket"}, "job": {"name": "load"}},
        {"name": "nightly", "source": {"type": "schedule", "expression": "rate(1 hour)"}, "job": {"name": "roll"}},
        {"name": "orders", "source": {"type": "event", "pattern": {"source": ["x"]}}, "job": {"name": "ingest"}},
    ],
}
# Where each object of the document sits in BASE, with the parser's own list of its fields.
LOCATIONS: dict[str, tuple[list[str | int], tuple[str, ...]]] = {
    "document": ([], TOP_FIELDS),
    "defaults": (["defaults"], DEFAULTS_FIELDS),
    "trigger": (["triggers", 0], TRIGGER_FIELDS),
    "job": (["triggers", 0, "job"], JOB_FIELDS),
    **{
        f"source {kind}": (["triggers", index, "source"], SOURCE_FIELDS[kind])
        for index, kind in enumerate(SOURCE_FIELDS)
    },
}
# The schema's definition of each location's object.
DEFINITIONS = {"defaults": "defaults", "trigger": "trigger", "job": "job"} | {
    f"source {kind}": f"source_{kind}" for kind in SOURCE_FIELDS
}
# Fields that need another to be valid on their own (worker_type and number_of_workers go together).
COMPANIONS: dict[str, dict[str, Any]] = {
    "number_of_workers": {"worker_type": "G.1X"},
    "worker_type": {"number_of_workers": 2},
}


def node(document: Any, path: list[str | int]) -> Any:
    for step in path:
        document = document[step]
    return document


def changed(location: str, **values: Any) -> dict[str, Any]:
    """BASE with ``values`` set on the object at ``location``."""
    document = copy.deepcopy(BASE)
    node(document, LOCATIONS[location][0]).update(values)
    return document


def without(location: str, field: str) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    del node(document, LOCATIONS[location][0])[field]
    return document


def parser_problems(document: object) -> list[str]:
    """The parser's problems for ``document``; [] when it accepts it."""
    try:
        parse_config(document)
    except ConfigError as exc:
        return [str(p) for p in exc.problems]
    return []


def leaf_errors(errors: Iterator[ValidationError]) -> Iterator[ValidationError]:
    """The schema's errors, with those of anyOf/oneOf branches in place of the branch's summary."""
    for error in errors:
        if error.context:
            yield from leaf_errors(iter(error.context))
        else:
            yield error


def schema_errors(document: object) -> list[tuple[list[str | int], str]]:
    return [(list(e.absolute_path), e.message) for e in leaf_errors(VALIDATOR.iter_errors(document))]


def refused_at(document: object, path: list[str | int]) -> bool:
    """True when the schema refuses ``document`` at ``path`` or inside it."""
    return any(where[: len(path)] == path for where, _ in schema_errors(document))


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    assert SCHEMA["$schema"] == DIALECT == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)
    assert VALIDATOR.is_valid(BASE)
    assert parser_problems(BASE) == []


def test_the_committed_schema_is_the_one_gluetrigger_schema_prints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert COMMITTED.read_text(encoding="utf-8") == printed, (
        "schema/triggers.schema.json is out of date: regenerate it with `make schema` "
        "(gluetrigger schema --output schema/triggers.schema.json) and commit it"
    )


def test_the_schema_patterns_use_no_python_only_syntax() -> None:
    """Editors run ``pattern`` as ECMAScript regular expressions: no Python-only syntax may slip in."""
    patterns = [value for key, value in walk(SCHEMA) if key == "pattern" and isinstance(value, str)]
    assert len(patterns) >= 5
    python_only = ("(?P<", "(?P=", "\\A", "\\Z", "(?#", "(?i", "(?x")
    assert [p for p in patterns if any(token in p for token in python_only)] == []


def walk(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key, inner
            yield from walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from walk(inner)


@pytest.mark.parametrize("path", EXAMPLE_CONFIGS + TEST_CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_example_config_is_valid_for_the_schema_and_the_parser(path: Path) -> None:
    assert schema_errors(read_document(path)) == []
    assert load_config(path).triggers


@pytest.mark.parametrize("path", EXAMPLE_CONFIGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_example_config_names_the_schema_on_its_first_line(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix), first
    assert (path.parent / first.removeprefix(prefix)).resolve() == COMMITTED.resolve()


@pytest.mark.parametrize("location", sorted(LOCATIONS))
def test_each_object_has_exactly_the_parsers_fields_in_its_order_and_no_other(location: str) -> None:
    definition = SCHEMA if location == "document" else SCHEMA["$defs"][DEFINITIONS[location]]
    assert list(definition["properties"]) == list(LOCATIONS[location][1])
    assert definition["additionalProperties"] is False
    assert [field for field, value in definition["properties"].items() if "description" not in value] == []


def test_the_source_types_are_the_parsers() -> None:
    assert SCHEMA["$defs"]["source"]["properties"]["type"]["enum"] == list(SOURCE_FIELDS)


@pytest.mark.parametrize("location", sorted(LOCATIONS))
def test_an_unknown_field_is_refused_everywhere(location: str) -> None:
    document = changed(location, worker_typo=1)
    assert any("worker_typo: unknown field" in p for p in parser_problems(document)), parser_problems(document)
    assert refused_at(document, LOCATIONS[location][0])


FIELDS_BY_LOCATION = [(location, field) for location, (_, fields) in LOCATIONS.items() for field in fields]


@pytest.mark.parametrize(("location", "field"), FIELDS_BY_LOCATION)
def test_a_value_of_the_wrong_type_is_refused_at_every_field(location: str, field: str) -> None:
    """No field of triggers.yaml holds a list of numbers: both refuse it, naming the field."""
    document = changed(location, **{field: [1]})
    assert any(field in p for p in parser_problems(document)), parser_problems(document)
    assert refused_at(document, [*LOCATIONS[location][0], field])


@pytest.mark.parametrize(("location", "field"), FIELDS_BY_LOCATION)
def test_required_fields_are_the_parsers(location: str, field: str) -> None:
    """A field the schema requires is one whose absence the parser refuses, and the other way round."""
    definition = SCHEMA if location == "document" else SCHEMA["$defs"][DEFINITIONS[location]]
    if field not in node(BASE, LOCATIONS[location][0]):
        assert field not in definition.get("required", [])  # BASE holds every field the schema requires
        return
    document = without(location, field)
    assert bool(parser_problems(document)) is (field in definition.get("required", []))
    assert VALIDATOR.is_valid(document) is (field not in definition.get("required", []))


def integer_bounds() -> list[tuple[str, str, int, bool]]:
    """(location, field, value, valid) at and beyond each integer field's bounds, from the schema."""
    cases: list[tuple[str, str, int, bool]] = []
    for location in ("trigger", "job"):
        for field, value in SCHEMA["$defs"][location]["properties"].items():
            if value.get("type") == "integer":
                low, high = value["minimum"], value["maximum"]
                cases += [(location, field, low, True), (location, field, high, True)]
                cases += [(location, field, low - 1, False), (location, field, high + 1, False)]
    return cases


@pytest.mark.parametrize(("location", "field", "value", "valid"), integer_bounds())
def test_integer_ranges_are_the_parsers(location: str, field: str, value: int, valid: bool) -> None:
    document = changed(location, **{field: value}, **COMPANIONS.get(field, {}))
    assert (parser_problems(document) == []) is valid, parser_problems(document)
    assert VALIDATOR.is_valid(document) is valid


def test_the_integer_fields_include_the_32_bit_ones() -> None:
    assert {(f, v) for _, f, v, ok in integer_bounds() if not ok and v > 10**6} == {
        ("idempotency_ttl_seconds", 31622401),
        ("allocated_capacity", 2**31),
        ("notify_delay_after", 2**31),
        ("number_of_workers", 2**31),
    }


def enum_values() -> list[tuple[str, str, bool]]:
    """(job field, value, valid): every allowed value, and each one's lower case when it differs."""
    cases: list[tuple[str, str, bool]] = []
    for field, value in SCHEMA["$defs"]["job"]["properties"].items():
        for allowed in value.get("enum", []):
            cases.append((field, allowed, True))
            if allowed.lower() != allowed:
                cases.append((field, allowed.lower(), False))
    return cases


@pytest.mark.parametrize(("field", "value", "valid"), enum_values())
def test_allowed_values_are_the_parsers(field: str, value: str, valid: bool) -> None:
    document = changed("job", **{field: value}, **COMPANIONS.get(field, {}))
    assert (parser_problems(document) == []) is valid, parser_problems(document)
    assert VALIDATOR.is_valid(document) is valid


def test_the_enum_fields_are_worker_type_execution_class_and_job_type() -> None:
    assert {field for field, _, _ in enum_values()} == {"worker_type", "execution_class", "job_type"}


# (what, location, values set there, the parser's problem prefix, where the schema refuses it)
REFUSED: list[tuple[str, str, dict[str, Any], str, list[str | int]]] = [
    ("empty job name", "job", {"name": ""}, "files: job.name: must be a string", ["job", "name"]),
    ("long job name", "job", {"name": "x" * 256}, "files: job.name: must be a string", ["job", "name"]),
    ("templated job name", "job", {"name": "etl-${key}"}, "files: job.name: must be literal", ["job", "name"]),
    ("fractional timeout", "job", {"timeout": 1.5}, "files: job.timeout:", ["job", "timeout"]),
    ("boolean timeout", "job", {"timeout": True}, "files: job.timeout:", ["job", "timeout"]),
    ("text timeout", "job", {"timeout": "60"}, "files: job.timeout:", ["job", "timeout"]),
    ("max_capacity 0.5", "job", {"max_capacity": 0.5}, "files: job.max_capacity:", ["job", "max_capacity"]),
    ("max_capacity 2.5", "job", {"max_capacity": 2.5}, "files: job.max_capacity:", ["job", "max_capacity"]),
    ("max_capacity 101", "job", {"max_capacity": 101}, "files: job.max_capacity:", ["job", "max_capacity"]),
    ("max_capacity text", "job", {"max_capacity": "10"}, "files: job.max_capacity:", ["job", "max_capacity"]),
    ("max_capacity true", "job", {"max_capacity": True}, "files: job.max_capacity:", ["job", "max_capacity"]),
    ("queuing yes", "job", {"job_run_queuing_enabled": "yes"}, "files: job.job_run_queuing_enabled:", ["job"]),
    ("empty security config", "job", {"security_configuration": ""}, "files: job.security_configuration:", ["job"]),
    (
        "policy lacks Version",
        "job",
        {"execution_role_session_policy": {"Statement": []}},
        "files: job.execution_role",
        ["job"],
    ),
    ("argument without --", "job", {"arguments": {"input": "x"}}, "files: job.arguments.input:", ["job", "arguments"]),
    ("reserved argument", "job", {"arguments": {"--conf": "x"}}, "files: job.arguments.--conf:", ["job", "arguments"]),
    ("null argument", "job", {"arguments": {"--x": None}}, "files: job.arguments.--x:", ["job", "arguments", "--x"]),
    ("mapping argument", "job", {"arguments": {"--x": {"a": 1}}}, "files: job.arguments.--x:", ["job", "arguments"]),
    ("run key without --", "job", {"run_key_argument": "run-key"}, "files: job.run_key_argument:", ["job"]),
    ("run key with a space", "job", {"run_key_argument": "--a b"}, "files: job.run_key_argument:", ["job"]),
    ("run key true", "job", {"run_key_argument": True}, "files: job.run_key_argument:", ["job"]),
    ("run key reserved", "job", {"run_key_argument": "--JOB_NAME"}, "files: job.run_key_argument:", ["job"]),
    ("upper-case name", "trigger", {"name": "Sales"}, "Sales: name:", ["name"]),
    ("long name", "trigger", {"name": "a" * 65}, "a" * 65 + ": name:", ["name"]),
    ("underscore name", "trigger", {"name": "sales_etl"}, "sales_etl: name:", ["name"]),
    ("numeric description", "trigger", {"description": 3}, "files: description:", ["description"]),
    ("numeric key", "trigger", {"idempotency_key": 5}, "files: idempotency_key:", ["idempotency_key"]),
    ("no source", "trigger", {"source": None}, "files: source: required", ["source"]),
    ("unknown source type", "trigger", {"source": {"type": "sqs"}}, "files: source.type:", ["source", "type"]),
    ("bucket missing", "source s3", {"bucket": None}, "files: source.bucket: required", ["source", "bucket"]),
    ("bad bucket", "source s3", {"bucket": "Bad_Bucket"}, "files: source.bucket:", ["source", "bucket"]),
    ("bucket with ..", "source s3", {"bucket": "a..b"}, "files: source.bucket:", ["source", "bucket"]),
    ("numeric prefix", "source s3", {"prefix": 3}, "files: source.prefix:", ["source", "prefix"]),
    ("prefix with /", "source s3", {"prefix": "/sales/"}, "files: source.prefix:", ["source", "prefix"]),
    ("create yes", "source s3", {"create": "yes"}, "files: source.create:", ["source", "create"]),
    (
        "at() schedule",
        "source schedule",
        {"expression": "at(2030-01-01T00:00:00)"},
        "nightly: source.expression:",
        ["source"],
    ),
    ("Rate()", "source schedule", {"expression": "Rate(1 hour)"}, "nightly: source.expression:", ["source"]),
    (
        "long expression",
        "source schedule",
        {"expression": "rate(1 hour)" + " " * 250},
        "nightly: source.expression:",
        ["source"],
    ),
    ("numeric timezone", "source schedule", {"timezone": 9}, "nightly: source.timezone:", ["source"]),
    ("empty pattern", "source event", {"pattern": {}}, "orders: source.pattern: pattern must", ["source"]),
    ("text pattern", "source event", {"pattern": "x"}, "orders: source.pattern:", ["source"]),
    ("bad bus name", "source event", {"event_bus": "bad bus!"}, "orders: source.event_bus:", ["source"]),
    ("defaults job name", "defaults", {"name": "x"}, "defaults: name: unknown field", []),
    ("defaults timeout 0", "defaults", {"timeout": 0}, "files: job.timeout:", ["timeout"]),
]


def located(location: str, path: list[str | int]) -> list[str | int]:
    """``path``, relative to the trigger (or to ``defaults``), as a path in the document."""
    if location == "defaults":
        return ["defaults", *path]
    return [*LOCATIONS[location][0][:2], *path]


@pytest.mark.parametrize(
    ("location", "values", "problem", "path"), [row[1:] for row in REFUSED], ids=[row[0] for row in REFUSED]
)
def test_what_the_parser_refuses_the_schema_refuses_at_the_same_place(
    location: str, values: dict[str, Any], problem: str, path: list[str | int]
) -> None:
    document = changed(location, **values)
    assert any(p.startswith(problem) for p in parser_problems(document)), parser_problems(document)
    assert refused_at(document, located(location, path)), schema_errors(document)


@pytest.mark.parametrize(
    "document",
    [None, [], {}, {"triggers": []}, {"triggers": [1]}, {"triggers": BASE["triggers"], "defaults": []}],
    ids=["null", "list", "empty", "no triggers", "a number for a trigger", "defaults a list"],
)
def test_documents_the_parser_refuses_are_refused(document: object) -> None:
    assert parser_problems(document)
    assert not VALIDATOR.is_valid(document)


@pytest.mark.parametrize(
    "job",
    [
        {"max_capacity": 0.0625},
        {"max_capacity": 1},
        {"max_capacity": 100},
        {"max_capacity": 10.0},
        {"execution_role_session_policy": {"Version": "2012-10-17", "Statement": []}},
        {"execution_role_session_policy": '{"Version": "2012-10-17", "Statement": []}'},
        {"run_key_argument": False},
        {"run_key_argument": "--rk"},
        {"job_run_id": "${event:detail.jobRunId}"},
        {"arguments": {"--day": "${time-1d:%Y-%m-%d}", "--flag": "true", "--code": "0123"}},
        {"worker_type": "G.1X", "number_of_workers": 2, "execution_class": "FLEX", "job_type": "glueetl"},
    ],
)
def test_what_the_parser_accepts_the_schema_accepts(job: dict[str, Any]) -> None:
    document = changed("job", **job)
    assert parser_problems(document) == []
    assert schema_errors(document) == []


@pytest.mark.parametrize(
    ("job", "parser_accepts", "schema_accepts"),
    [
        # Stricter on purpose: argument values are strings, so an editor asks for the quotes that keep
        # YAML from rewriting a value (0123 is 83); validate sends an unchanged plain 3 or true as text.
        ({"arguments": {"--retries": 3, "--flag": True}}, True, False),
        # JSON Schema's integers include 60.0; Glue's do not, and validate refuses it.
        ({"timeout": 60.0}, False, True),
    ],
)
def test_the_documented_differences_are_the_only_ones_known(
    job: dict[str, Any], parser_accepts: bool, schema_accepts: bool
) -> None:
    document = changed("job", **job)
    assert (parser_problems(document) == []) is parser_accepts
    assert VALIDATOR.is_valid(document) is schema_accepts


def test_every_job_field_says_what_it_becomes_in_its_hover_text() -> None:
    job = SCHEMA["$defs"]["job"]["properties"]
    assert job["timeout"]["description"].endswith("Sent as StartJobRun's Timeout.")
    assert job["job_type"]["description"].endswith("capacity rules.")  # not sent: no member to name
    [warning] = parse_config(changed("job", allocated_capacity=2)).warnings
    assert job["allocated_capacity"]["deprecationMessage"] == f"allocated_capacity {warning.message}"
    assert job["allocated_capacity"]["deprecated"] is True
    assert job["run_key_argument"]["default"] == "--gluetrigger-run-key"
    assert json.dumps(SCHEMA).isascii()
