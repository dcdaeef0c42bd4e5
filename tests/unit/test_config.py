"""Every rule of triggers.yaml and StartJobRun, one case each, asserting the exact trigger and field."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from gluetrigger.core.config import compile_config, parse_compiled, parse_config
from gluetrigger.core.errors import ConfigError
from gluetrigger.core.model import EventSource, S3Source, ScheduleSource

S3_TRIGGER: dict[str, Any] = {
    "name": "sales",
    "source": {"type": "s3", "bucket": "landing-bucket", "prefix": "sales/", "suffix": ".csv"},
    "job": {"name": "sales-etl", "arguments": {"--input": "s3://${bucket}/${key}"}},
}


def doc(job: dict[str, Any] | None = None, **trigger: Any) -> dict[str, Any]:
    """A one-trigger document: the S3 trigger with ``job`` fields and trigger fields overridden."""
    base = copy.deepcopy(S3_TRIGGER)
    base["job"].update(job or {})
    base.update(trigger)
    return {"triggers": [base]}


def problems(document: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(document)
    return [str(p) for p in caught.value.problems]


def one_problem(document: object, prefix: str) -> str:
    found = problems(document)
    assert len(found) == 1, found
    assert found[0].startswith(prefix), found
    return found[0]


def test_valid_minimal_s3_trigger() -> None:
    config = parse_config(doc())
    trigger = config.trigger("sales")
    assert isinstance(trigger.source, S3Source)
    assert trigger.source.prefix == "sales/"
    assert trigger.job.name == "sales-etl"
    assert trigger.idempotency_ttl_seconds == 86400


def test_repo_example_is_valid() -> None:
    from pathlib import Path

    from gluetrigger.tooling.config_file import load_config

    config = load_config(Path(__file__).parents[2] / "triggers.yaml")
    assert {t.source.type for t in config.triggers} == {"s3", "schedule", "event"}


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        ({"worker_typ": "G.1X"}, "sales: job.worker_typ: unknown field (did you mean 'worker_type'?)"),
        ({"name": None}, "sales: job.name: required"),
        ({"name": ""}, "sales: job.name: must be a string of 1..255"),
        ({"name": "x" * 256}, "sales: job.name: must be a string of 1..255"),
        ({"name": "etl-${key}"}, "sales: job.name: must be literal"),
        # The deployment grants StartJobRun on the job's ARN: IAM would read these as wildcards (synth agrees).
        ({"name": "etl-*"}, "sales: job.name: contains '*' or '?', which IAM would read as a wildcard"),
        ({"name": "etl-?"}, "sales: job.name: contains '*' or '?', which IAM would read as a wildcard"),
        ({"security_configuration": ""}, "sales: job.security_configuration: must be a string of 1..255"),
        (
            {"security_configuration": "s" * 256},
            "sales: job.security_configuration: must be a string of 1..255",
        ),
        ({"timeout": 0}, "sales: job.timeout: must be an integer number of minutes, 1..10080"),
        ({"timeout": 10081}, "sales: job.timeout:"),
        ({"timeout": 1.5}, "sales: job.timeout:"),
        ({"timeout": True}, "sales: job.timeout:"),
        ({"timeout": "60"}, "sales: job.timeout:"),
        (
            {"worker_type": "g.1x", "number_of_workers": 2},
            "sales: job.worker_type: must be one of Standard, G.1X",
        ),
        ({"worker_type": "BOGUS", "number_of_workers": 2}, "sales: job.worker_type: must be one of"),
        (
            {"worker_type": "G.1X"},
            "sales: job.number_of_workers: worker_type and number_of_workers go together",
        ),
        ({"number_of_workers": 2}, "sales: job.worker_type: worker_type and number_of_workers go together"),
        ({"worker_type": "G.1X", "number_of_workers": 0}, "sales: job.number_of_workers: must be a positive"),
        (
            {"worker_type": "G.1X", "number_of_workers": 2.5},
            "sales: job.number_of_workers: must be a positive",
        ),
        (
            {"worker_type": "G.1X", "number_of_workers": 2, "max_capacity": 10},
            "sales: job.max_capacity: cannot be set with worker_type/number_of_workers",
        ),
        ({"max_capacity": 0.5}, "sales: job.max_capacity: must be 0.0625, 1, or an integer from 2 to 100"),
        ({"max_capacity": 101}, "sales: job.max_capacity:"),
        ({"max_capacity": 2.5}, "sales: job.max_capacity:"),
        ({"max_capacity": "10"}, "sales: job.max_capacity:"),
        ({"allocated_capacity": 1}, "sales: job.allocated_capacity: must be an integer from 2 to 2147483647"),
        ({"execution_class": "flex"}, "sales: job.execution_class: must be one of FLEX, STANDARD"),
        (
            {"notify_delay_after": 0},
            "sales: job.notify_delay_after: must be an integer number of minutes, 1..2147483647",
        ),
        ({"job_run_queuing_enabled": "yes"}, "sales: job.job_run_queuing_enabled: must be true or false"),
        (
            {"job_type": "spark"},
            "sales: job.job_type: must be one of glueetl, gluestreaming, pythonshell, glueray",
        ),
        (
            {"job_type": "pythonshell", "max_capacity": 2},
            "sales: job.max_capacity: must be 0.0625 or 1 for a",
        ),
        (
            {"job_type": "glueetl", "max_capacity": 1},
            "sales: job.max_capacity: must be an integer from 2 to 100 for",
        ),
        (
            {"job_type": "gluestreaming", "max_capacity": 0.0625},
            "sales: job.max_capacity: must be an integer",
        ),
        (
            {"job_type": "pythonshell", "execution_class": "FLEX"},
            "sales: job.execution_class: FLEX is only for",
        ),
        (
            {"job_type": "glueetl", "worker_type": "G.025X", "number_of_workers": 2},
            "sales: job.worker_type: G.025X is only for gluestreaming",
        ),
        (
            {"job_type": "glueetl", "worker_type": "Z.2X", "number_of_workers": 2},
            "sales: job.worker_type: Z.2X is only for glueray",
        ),
        ({"arguments": {"input": "x"}}, "sales: job.arguments.input: argument names start with '--'"),
        ({"arguments": {"--conf": "spark.x=1"}}, "sales: job.arguments.--conf: --conf is set by Glue itself"),
        ({"arguments": {"--debug": "true"}}, "sales: job.arguments.--debug:"),
        ({"arguments": {"--mode": "x"}}, "sales: job.arguments.--mode:"),
        ({"arguments": {"--JOB_NAME": "x"}}, "sales: job.arguments.--JOB_NAME:"),
        (
            {"arguments": {"--db_password": "hunter2"}},
            "sales: job.arguments.--db_password: looks like a plaintext",
        ),
        (
            {"arguments": {"--api-key": "abc"}},
            "sales: job.arguments.--api-key: looks like a plaintext secret",
        ),
        (
            {"arguments": {"--API_KEY": "abc"}},
            "sales: job.arguments.--API_KEY: looks like a plaintext secret",
        ),
        ({"arguments": {"--auth_token": "abc"}}, "sales: job.arguments.--auth_token: looks like a plaintext"),
        ({"arguments": {"--client-secret": "abc"}}, "sales: job.arguments.--client-secret: looks like"),
        ({"arguments": {"--credentials": "abc"}}, "sales: job.arguments.--credentials: looks like"),
        ({"arguments": {"--x": None}}, "sales: job.arguments.--x: value must be a string"),
        ({"arguments": {"--x": {"a": 1}}}, "sales: job.arguments.--x: value must be a string"),
        ({"arguments": ["--x"]}, "sales: job.arguments: must be a mapping"),
        ({"arguments": {"--big": "x" * (260 * 1024)}}, "sales: job.arguments: total size"),
        ({"arguments": {"--x": "${nope}"}}, "sales: job.arguments.--x: variable ${nope} is never provided"),
        ({"arguments": {"--x": "${unclosed"}}, "sales: job.arguments.--x: unclosed '${'"),
        ({"arguments": {"--x": "${}"}}, "sales: job.arguments.--x: empty '${}'"),
        (
            {"arguments": {"--x": "${event:detail.[}"}},
            "sales: job.arguments.--x: ${event:detail.[}: invalid JMESPath",
        ),
        ({"job_run_id": "${missing}"}, "sales: job.job_run_id: variable ${missing} is never provided"),
        (
            {"execution_role_session_policy": "not json"},
            "sales: job.execution_role_session_policy: must be an IAM",
        ),
        (
            {"execution_role_session_policy": {"Statement": []}},
            "sales: job.execution_role_session_policy: must be",
        ),
        (
            {"execution_role_session_policy": {"Version": "2012-10-17", "Statement": [{"Sid": "x" * 2100}]}},
            "sales: job.execution_role_session_policy: is ",
        ),
    ],
)
def test_job_rules(job: dict[str, Any], expected: str) -> None:
    one_problem(doc(job), expected)


@pytest.mark.parametrize(
    "job",
    [
        {"timeout": 1},
        {"timeout": 10080},
        {"max_capacity": 0.0625},
        {"max_capacity": 1},
        {"max_capacity": 2},
        {"max_capacity": 100},
        {"max_capacity": 10.0},
        {"job_type": "pythonshell", "max_capacity": 0.0625},
        {"job_type": "glueetl", "max_capacity": 10},
        {"job_type": "glueetl", "execution_class": "FLEX"},
        {"execution_class": "STANDARD"},
        {"job_type": "gluestreaming", "worker_type": "G.025X", "number_of_workers": 2},
        {"job_type": "glueray", "worker_type": "Z.2X", "number_of_workers": 2},
        {"worker_type": "R.8X", "number_of_workers": 1},
        {"worker_type": "G.16X", "number_of_workers": 3},
        {"notify_delay_after": 1},
        {"security_configuration": "s" * 255},
        {"job_run_queuing_enabled": False},
        {"arguments": {"--db_password": "${event:detail.password}"}},
        {"arguments": {"--db_secret": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf"}},
        {"arguments": {"--token_param": "arn:aws:ssm:eu-west-1:111122223333:parameter/api/token"}},
        {"arguments": {"--literal": "cost is $$5 and $ alone"}},
        {"arguments": {"--enable-metrics": True, "--retries": 3}},
        {"job_run_id": "${event:detail.jobRunId}"},
        {"execution_role_session_policy": '{"Version": "2012-10-17", "Statement": []}'},
    ],
)
def test_valid_job_values(job: dict[str, Any]) -> None:
    parse_config(doc(job))


def test_allocated_capacity_is_accepted_with_a_deprecation_warning() -> None:
    config = parse_config(doc({"allocated_capacity": 10}))
    assert [str(w) for w in config.warnings] == [
        "sales: job.allocated_capacity: warning: is deprecated by Glue; use max_capacity instead"
    ]
    assert config.trigger("sales").job.settings["allocated_capacity"] == 10


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        (
            {"allocated_capacity": 10, "max_capacity": 10},
            "sales: job.allocated_capacity: cannot be set with max_capacity",
        ),
        (
            {"allocated_capacity": 10, "worker_type": "G.1X", "number_of_workers": 2},
            "sales: job.allocated_capacity: cannot be set with worker_type",
        ),
    ],
)
def test_allocated_capacity_conflicts(job: dict[str, Any], expected: str) -> None:
    assert expected in problems(doc(job))


def test_session_policy_is_sent_as_compact_json() -> None:
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}
    job = parse_config(doc({"execution_role_session_policy": policy})).trigger("sales").job
    assert job.settings["execution_role_session_policy"] == json.dumps(policy, separators=(",", ":"))


def test_literal_arguments_converted_to_text() -> None:
    job = parse_config(doc({"arguments": {"--flag": True, "--n": 3}})).trigger("sales").job
    assert {k: v.source for k, v in job.arguments.items()} == {"--flag": "true", "--n": "3"}


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ({"name": "Sales"}, "Sales: name: required: 1..64 characters of a-z, 0-9 and '-'"),
        ({"name": "a" * 65}, "name: required: 1..64"),
        ({"name": "sales_etl"}, "sales_etl: name:"),
        ({"descripton": "x"}, "sales: descripton: unknown field (did you mean 'description'?)"),
        ({"description": 3}, "sales: description: must be a string"),
        ({"idempotency_key": "${nope}"}, "sales: idempotency_key: variable ${nope} is never provided"),
        ({"idempotency_key": 5}, "sales: idempotency_key: must be a string"),
        (
            {"idempotency_ttl_seconds": 10},
            "sales: idempotency_ttl_seconds: must be an integer number of seconds",
        ),
        ({"source": None}, "sales: source: required"),
        ({"source": {"type": "sqs"}}, "sales: source.type: must be one of s3, schedule, event"),
        ({"source": {"type": "s3"}}, "sales: source.bucket: required"),
        ({"source": {"type": "s3", "bucket": "Bad_Bucket"}}, "sales: source.bucket: required: a valid S3"),
        ({"source": {"type": "s3", "bucket": "b-1", "prefx": "a"}}, "sales: source.prefx: unknown field"),
        ({"source": {"type": "s3", "bucket": "b-1", "prefix": 3}}, "sales: source.prefix: must be a string"),
        (
            {"source": {"type": "s3", "bucket": "b-1", "key_pattern": "("}},
            "sales: source.key_pattern: does not",
        ),
        (
            {"source": {"type": "s3", "bucket": "b-1", "create": "yes"}},
            "sales: source.create: must be true or",
        ),
        (
            {"source": {"type": "s3", "bucket": "b-1", "key_pattern": "(?P<key>.*)"}},
            "sales: source.key_pattern: group name 'key' shadows",
        ),
        ({"source": {"type": "schedule"}}, "sales: source.expression: required"),
        ({"source": {"type": "schedule", "expression": "rate(5 minute)"}}, "sales: source.expression:"),
        ({"source": {"type": "schedule", "expression": "cron(0 2 * * *)"}}, "sales: source.expression:"),
        (
            {"source": {"type": "schedule", "expression": "rate(1 hour)", "timezone": "Mars/Base"}},
            "sales: source.timezone:",
        ),
        ({"timezone": "Mars/Base"}, "sales: timezone: unknown timezone 'Mars/Base'"),
        ({"timezone": "localtime"}, "sales: timezone: unknown timezone"),
        ({"timezone": 9}, "sales: timezone: must be an IANA timezone name"),
        ({"job": {"arguments": {"--x": "${time-1x:%Y}"}}}, "sales: job.arguments.--x: time offset '-1x'"),
        ({"idempotency_key": "${time+1.5h:%H}"}, "sales: idempotency_key: time offset '+1.5h'"),
        ({"source": {"type": "event"}}, "sales: source.pattern: required"),
        ({"source": {"type": "event", "pattern": {"source": "x"}}}, "sales: source.pattern.source:"),
        ({"source": {"type": "event", "pattern": {"source": []}}}, "sales: source.pattern.source:"),
        (
            {"source": {"type": "event", "pattern": {"detail": {"n": [{"numeric": [">", "a"]}]}}}},
            "sales: source.pattern.detail.n:",
        ),
        (
            {"source": {"type": "event", "pattern": {"source": [{"bogus": 1}]}}},
            "sales: source.pattern.source:",
        ),
        ({"source": {"type": ["s3"], "bucket": "b-1"}}, "sales: source.type: must be one of"),
    ],
)
def test_trigger_and_source_rules(trigger: dict[str, Any], expected: str) -> None:
    base = doc(**trigger)
    if "source" in trigger and trigger["source"] and trigger["source"].get("type") != "s3":
        base["triggers"][0]["job"]["arguments"] = {}
    found = problems(base)
    assert any(p.startswith(expected) or expected in p for p in found), found


def test_s3_variables_are_not_available_to_other_sources() -> None:
    document = doc(source={"type": "schedule", "expression": "rate(1 hour)"})
    assert problems(document) == [
        "sales: job.arguments.--input: variable ${bucket} is never provided by a schedule source; "
        "available: account, event_id, event_time, region, trigger",
        "sales: job.arguments.--input: variable ${key} is never provided by a schedule source; "
        "available: account, event_id, event_time, region, trigger",
    ]


def test_key_pattern_groups_become_variables() -> None:
    document = doc(
        {"arguments": {"--day": "${day}"}},
        source={"type": "s3", "bucket": "landing", "key_pattern": r"^sales/(?P<day>[^/]+)/"},
    )
    parse_config(document)


def test_every_problem_is_reported_not_only_the_first() -> None:
    found = problems(doc({"timeout": 0, "worker_type": "nope", "number_of_workers": 1, "extra": 1}))
    assert len(found) == 3
    assert all(p.startswith("sales: job.") for p in found)


def test_duplicate_names_are_refused() -> None:
    base = doc()
    base["triggers"].append(copy.deepcopy(base["triggers"][0]))
    assert "sales: name: duplicate trigger name; names must be unique" in problems(base)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (None, "config: (top level): must be a mapping"),
        ([], "config: (top level): must be a mapping"),
        ({}, "config: triggers: must be a non-empty list"),
        ({"triggers": []}, "config: triggers: must be a non-empty list"),
        ({"triggers": [1]}, "triggers[0]: (trigger): must be a mapping"),
        ({"triggers": [{"source": {}}]}, "triggers[0]: name: required"),
        (
            {"trigers": [], "triggers": [S3_TRIGGER]},
            "config: trigers: unknown field (did you mean 'triggers'?)",
        ),
        ({"defaults": [], "triggers": [S3_TRIGGER]}, "defaults: (defaults): must be a mapping"),
        ({"defaults": {"name": "x"}, "triggers": [S3_TRIGGER]}, "defaults: name: unknown field"),
        ({"defaults": {"timeout": 0}, "triggers": [S3_TRIGGER]}, "sales: job.timeout:"),
    ],
)
def test_document_rules(document: object, expected: str) -> None:
    found = problems(document)
    assert any(p.startswith(expected) for p in found), found


def test_defaults_merge_and_the_trigger_wins() -> None:
    document = doc({"timeout": 30, "arguments": {"--own": "1", "--shared": "trigger"}})
    document["defaults"] = {
        "timeout": 120,
        "execution_class": "STANDARD",
        "arguments": {"--shared": "d", "--x": "y"},
    }
    job = parse_config(document).trigger("sales").job
    assert job.settings["timeout"] == 30
    assert job.settings["execution_class"] == "STANDARD"
    assert {k: v.source for k, v in job.arguments.items()} == {
        "--shared": "trigger",
        "--x": "y",
        "--own": "1",
    }


def test_a_trigger_choosing_its_own_capacity_mode_does_not_inherit_the_defaults_one() -> None:
    document = doc({"worker_type": "G.1X", "number_of_workers": 2})
    document["defaults"] = {"max_capacity": 10}
    job = parse_config(document).trigger("sales").job
    assert "max_capacity" not in job.settings
    assert job.settings["worker_type"] == "G.1X"


def test_sources_parse_into_their_types() -> None:
    document = {
        "triggers": [
            {
                "name": "nightly",
                "source": {"type": "schedule", "expression": "cron(0 2 * * ? *)", "timezone": "Europe/Paris"},
                "job": {"name": "a"},
            },
            {
                "name": "orders",
                "source": {"type": "event", "pattern": {"source": ["x"]}, "event_bus": "orders"},
                "job": {"name": "b"},
            },
        ]
    }
    document["triggers"][1]["timezone"] = "Asia/Tokyo"
    config = parse_config(document)
    assert config.trigger("nightly").source == ScheduleSource("cron(0 2 * * ? *)", "Europe/Paris")
    # A schedule's timezone is its templates' default; any trigger may set its own.
    assert (config.trigger("nightly").timezone, config.trigger("nightly").templates_timezone) == (None, "Europe/Paris")
    assert config.trigger("orders").templates_timezone == "Asia/Tokyo"
    assert config.trigger("orders").source == EventSource({"source": ["x"]}, "orders")


def test_compile_round_trips_and_selects_one_trigger() -> None:
    config = parse_config(doc())
    compiled = compile_config(config, only="sales")
    reparsed, only = parse_compiled(json.loads(json.dumps(compiled)))
    assert only == "sales"
    assert reparsed.trigger("sales") == config.trigger("sales")
    with pytest.raises(KeyError):
        compile_config(config, only="nope")
    with pytest.raises(ConfigError):
        parse_compiled({**compiled, "only": "nope"})


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("lenght(detail.x)", "unknown function lenght()"),
        ("length(detail.a, detail.b)", "function length() takes 1 argument(s), not 2"),
        ("detail.x | merge()", "function merge() takes at least 1 argument(s), not 0"),
    ],
)
def test_event_expressions_with_unknown_functions_or_arity_are_config_errors(expression: str, expected: str) -> None:
    document = doc(source={"type": "event", "pattern": {"source": ["x"]}})
    document["triggers"][0]["job"]["arguments"] = {"--a": f"${{event:{expression}}}"}
    assert problems(document) == [
        f"sales: job.arguments.--a: ${{event:{expression}}}: invalid JMESPath expression: {expected}"
    ]


def test_valid_event_expressions_with_functions_pass() -> None:
    document = doc(source={"type": "event", "pattern": {"source": ["x"]}})
    document["triggers"][0]["job"]["arguments"] = {
        "--a": "${event:join('-', sort_by(detail.items, &name)[*].name)}",
        "--b": "${event:not_null(detail.a, detail.b, detail.c)}",
    }
    parse_config(document)


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        ({"run_key_argument": "run-key"}, "sales: job.run_key_argument: must be an argument name such as"),
        ({"run_key_argument": "--a b"}, "sales: job.run_key_argument: must be an argument name such as"),
        ({"run_key_argument": True}, "sales: job.run_key_argument: must be an argument name such as"),
        ({"run_key_argument": 7}, "sales: job.run_key_argument: must be an argument name such as"),
        ({"run_key_argument": "--JOB_NAME"}, "sales: job.run_key_argument: --JOB_NAME is set by Glue itself"),
        (
            {"run_key_argument": "--day", "arguments": {"--day": "x"}},
            "sales: job.run_key_argument: --day is also set in arguments",
        ),
        ({"arguments": {"--gluetrigger-run-key": "x"}}, "sales: job.run_key_argument: --gluetrigger-run-key is also"),
    ],
)
def test_run_key_argument_rules(job: dict[str, Any], expected: str) -> None:
    one_problem(doc(job), expected)


def test_the_run_key_argument_defaults_renames_and_turns_off_with_a_warning() -> None:
    assert parse_config(doc()).trigger("sales").job.run_key_argument == "--gluetrigger-run-key"
    assert parse_config(doc({"run_key_argument": "--rk"})).trigger("sales").job.run_key_argument == "--rk"
    off = parse_config(doc({"run_key_argument": False}))
    assert off.trigger("sales").job.run_key_argument is None
    [warning] = [str(w) for w in off.warnings]
    assert warning.startswith("sales: job.run_key_argument: warning: false gives up exactly one run per event")


def test_the_run_key_argument_is_inherited_from_defaults() -> None:
    document = doc()
    document["defaults"] = {"run_key_argument": "--team-run-key"}
    assert parse_config(document).trigger("sales").job.run_key_argument == "--team-run-key"


def test_what_cannot_work_is_refused_one_line_per_problem_all_at_once() -> None:
    document = doc(
        {
            "job_type": "pythonshell",
            "worker_type": "G.1X",
            "number_of_workers": 2**31,
            "timeout": 2**31,
            "notify_delay_after": 2**31,
        }
    )
    document["triggers"][0]["source"]["prefix"] = "/sales/"
    document["triggers"].append({**copy.deepcopy(S3_TRIGGER), "name": "legacy"})
    document["triggers"][1]["job"]["allocated_capacity"] = 2**31
    assert problems(document) == [
        "sales: source.prefix: must not start with '/': S3 keys have no leading slash",
        "sales: job.timeout: must be an integer number of minutes, 1..10080 (7 days)",
        "sales: job.notify_delay_after: must be an integer number of minutes, 1..2147483647",
        "sales: job.number_of_workers: must be a positive integer, at most 2147483647",
        "sales: job.worker_type: cannot be set for a pythonshell job (size it with max_capacity: 0.0625 or 1)",
        "sales: job.number_of_workers: cannot be set for a pythonshell job (size it with max_capacity: 0.0625 or 1)",
        "legacy: job.allocated_capacity: must be an integer from 2 to 2147483647 (DPUs)",
    ]


def test_a_constant_idempotency_key_is_refused() -> None:
    one_problem(
        doc(idempotency_key="nightly"),
        "sales: idempotency_key: uses no variable: every event would have the same key and only the first would run",
    )


@pytest.mark.parametrize(
    "job",
    [
        {"number_of_workers": 2**31 - 1, "worker_type": "G.1X"},
        {"notify_delay_after": 2**31 - 1},
        {"allocated_capacity": 2**31 - 1},
        {"job_type": "pythonshell", "max_capacity": 0.0625},
    ],
)
def test_the_largest_32_bit_integers_and_a_pythonshell_sized_by_capacity_are_accepted(job: dict[str, Any]) -> None:
    assert parse_config(doc(job, idempotency_key="${key}")).trigger("sales").job.name == "sales-etl"


def test_yaml_rewritten_text_brought_by_an_alias_or_merge_key_is_named_where_it_lands(tmp_path: Path) -> None:
    from gluetrigger.tooling.config_file import load_config

    path = tmp_path / "t.yaml"
    # 0123 reaches three text positions through an alias and a merge key; b overrides the merged --on.
    path.write_text(
        "triggers:\n"
        "  - name: a\n    source: {type: s3, bucket: b-1, prefix: &code 0123}\n"
        "    job: {name: j, arguments: &args {--code: *code, --on: on}}\n"
        "  - name: b\n    source: {type: s3, bucket: b-2}\n    job: {name: j, arguments: {<<: *args, --on: 'on'}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    reads = "YAML reads 0123 as the number 83; write '0123' in quotes to send it as written"
    assert [str(p) for p in caught.value.problems] == [
        f"a: source.prefix: {reads}",
        f"a: job.arguments.--code: {reads}",
        "a: job.arguments.--on: YAML reads on as the boolean true; write 'on' in quotes to send it as written",
        f"b: job.arguments.--code: {reads}",
    ]
