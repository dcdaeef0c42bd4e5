"""AWS's linters on the synthesized templates: cfn-lint and the cdk-nag AwsSolutions pack."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import Validations
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint_file

from tests.infra.conftest import Synthesized, synthesize

pytestmark = pytest.mark.infra

# Warnings reviewed and accepted. W3005: the CDK makes each function DependsOn its role next to
# the GetAtt of the role's ARN (to order the role's policy too); redundant, harmless.
REVIEWED_WARNINGS = {"W3005"}
LINT_REGIONS = ["us-east-1", "eu-west-1"]


def cfn_lint(template: Path) -> tuple[list[str], set[str]]:
    """cfn-lint's errors on ``template`` (rule and message), and the ids of every rule it matched."""
    matches = lint_file(template, ManualArgs(regions=LINT_REGIONS))
    return [f"{m.rule.id} {m.message}" for m in matches if m.rule.severity == "error"], {m.rule.id for m in matches}


def nag_violations(synthesized: Synthesized) -> list[tuple[str, list[str]]]:
    """cdk-nag's AwsSolutions findings that nothing acknowledges: rule, and the constructs it names."""
    report = AwsSolutionsChecks().validate_scope(synthesized.stack)
    return [(v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations]


SCHEDULE_ONLY = """\
triggers:
  - name: nightly
    source: {type: schedule, expression: 'cron(0 2 * * ? *)'}
    job: {name: nightly}
"""

# Every acknowledged cdk-nag finding, by construct path below the stack; the reasons are in infra/.
FUNCTION_ACKS = {("{t}/Function/Function", "AwsSolutions-L1")}
TRACING_ACKS = {("{t}/Function/Role", "AwsSolutions-IAM5[Resource::*]")}
SNAP_START_ACKS = {("{t}/Function/Function", "@aws-cdk/aws-lambda:snapStartRequirePublish")}
ALWAYS = {("State/DeadLetterQueue", "AwsSolutions-SQS3")}
NOTIFICATIONS_HANDLER = {
    (
        "BucketNotificationsHandler050a0587b7544547bf325f094a3db834",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
    )
}


@pytest.fixture(scope="module")
def schedule_only_stack(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """No queue refers to the DLQ here, so its SQS3 acknowledgment is what keeps cdk-nag quiet."""
    directory = tmp_path_factory.mktemp("schedule-only")
    triggers = directory / "triggers.yaml"
    triggers.write_text(SCHEDULE_ONLY, encoding="utf-8")
    return synthesize({"triggers": str(triggers), "stack_name": "ScheduleOnly"}, directory / "out")


def stacks(request: pytest.FixtureRequest) -> list[Synthesized]:
    return [request.getfixturevalue(name) for name in ("repo_stack", "extra_stack", "schedule_only_stack")]


def test_cfn_lint_finds_no_error_in_any_template(request: pytest.FixtureRequest) -> None:
    synthesized_stacks = stacks(request)
    templates = [t for synthesized in synthesized_stacks for t in Path(synthesized.outdir).glob("*.template.json")]
    # Each app's parent template and one per trigger group (nested stacks).
    assert len(templates) == sum(1 + len(synthesized.stack.groups) for synthesized in synthesized_stacks)
    for template in templates:
        errors, rules = cfn_lint(template)
        assert errors == [], template.name
        assert rules <= REVIEWED_WARNINGS, template.name


def test_cdk_nag_aws_solutions_finds_nothing_unacknowledged(request: pytest.FixtureRequest) -> None:
    for synthesized in stacks(request):
        report = AwsSolutionsChecks().validate_scope(synthesized.stack)
        violations = [(v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations]
        assert violations == [], synthesized.stack.stack_name
        assert report.success


def acknowledgments(synthesized: Synthesized) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    prefix = synthesized.stack.node.path + "/"
    for construct in synthesized.stack.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for rule, reason in entry.data.items():
                    found[(construct.node.path.removeprefix(prefix), rule.removeprefix("Annotation::"))] = reason
    return found


def expand(templates: set[tuple[str, str]], synthesized: Synthesized, triggers: list[str]) -> set[tuple[str, str]]:
    """The acknowledgments for each of ``triggers``, whose constructs are in their group's nested stack."""
    return {
        (path.format(t=f"{synthesized.stack.group_of(trigger).node.id}/{trigger}"), rule)
        for path, rule in templates
        for trigger in triggers
    }


def test_every_acknowledgment_is_expected_and_has_a_reason(request: pytest.FixtureRequest) -> None:
    repo, extra, schedule_only = stacks(request)
    scheduler_function = repo.logical_id("nightly-rollup", "Function", "Function")
    # The bucket is the parent's: the nested stack gets its ARN as a parameter.
    manifests_bucket = repo.imported("Arn", "Manifests", "Bucket")["Ref"]
    repo_triggers = ["sales-arrival", "partner-drop", "sales-burst", "nightly-rollup", "orders-exported"]
    expected = [
        ALWAYS
        | NOTIFICATIONS_HANDLER
        | expand(FUNCTION_ACKS, repo, repo_triggers)
        | expand(
            {("{t}/Schedule/Role", f"AwsSolutions-IAM5[Resource::<{scheduler_function}.Arn>:*]")},
            repo,
            ["nightly-rollup"],
        )
        | {("Manifests/Bucket", "AwsSolutions-S1")}
        | expand(
            {("{t}/Function/Role", f"AwsSolutions-IAM5[Resource::<{manifests_bucket}>/sales-burst/*]")},
            repo,
            ["sales-burst"],
        ),
        ALWAYS
        | NOTIFICATIONS_HANDLER
        | {("Buckets/gluetrigger-test-raw", "AwsSolutions-S1")}
        | expand(
            FUNCTION_ACKS | TRACING_ACKS | SNAP_START_ACKS,
            extra,
            ["raw-upload", "raw-any", "hourly-sweep", "audit-events"],
        ),
        ALWAYS | expand(FUNCTION_ACKS, schedule_only, ["nightly"]),
    ]
    for synthesized, acks in zip([repo, extra, schedule_only], expected, strict=True):
        found = acknowledgments(synthesized)
        assert set(found) == acks, synthesized.stack.stack_name
        assert all(len(reason) > 40 for reason in found.values())
