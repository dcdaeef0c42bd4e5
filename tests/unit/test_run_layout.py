"""What the planner works out once per trigger gives exactly what the per-event way gave.

The planner lays out each trigger's request, argument sizes and variables at build time
(:class:`~gluetrigger.core.planner.RunLayout`, :class:`~gluetrigger.core.start_job_run.RequestShape`);
these tests hold the layouts to the plain functions they stand in for, on any mix of settings.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gluetrigger.core.events import InboundEvent, normalize
from gluetrigger.core.model import JobSpec, S3Source, Trigger
from gluetrigger.core.planner import RunLayout
from gluetrigger.core.run_key import DEFAULT_RUN_KEY_ARGUMENT
from gluetrigger.core.start_job_run import RequestShape, arguments_size, request
from gluetrigger.core.templates import parse_template
from gluetrigger.core.variables import event_variables

# A valid value for every field that has a request member (job_type, which has none, included:
# it must not be sent).
SETTINGS: dict[str, object] = {
    "name": "etl",
    "job_run_queuing_enabled": False,
    "allocated_capacity": 10,
    "timeout": 60,
    "max_capacity": 2.0,
    "security_configuration": "sec",
    "notify_delay_after": 5,
    "worker_type": "G.1X",
    "number_of_workers": 2,
    "execution_class": "STANDARD",
    "execution_role_session_policy": '{"Version":"2012-10-17","Statement":[]}',
    "job_type": "glueetl",
}
RENDERED = ("job_run_id", "arguments")

settings = st.dictionaries(st.sampled_from(sorted(SETTINGS)), st.none()).map(
    lambda chosen: {name: SETTINGS[name] for name in chosen}
)
rendered_values = st.fixed_dictionaries(
    {
        "job_run_id": st.none() | st.just("jr_1"),
        "arguments": st.none() | st.dictionaries(st.sampled_from(["--a", "--b"]), st.text(max_size=3), min_size=1),
    }
)


@given(fixed=settings, rendered=rendered_values)
def test_a_laid_out_request_is_the_request_built_field_by_field(
    fixed: dict[str, object], rendered: dict[str, Any]
) -> None:
    built = RequestShape(fixed, RENDERED).fill(rendered)
    # Items, not the dicts: the members' order is part of the request.
    assert list(built.items()) == list(request({**fixed, **rendered}).items())


def test_rendered_fields_win_over_fixed_values_of_their_name_and_containers_are_not_shared() -> None:
    shape = RequestShape({**SETTINGS, "job_run_id": "stale", "arguments": {"--stale": "x"}}, RENDERED)
    first, second = shape.fill({"job_run_id": None, "arguments": {"--a": "1"}}), shape.fill({})
    assert "JobRunId" not in first
    assert first["Arguments"] == {"--a": "1"}
    assert "Arguments" not in second
    # A request may be changed by whoever sends it: no two share a nested member.
    assert first["NotificationProperty"] == second["NotificationProperty"] == {"NotifyDelayAfter": 5}
    assert first["NotificationProperty"] is not second["NotificationProperty"]


arguments = st.dictionaries(
    st.sampled_from(["--a", "--b", "--c", DEFAULT_RUN_KEY_ARGUMENT]),
    st.sampled_from(["plain", "é€", "${key}", "s3://${bucket}/${key}", "$$x", ""]),
)


@given(
    templates=arguments,
    run_key_argument=st.sampled_from([DEFAULT_RUN_KEY_ARGUMENT, "--rk", None]),
    rendered=st.text(max_size=20),
    tag=st.booleans(),
)
def test_a_layouts_arguments_size_is_the_size_of_the_rendered_arguments(
    templates: dict[str, str], run_key_argument: str | None, rendered: str, tag: bool
) -> None:
    job = JobSpec("etl", {k: parse_template(v) for k, v in templates.items()}, run_key_argument=run_key_argument)
    layout = RunLayout(Trigger("t", S3Source("landing"), job))
    # Each argument as a run renders it: placeholders given ``rendered``, and the run key added when sent.
    values = {k: t.render(lambda _: rendered) for k, t in job.arguments.items()}
    if tag and run_key_argument is not None:
        values[run_key_argument] = "0" * 32
    assert layout.arguments_size(values) == arguments_size(values)


def test_a_layout_names_the_variables_its_templates_use() -> None:
    job = JobSpec("etl", {"--in": parse_template("${bucket}/${time:%Y}")}, parse_template("jr_${sequencer}"))
    trigger = Trigger("t", S3Source("landing"), job, idempotency_key=parse_template("${etag}${event:id}"))
    assert RunLayout(trigger).names == {"bucket", "sequencer", "etag"}


def test_event_time_is_formatted_only_when_named_and_other_variables_are_unchanged() -> None:
    record = {
        "eventSource": "aws:s3",
        "eventTime": "2026-11-24T09:15:02.5Z",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "landing"}, "object": {"key": "k", "size": 7}},
    }
    (event,) = normalize({"Records": [record]})
    assert isinstance(event, InboundEvent)
    every = event_variables("t", event, {"day": "1"})
    assert every["event_time"] == "2026-11-24T09:15:02.500Z"
    named = event_variables("t", event, {"day": "1"}, {"bucket"})
    assert named == {name: value for name, value in every.items() if name != "event_time"}
    assert event_variables("t", event, {}, {"event_time"})["event_time"] == every["event_time"]
