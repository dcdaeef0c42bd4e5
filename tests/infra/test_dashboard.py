"""The app's dashboard: one per app, in the parent stack, its body the same size however many triggers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match

from bench.scale_config import scale_config
from gluetrigger.core.errors import ConfigError
from gluetrigger.runtime.telemetry import START_JOB_RUN_ERRORS
from infra.dashboard import HANDLER_METRICS, TOP_SERIES
from infra.deploy_settings import DeploySettings
from tests.infra.conftest import Synthesized, synthesize
from tests.infra.test_lint import REVIEWED_WARNINGS, cfn_lint, nag_violations

pytestmark = pytest.mark.infra

DASHBOARD = "AWS::CloudWatch::Dashboard"
# A bound far below what a template (1 MB) or a dashboard body may hold, whatever the triggers.
BODY_BUDGET = 16_000


def scaled(tmp_path_factory: pytest.TempPathFactory, triggers: int, **context: str) -> Synthesized:
    directory = tmp_path_factory.mktemp(f"dashboard-{triggers}")
    config = directory / "triggers.yaml"
    config.write_text(scale_config(triggers), encoding="utf-8")
    return synthesize({"triggers": str(config), "stack_name": "Dash", **context}, directory / "out")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return scaled(tmp_path_factory, 3, metrics_namespace="Dash/Metrics")


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return scaled(tmp_path_factory, 60, metrics_namespace="Dash/Metrics")


def dashboards(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return synthesized.of_type(DASHBOARD)


def body(synthesized: Synthesized) -> tuple[dict[str, Any], str]:
    """The dashboard's body parsed, tokens (Fn::Join parts) replaced by ``<token>``; and its raw text."""
    [resource] = dashboards(synthesized).values()
    raw = resource["Properties"]["DashboardBody"]
    parts = raw["Fn::Join"][1] if isinstance(raw, dict) else [raw]
    text = "".join(part if isinstance(part, str) else "<token>" for part in parts)
    return json.loads(text), text


def expressions(widget: dict[str, Any]) -> list[str]:
    return [m[0]["expression"] for m in widget["properties"].get("metrics", []) if isinstance(m[0], dict)]


def by_title(parsed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {w["properties"]["title"]: w for w in parsed["widgets"] if "title" in w["properties"]}


def test_a_dashboard_setting_that_is_not_a_boolean_fails_synth_with_one_line() -> None:
    with pytest.raises(ConfigError) as raised:
        DeploySettings.from_context({"dashboard": "maybe"}, environ={})

    assert str(raised.value) == "settings: dashboard: must be true or false (got 'maybe')"


def test_turned_off_there_is_no_dashboard(tmp_path_factory: pytest.TempPathFactory) -> None:
    off = scaled(tmp_path_factory, 2, dashboard="false")

    assert dashboards(off) == {}
    assert off.settings.dashboard is False


def test_one_dashboard_for_the_app_in_the_parent_named_after_the_stack_and_region(small: Synthesized) -> None:
    [key] = dashboards(small)
    assert key.startswith(f"{small.stack.node.id}/")  # the parent's, not a group's
    name = small.properties("Dashboard", "Dashboard")["DashboardName"]
    assert name == {"Fn::Join": ["", ["Dash-", {"Ref": "AWS::Region"}]]}


def test_every_handler_metric_is_a_graph_of_the_busiest_triggers_in_the_deployment_s_namespace(
    small: Synthesized,
) -> None:
    widgets = by_title(body(small)[0])

    for metric, title in HANDLER_METRICS.items():
        [query] = expressions(widgets[title])
        assert query == (
            f'SELECT SUM({metric}) FROM SCHEMA("Dash/Metrics", service) '
            f"GROUP BY service ORDER BY SUM() DESC LIMIT {TOP_SERIES}"
        )
    [errors] = expressions(widgets["StartJobRun errors by code and trigger"])
    # The metric has both dimensions: a SCHEMA with service alone would match none of it.
    assert errors.startswith(f'SELECT SUM({START_JOB_RUN_ERRORS}) FROM SCHEMA("Dash/Metrics", ErrorCode, service)')
    assert "GROUP BY ErrorCode, service" in errors


def test_queues_and_functions_are_searched_by_the_stack_s_name_the_dlq_read_directly(small: Synthesized) -> None:
    widgets = by_title(body(small)[0])

    [age] = expressions(widgets["Oldest message per trigger queue (s)"])
    assert age.startswith('SORT(SEARCH(\'{AWS/SQS,QueueName} MetricName="ApproximateAgeOfOldestMessage" ')
    assert 'QueueName=Dash NOT QueueName="<token>"' in age  # the DLQ, left out by its name
    assert age.endswith(f"'Maximum', 300), MAX, DESC, {TOP_SERIES})")
    for title, metric in [("Function errors", "Errors"), ("Function throttles", "Throttles")]:
        [search] = expressions(widgets[title])
        assert f'{{AWS/Lambda,FunctionName}} MetricName="{metric}" FunctionName=Dash\'' in search
    [dlq] = widgets["Dead-letter queue depth"]["properties"]["metrics"]
    assert dlq[:3] == ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName"]


def test_the_guide_points_to_the_readme_queries_and_the_log_groups(small: Synthesized) -> None:
    [text] = [w for w in body(small)[0]["widgets"] if w["type"] == "text"]
    markdown = text["properties"]["markdown"]
    assert "Logs Insights queries" in markdown
    assert "`Dash-Group`" in markdown
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert "### Seeing it once deployed" in readme


def test_the_body_is_the_same_whatever_the_number_of_triggers(small: Synthesized, large: Synthesized) -> None:
    (small_body, small_text), large_text = body(small), body(large)[1]

    assert small_text == large_text
    assert len(small_text.encode()) < BODY_BUDGET
    assert len(small_body["widgets"]) == len(HANDLER_METRICS) + 6  # guide, errors, age, DLQ, Lambda errors, throttles
    for trigger in large.config.triggers:
        assert trigger.name not in large_text


def test_no_expression_warns_at_synth(small: Synthesized) -> None:
    # The CDK warns of a math expression it cannot read (an unknown identifier, a metric left unused).
    Annotations.from_stack(small.stack).has_no_warning("/Dash/Dashboard/Dashboard", Match.any_value())


def test_cfn_lint_and_cdk_nag_are_clean(small: Synthesized) -> None:
    template = small.outdir / f"{small.stack.artifact_id}.template.json"
    errors, rules = cfn_lint(template)
    assert errors == []
    assert rules <= REVIEWED_WARNINGS
    assert nag_violations(small) == []
