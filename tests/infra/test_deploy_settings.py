"""DeploySettings: context over environment over defaults, and one clear line per bad value."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from aws_cdk import aws_logs as logs

from gluetrigger.core.errors import ConfigError
from infra import deploy_settings
from infra.deploy_settings import RUNTIMES, DeploySettings, snap_start_supported
from tests.infra.conftest import cdk_context

pytestmark = pytest.mark.infra


def read(context: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None) -> DeploySettings:
    return DeploySettings.from_context(context or {}, environ or {})


def problems(context: Mapping[str, object]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        read(context)
    return [str(problem) for problem in caught.value.problems]


def test_defaults_are_an_environment_agnostic_stack() -> None:
    settings = read()
    assert settings == DeploySettings()
    assert (settings.stack_name, settings.triggers_path) == ("GlueTrigger", "triggers.yaml")
    assert (settings.account, settings.region, settings.alarm_email) == (None, None, None)
    assert settings.runtime == "python3.13"
    assert settings.metrics_namespace == settings.stack_name
    assert settings.log_retention == logs.RetentionDays.THREE_MONTHS
    assert settings.timeout.to_seconds() == 60
    assert settings.max_event_age.to_hours() == 6


def test_context_wins_over_environment_which_wins_over_defaults() -> None:
    settings = read(
        {"memory_mb": "512", "stack_name": "FromContext"},
        {"GLUETRIGGER_MEMORY_MB": "1024", "GLUETRIGGER_STACK_NAME": "FromEnv", "GLUETRIGGER_TIMEOUT_SECONDS": "120"},
    )
    assert (settings.memory_mb, settings.stack_name, settings.timeout_seconds) == (512, "FromContext", 120)
    # The namespace follows the stack name unless it is set itself.
    assert settings.metrics_namespace == "FromContext"


def test_typed_values_from_cdk_json_and_strings_from_dash_c_both_work() -> None:
    typed = read({"tracing": True, "batch_size": 5, "log_retention_days": 30, "tags": {"team": "data"}})
    text = read({"tracing": "true", "batch_size": "5", "log_retention_days": "30", "tags": "team=data"})
    assert typed == text
    assert (typed.tracing, typed.batch_size, typed.log_retention, dict(typed.tags)) == (
        True,
        5,
        logs.RetentionDays.ONE_MONTH,
        {"team": "data"},
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("team=data, env=prod", {"team": "data", "env": "prod"}),
        ('{"cost-center": "42"}', {"cost-center": "42"}),
        ("owner=a=b", {"owner": "a=b"}),
    ],
)
def test_tags_forms(value: str, expected: dict[str, str]) -> None:
    assert dict(read({"tags": value}).tags) == expected


def test_every_bad_value_is_reported_on_one_line_naming_the_setting() -> None:
    assert problems(
        {
            "memory_mb": "lots",
            "runtime": "python3.9",
            "tracing": "yes",
            "log_retention_days": "42",
            "account": "12345",
            "alarm_email": "ops",
            "tags": "team",
            "max_concurrency": 1,
        }
    ) == [
        "settings: account: must be a 12-digit AWS account id (got '12345')",
        "settings: tags: must be key=value,key=value (got 'team')",
        "settings: runtime: must be one of python3.12, python3.13 (got 'python3.9')",
        "settings: memory_mb: must be an integer 128..10240 (got 'lots')",
        "settings: tracing: must be true or false (got 'yes')",
        "settings: log_retention_days: must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, "
        "545, 731, 1096, 1827, 3653 (got '42')",
        "settings: max_concurrency: must be an integer 2..1000 (got 1)",
        "settings: alarm_email: must be an e-mail address (got 'ops')",
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("stack_name", "1-starts-with-digit"),
        ("retry_attempts", "3"),
        ("batch_size", "11"),
        ("tracing", 1),
        ("trigger_groups", "0"),
        ("trigger_groups", "101"),
        ("snap_start", "on"),
    ],
)
def test_out_of_range_values_are_refused(name: str, value: object) -> None:
    [problem] = problems({name: value})
    assert problem.startswith(f"settings: {name}: ")


def test_a_misspelt_setting_fails_with_a_did_you_mean_listing_the_known_ones() -> None:
    [problem] = problems({"alarm_emial": "ops@example.com"})
    assert problem.startswith("settings: alarm_emial: unknown setting (did you mean 'alarm_email'?); known: ")
    assert "stack_name, triggers, account, region," in problem


def test_a_misspelt_environment_variable_fails_the_same_way_and_every_unknown_is_listed() -> None:
    with pytest.raises(ConfigError) as caught:
        read({"zzz": "1"}, {"GLUETRIGGER_MEMORY_M": "512", "GLUETRIGGER_ALARM_EMAIL": "ops@example.com"})
    lines = [str(problem) for problem in caught.value.problems]
    assert [line.split("; known: ")[0] for line in lines] == [
        "settings: zzz: unknown setting",
        "settings: GLUETRIGGER_MEMORY_M: unknown setting (did you mean 'GLUETRIGGER_MEMORY_MB'?)",
    ]
    assert "GLUETRIGGER_ALARM_EMAIL" in lines[1]


def test_the_cdks_own_context_keys_and_the_handlers_variables_are_not_settings() -> None:
    cdk = {
        **cdk_context(),
        "acknowledged-issue-numbers": [1234],
        "aws:cdk:enable-path-metadata": True,
        "availability-zones:account=123456789012:region=eu-west-1": ["eu-west-1a"],
    }
    handler = {
        "GLUETRIGGER_CONFIG": "{}",
        "GLUETRIGGER_CONFIG_FILE": "config.json",
        "GLUETRIGGER_IDEMPOTENCY_TABLE": "t",
        "GLUETRIGGER_DEAD_LETTER_QUEUE_URL": "http://q",
        "GLUETRIGGER_MAX_RECEIVE_COUNT": "5",
        "GLUETRIGGER_TRACING": "true",
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
    }
    assert read(cdk, handler) == DeploySettings(max_receive_count=5, tracing=True)


def test_snap_start_and_trigger_groups_are_off_and_twenty_unless_set() -> None:
    assert (read().snap_start, read().trigger_groups) == (False, 20)
    settings = read({"snap_start": "true", "trigger_groups": "40", "runtime": "python3.12"})
    assert (settings.snap_start, settings.trigger_groups) == (True, 40)


def test_snap_start_is_offered_from_python_3_12_on() -> None:
    # Every runtime the stack accepts has it; an older one (should it come back) would be refused.
    assert all(snap_start_supported(runtime) for runtime in RUNTIMES)
    assert not snap_start_supported("python3.11")
    assert not snap_start_supported("nodejs22.x")
    assert snap_start_supported("python3.14")


def test_snap_start_on_a_runtime_without_it_is_refused_on_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # Were an older runtime accepted again, SnapStart with it must fail synth, not the deploy.
    monkeypatch.setattr(deploy_settings, "RUNTIMES", ("python3.11", *RUNTIMES))
    assert problems({"snap_start": "true", "runtime": "python3.11"}) == [
        "settings: snap_start: SnapStart needs python3.12 or later, not python3.11"
    ]
    assert read({"runtime": "python3.11"}).runtime == "python3.11"  # without SnapStart, no problem
