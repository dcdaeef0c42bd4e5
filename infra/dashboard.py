"""The app's CloudWatch dashboard: what the triggers did, and where an event that started nothing went.

One dashboard per app, in the parent stack, whose body does not grow with the number of triggers
(a dashboard body listing 500 functions and queues would be rewritten by every trigger added, and
the parent would need one reference into a nested stack per trigger). So no widget names a trigger:

- the handler's metrics are Metrics Insights queries over this deployment's own namespace,
  ``SELECT SUM(<metric>) FROM SCHEMA("<namespace>", service) GROUP BY service``: one series per
  trigger (Powertools' ``service`` dimension is the trigger's name), the busiest first, at most
  :data:`TOP_SERIES` of them (a query returns at most 500). StartJobRunErrors carries an ErrorCode
  dimension too, so its query's schema is ``(namespace, ErrorCode, service)`` (a SCHEMA matches
  exactly that set of dimensions) and it is grouped by both;
- the triggers' queues and functions have names CloudFormation generates in their nested stacks, and
  Metrics Insights filters only with ``=``, ``!=`` and ``AND`` (no prefix), so their metrics are
  search expressions, which match a dimension value by its words: ``QueueName=<stack name>`` finds
  the queues whose generated name holds the stack's name (every trigger queue's does: it begins
  with the nested stack's name, which begins with the parent's) but the DLQ, left out by its name,
  sorted and cut to the top :data:`TOP_SERIES`. It may also show another stack's queue or function
  whose name holds the same words;
- the DLQ is the parent's own: its depth is one plain metric;
- Logs Insights needs its log groups listed in a dashboard widget (one per trigger), so the logs are
  not queried here: a text widget names the README's queries and the log groups' prefix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from gluetrigger.runtime import telemetry

if TYPE_CHECKING:
    from aws_cdk import aws_sqs as sqs

    from infra.deploy_settings import DeploySettings

__all__ = ["HANDLER_METRICS", "TOP_SERIES", "Dashboard", "metrics_insights_query", "search_query"]

PERIOD = Duration.minutes(5)
# Series per widget: the busiest triggers; a Metrics Insights query or a search returns at most 500.
TOP_SERIES = 20
# Powertools' dimension holding the trigger's name.
SERVICE_DIMENSION = "service"
# What the trigger queues' and functions' metrics are searched in: a namespace and its one dimension.
QUEUES = ("AWS/SQS", "QueueName")
FUNCTIONS = ("AWS/Lambda", "FunctionName")
WIDTH = 8  # three graphs a row on the dashboard's 24-unit grid
HEIGHT = 6
# The handler's counters, each a graph of its own, with what it means to whoever reads the dashboard.
HANDLER_METRICS = {
    telemetry.JOB_RUNS_STARTED: "Job runs started",
    telemetry.DUPLICATES_SUPPRESSED: "Duplicates suppressed (run already started)",
    telemetry.EVENTS_IGNORED: "Events ignored (no trigger of theirs)",
    telemetry.EVENTS_REJECTED: "Events rejected (unreadable)",
    telemetry.EVENTS_DEAD_LETTERED: "Events dead-lettered",
    telemetry.RUNS_HELD_BACK: "Runs held back for Glue capacity",
    telemetry.RUNS_RETRIED: "Failed runs retried",
    telemetry.RETRIES_EXHAUSTED: "Failed runs given up on",
}


def metrics_insights_query(namespace: str, metric: str, *dimensions: str) -> str:
    """``metric`` summed per value of ``dimensions`` (the metric's exact set), the largest first."""
    keys = ", ".join(dimensions)
    # Not SQL injection: the namespace is validated (namespace pattern, no quotes), the rest are constants.
    return (
        f'SELECT SUM({metric}) FROM SCHEMA("{namespace}", {keys}) '  # noqa: S608
        f"GROUP BY {keys} ORDER BY SUM() DESC LIMIT {TOP_SERIES}"
    )


def search_query(schema: tuple[str, str], metric: str, statistic: str, words: str, but: str = "") -> str:
    """The :data:`TOP_SERIES` largest series of ``metric`` whose dimension's value holds ``words``.

    ``schema`` is the namespace and the one dimension; ``but``, a value of it left out (exactly).
    """
    namespace, dimension = schema
    term = f'MetricName="{metric}" {dimension}={words}' + (f' NOT {dimension}="{but}"' if but else "")
    search = f"SEARCH('{{{namespace},{dimension}}} {term}', '{statistic}', {PERIOD.to_seconds()})"
    return f"SORT({search}, MAX, DESC, {TOP_SERIES})"


class Dashboard(Construct):
    """The dashboard, named ``<stack>-<region>`` (dashboards are global to the account, stacks regional)."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: DeploySettings, dlq: sqs.IQueue) -> None:
        super().__init__(scope, construct_id)
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"{settings.stack_name}-{Aws.REGION}",
            default_interval=Duration.days(1),
        )
        self.dashboard.add_widgets(_guide(settings.stack_name))
        self.dashboard.add_widgets(*self._handler_widgets(settings.metrics_namespace))
        self.dashboard.add_widgets(*self._platform_widgets(settings.stack_name, dlq))

    def _handler_widgets(self, namespace: str) -> list[cloudwatch.GraphWidget]:
        graphs = [
            _graph(title, metrics_insights_query(namespace, metric, SERVICE_DIMENSION))
            for metric, title in HANDLER_METRICS.items()
        ]
        errors, code = telemetry.START_JOB_RUN_ERRORS, telemetry.ERROR_CODE_DIMENSION
        query = metrics_insights_query(namespace, errors, code, SERVICE_DIMENSION)
        graphs.append(_graph("StartJobRun errors by code and trigger", query))
        return graphs

    def _platform_widgets(self, stack_name: str, dlq: sqs.IQueue) -> list[cloudwatch.GraphWidget]:
        dead_letters = dlq.metric_approximate_number_of_messages_visible(
            period=PERIOD, statistic="Maximum", label="messages"
        )
        return [
            _graph(
                "Oldest message per trigger queue (s)",
                search_query(QUEUES, "ApproximateAgeOfOldestMessage", "Maximum", stack_name, but=dlq.queue_name),
            ),
            cloudwatch.GraphWidget(title="Dead-letter queue depth", left=[dead_letters], width=WIDTH, height=HEIGHT),
            _graph("Function errors", search_query(FUNCTIONS, "Errors", "Sum", stack_name)),
            _graph("Function throttles", search_query(FUNCTIONS, "Throttles", "Sum", stack_name)),
        ]


def _graph(title: str, expression: str) -> cloudwatch.GraphWidget:
    """A graph of one expression (a Metrics Insights query or a search) and the series it returns."""
    # An empty label: each series keeps its own (the trigger, error code, queue or function).
    metric = cloudwatch.MathExpression(expression=expression, period=PERIOD, label="")
    return cloudwatch.GraphWidget(title=title, left=[metric], width=WIDTH, height=HEIGHT)


def _guide(stack_name: str) -> cloudwatch.TextWidget:
    """Where to look when a file started no run: the README's Logs Insights queries, over which log groups."""
    markdown = (
        "## gluetrigger\n"
        "Each graph shows the busiest triggers (the metric's `service` dimension is the trigger's name). "
        "**A file did not start a run?** Run the README's *Logs Insights queries* (section "
        '"Seeing it once deployed") over the trigger functions\' log groups: their names begin with '
        f"`{stack_name}-Group`. Events that failed for good are in the dead-letter queue, each with "
        "its `gluetrigger-reason` attribute: `gluetrigger dlq list`."
    )
    return cloudwatch.TextWidget(markdown=markdown, width=24, height=3)
