"""The trigger index: the planner finds exactly the triggers, and explains exactly the misses, that
trying every trigger on every event finds and explains."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.matching import events_for, planner_for
from gluetrigger.core.config import parse_config
from gluetrigger.core.events import InboundEvent, normalize, normalize_decoded_message
from gluetrigger.core.index import S3Index
from gluetrigger.core.model import Config, S3Source, ScheduleSource
from gluetrigger.core.naming import schedule_owner
from gluetrigger.core.patterns import explain_mismatch, matches
from gluetrigger.core.planner import Plan, Planner

BUCKETS = ("landing", "archive", "other")
KEYS = ("a/b/c.csv", "a/x.csv", "a/b/", "b.json", "z", "a/b/c.json")
PREFIXES = ("", "a/", "a/b/", "b")
SOURCES = ("aws.s3", "com.example.orders", "com.example.billing", "aws.events")
DETAIL_TYPES = ("Object Created", "Order Placed", "Order Shipped", "Scheduled Event")
# Patterns the index files under source and detail-type values, and patterns it cannot (operators
# there, neither field named, a "$or", fields inside an array of objects), in either field order.
PATTERNS = (
    {"source": ["com.example.orders"]},
    {"source": ["com.example.orders", "com.example.billing"], "detail-type": ["Order Placed"]},
    {"detail-type": ["Order Shipped"], "source": ["com.example.orders"]},
    {"detail-type": ["Order Placed", "Object Created"]},
    {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {"bucket": {"name": ["landing"]}}},
    {"detail": {"status": ["OK"]}, "source": ["com.example.orders"]},
    {"source": [{"prefix": "com.example."}]},
    {"source": [{"anything-but": "aws.s3"}], "detail-type": ["Order Placed"]},
    {"detail": {"status": ["OK", "FAILED"]}},
    {"$or": [{"source": ["com.example.billing"]}, {"detail-type": ["Order Shipped"]}]},
    {"source": ["com.example.orders"], "$or": [{"detail": {"status": ["OK"]}}, {"detail-type": ["Order Placed"]}]},
    {"detail": {"items": {"sku": ["x"], "gift": [{"exists": False}]}}},
    {"detail-type": [{"equals-ignore-case": "order placed"}], "source": ["com.example.orders"]},
)
DETAILS: tuple[dict[str, Any], ...] = (
    {},
    {"status": "OK"},
    {"status": "FAILED", "items": [{"sku": "x", "gift": True}, {"sku": "y"}]},
    {"items": [{"sku": "x"}, {"gift": False}]},
    {"status": ["OK", 1]},
)


def _s3_trigger(name: str, bucket: str, prefix: str, suffix: str) -> dict[str, Any]:
    return {
        "name": name,
        "source": {"type": "s3", "bucket": bucket, "prefix": prefix, "suffix": suffix},
        "job": {"name": "etl"},
    }


def _event_trigger(name: str, pattern: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "source": {"type": "event", "pattern": pattern}, "job": {"name": "etl"}}


def _schedule_trigger(name: str) -> dict[str, Any]:
    return {"name": name, "source": {"type": "schedule", "expression": "rate(1 hour)"}, "job": {"name": "etl"}}


S3_TRIGGERS = st.builds(
    lambda bucket, prefix, suffix: ("s3", bucket, prefix, suffix),
    st.sampled_from(BUCKETS[:2]),
    st.sampled_from(PREFIXES),
    st.sampled_from(("", ".csv")),
)
TRIGGERS = st.lists(
    S3_TRIGGERS | st.tuples(st.just("event"), st.sampled_from(PATTERNS)) | st.just(("schedule",)),
    min_size=1,
    max_size=12,
)


def _config(kinds: list[tuple[Any, ...]]) -> dict[str, Any]:
    triggers = []
    for index, (kind, *spec) in enumerate(kinds):
        name = f"t{index}"
        if kind == "s3":
            triggers.append(_s3_trigger(name, *spec))
        elif kind == "event":
            triggers.append(_event_trigger(name, spec[0]))
        else:
            triggers.append(_schedule_trigger(name))
    return {"triggers": triggers}


# The example custom event, its identity and content replaced.
EXAMPLE = json.loads((Path(__file__).parents[2] / "examples/events/eventbridge-custom-event.json").read_text())


def _envelope(number: int, source: str, detail_type: str, detail: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {**EXAMPLE, "id": f"e{number}", "source": source, "detail-type": detail_type, "detail": detail, **fields}


S3_EVENTS = st.builds(lambda bucket, key: ("s3", bucket, key), st.sampled_from(BUCKETS), st.sampled_from(KEYS))
CUSTOM_EVENTS = st.builds(
    lambda source, detail_type, detail: ("event", source, detail_type, detail),
    st.sampled_from(SOURCES),
    # An "Object Created" event from aws.s3 needs an object: the S3 events give it one.
    st.sampled_from(DETAIL_TYPES[1:]),
    st.sampled_from(DETAILS),
)
SCHEDULED_EVENTS = st.builds(lambda index: ("schedule", index), st.integers(0, 12))
EVENTS = st.lists(S3_EVENTS | CUSTOM_EVENTS | SCHEDULED_EVENTS, min_size=1, max_size=8)


def _event(number: int, spec: tuple[Any, ...]) -> dict[str, Any]:
    kind, *rest = spec
    if kind == "s3":
        bucket, key = rest
        detail = {"bucket": {"name": bucket}, "object": {"key": key, "size": 3, "etag": "e"}}
        return _envelope(number, "aws.s3", "Object Created", detail)
    if kind == "event":
        return _envelope(number, *rest)
    rule = f"arn:aws:events:eu-west-1:111122223333:rule/gluetrigger.t{rest[0]}"
    return _envelope(number, "aws.events", "Scheduled Event", {}, resources=[rule])


def _reference(config: Config, event: InboundEvent) -> tuple[list[str], str | None]:
    """Every trigger tried on the event, in config order (s3, then schedules, then events), and
    why none matched, as the planner must say it."""
    s3, schedules, events, s3_misses, event_misses = [], [], [], [], []
    for trigger in config.triggers:
        source = trigger.source
        if isinstance(source, S3Source):
            if event.s3 is None or event.s3.bucket != source.bucket:
                continue
            why = source.key_matches(event.s3.key)
            if why:
                s3_misses.append(f"{trigger.name}: {why}")
            else:
                s3.append(trigger.name)
        elif isinstance(source, ScheduleSource):
            if event.kind == "schedule" and schedule_owner(event.schedule_name or "") == trigger.name:
                schedules.append(trigger.name)
        elif event.envelope is not None:
            if matches(source.pattern, event.envelope):
                events.append(trigger.name)
            else:
                path, why = explain_mismatch(source.pattern, event.envelope) or ("", "")
                event_misses.append(f"{trigger.name}: {path}: {why}")
    found = s3 + schedules + events
    if found:
        return found, None
    misses = s3_misses + event_misses
    detail = f" ({'; '.join(misses)})" if misses else ""
    return [], f"no trigger matches {event.describe()}{detail}"


def _planned(plan: Plan) -> tuple[list[str], str | None]:
    names = [run.trigger.name for run in plan.runs]
    return names, plan.ignored[0].reason if plan.ignored else None


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(kinds=TRIGGERS, specs=EVENTS)
def test_the_planner_finds_and_explains_what_trying_every_trigger_does(
    kinds: list[tuple[Any, ...]], specs: list[tuple[Any, ...]]
) -> None:
    config = parse_config(_config(kinds))
    planner = Planner(config)
    # Each event twice, through one planner: the second meets whatever the first left kept.
    for number, spec in [*enumerate(specs), *enumerate(specs)]:
        (event,) = normalize(_event(number, spec))
        assert isinstance(event, InboundEvent)
        assert _planned(planner.plan([event])) == _reference(config, event)


def _plan(triggers: list[dict[str, Any]], event: dict[str, Any]) -> tuple[list[str], str | None]:
    return _planned(Planner(parse_config({"triggers": triggers})).plan(normalize(event)))


def _s3(key: str, bucket: str = "landing") -> dict[str, Any]:
    return _event(0, ("s3", bucket, key))


def test_overlapping_prefixes_on_a_bucket_all_match_in_config_order() -> None:
    triggers = [
        _s3_trigger("deep", "landing", "a/b/", ""),
        _s3_trigger("any", "landing", "", ""),
        _s3_trigger("shallow", "landing", "a/", ""),
        _s3_trigger("elsewhere", "archive", "", ""),
    ]
    assert _plan(triggers, _s3("a/b/c.csv")) == (["deep", "any", "shallow"], None)
    assert _plan(triggers, _s3("a/x.csv")) == (["any", "shallow"], None)
    assert _plan(triggers, _s3("zzz")) == (["any"], None)
    assert _plan(triggers, _s3("a/b/c.csv", bucket="archive")) == (["elsewhere"], None)


def test_an_s3_miss_names_every_trigger_on_the_bucket_whatever_its_prefix() -> None:
    triggers = [_s3_trigger("deep", "landing", "a/b/", ""), _s3_trigger("csv", "landing", "a/", ".csv")]
    assert _plan(triggers, _s3("a/x.json")) == (
        [],
        "no trigger matches s3://landing/a/x.json (deep: key 'a/x.json' does not start with prefix 'a/b/';"
        " csv: key 'a/x.json' does not end with suffix '.csv')",
    )


def test_the_prefix_index_keeps_only_prefixes_that_start_the_key() -> None:
    config = parse_config(
        {
            "triggers": [
                _s3_trigger("ab", "landing", "a/b", ""),
                _s3_trigger("abc", "landing", "a/bc", ""),
                _s3_trigger("b", "landing", "b", ""),
            ]
        }
    )
    index = S3Index(config.triggers)
    assert [entry.trigger.name for entry in index.candidates("landing", "a/bcd")] == ["ab", "abc"]
    assert [entry.trigger.name for entry in index.candidates("landing", "a/")] == []
    assert index.candidates("nowhere", "a/bcd") == []


def test_patterns_with_operators_on_source_or_without_it_are_tried_on_every_event() -> None:
    triggers = [
        _event_trigger("exact", {"source": ["com.example.orders"]}),
        _event_trigger("prefixed", {"source": [{"prefix": "com.example"}]}),
        _event_trigger("by-detail", {"detail": {"status": ["OK"]}}),
        _event_trigger("by-type", {"detail-type": ["Order Placed"]}),
    ]
    event = _envelope(1, "com.example.billing", "Order Placed", {"status": "OK"})
    assert _plan(triggers, event) == (["prefixed", "by-detail", "by-type"], None)
    assert _plan(triggers, _envelope(2, "com.example.orders", "Order Placed", {}))[0] == [
        "exact",
        "prefixed",
        "by-type",
    ]


def test_several_event_triggers_match_one_event_in_config_order() -> None:
    triggers = [
        _event_trigger("b", {"detail-type": ["Order Placed"], "source": ["com.example.orders"]}),
        _event_trigger("a", {"source": ["com.example.orders"]}),
        _event_trigger("c", {"$or": [{"source": ["x"]}, {"detail": {"status": ["OK"]}}]}),
    ]
    event = _envelope(1, "com.example.orders", "Order Placed", {"status": "OK"})
    assert _plan(triggers, event) == (["b", "a", "c"], None)


def test_a_scheduled_event_goes_to_the_trigger_its_rule_names() -> None:
    triggers = [_schedule_trigger("nightly"), _schedule_trigger("hourly")]
    rule = "arn:aws:events:eu-west-1:111122223333:rule/gluetrigger-prod.hourly"
    assert _plan(triggers, _envelope(1, "aws.events", "Scheduled Event", {}, resources=[rule])) == (["hourly"], None)
    other = "arn:aws:events:eu-west-1:111122223333:rule/gluetrigger-prod.weekly"
    assert _plan(triggers, _envelope(2, "aws.events", "Scheduled Event", {}, resources=[other]))[0] == []


def test_a_kept_explanation_and_a_fresh_one_interleave_in_config_order() -> None:
    # "first" and "last" refuse by source, the same for every event from billing; "middle" is
    # explained by the event's detail, which differs from one event to the next.
    triggers = [
        _event_trigger("first", {"source": ["com.example.orders"]}),
        _event_trigger("middle", {"detail": {"status": ["OK"]}}),
        _event_trigger("last", {"detail-type": ["Order Placed"], "source": ["com.example.orders"]}),
    ]
    planner = Planner(parse_config({"triggers": triggers}))
    events = [
        _envelope(n, "com.example.billing", "Order Placed", {"status": s}) for n, s in enumerate(("FAILED", "LATE"))
    ]
    reasons = [planner.plan(normalize(event)).ignored[0].reason for event in events]
    assert reasons == [
        f'no trigger matches event e{n} (Order Placed) (first: source: "com.example.billing" is not'
        f' "com.example.orders"; middle: detail.status: "{status}" is not "OK"; last: source:'
        ' "com.example.billing" is not "com.example.orders")'
        for n, status in enumerate(("FAILED", "LATE"))
    ]


@pytest.mark.parametrize("count", [10, 200])
def test_the_benchmarks_events_plan_as_its_mix_says(count: int) -> None:
    # bench/matching.py: of every ten events, eight start a run or join a batch (five s3, two
    # custom, one scheduled) and two are ignored, each with its explanation.
    planner = planner_for(count)
    plans = [planner.plan(normalize_decoded_message(event, f"m{n}")) for n, event in enumerate(events_for(count, 100))]
    assert sum(len(plan.runs) + len(plan.batched) for plan in plans) == 80
    assert [len(plan.runs) + len(plan.batched) + len(plan.ignored) for plan in plans] == [1] * 100
    assert not any(plan.rejected for plan in plans)
    assert all(" (" in skip.reason for plan in plans for skip in plan.ignored)
