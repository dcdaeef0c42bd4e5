"""The chaos suite's judge and its seeded scenario: a judge that let a duplicate or a lost event
through, or a scenario that did not send what it says, would make ``make chaos`` prove nothing."""

from __future__ import annotations

import json

import pytest

from tests.chaos.scenario import FILES_TRIGGER, ORDERS_TRIGGER, ChaosEvent, Expectation, delivery_order, make_events
from tests.chaos.verdict import DeadLetter, Observed, Run, judge


def event(number: int, expect: Expectation = "start", marker: str | None = "m") -> ChaosEvent:
    marker = f"{marker}{number}" if marker is not None else None
    return ChaosEvent(number, expect, FILES_TRIGGER, f"id-{number}", marker, "{}", copies=1)


def test_an_event_started_twice_is_a_duplicate_named_with_its_runs() -> None:
    verdict = judge([event(1)], Observed(runs=[Run("jr_a", "m1", None), Run("jr_b", "m1", None)]))

    assert (verdict.duplicates, verdict.lost, verdict.passed) == (1, 0, False)
    assert verdict.problems == ["event 1 (start, chaos-files, m1): 2 runs: jr_a, jr_b"]


def test_a_start_event_with_no_run_and_no_reason_in_the_dlq_is_lost() -> None:
    silent = DeadLetter("id-1", None)
    verdict = judge([event(1)], Observed(dead_letters=[silent]))

    assert (verdict.lost, verdict.dlq, verdict.dlq_without_reason) == (1, 1, 1)
    assert verdict.problems == [
        "event 1 (start, chaos-files, m1): no run, and not in the DLQ with a reason; 1 DLQ message(s) without a reason"
    ]


def test_a_start_event_dead_lettered_with_a_reason_has_ended() -> None:
    verdict = judge([event(1)], Observed(dead_letters=[DeadLetter("id-1", "chaos-files: gave up")]))

    assert verdict.passed
    assert (verdict.dead_lettered_starts, verdict.problems) == (1, [])


def test_a_started_event_is_fine_but_a_dlq_message_of_it_without_reason_still_fails_the_run() -> None:
    verdict = judge([event(1)], Observed(runs=[Run("jr_a", "m1", None)], dead_letters=[DeadLetter("id-1", "")]))

    assert (verdict.duplicates, verdict.lost, verdict.dlq_without_reason) == (0, 0, 1)
    assert not verdict.passed


@pytest.mark.parametrize(
    ("observed", "ignored", "lost"),
    [
        (Observed(ignored={"id-1"}), 1, 0),
        (Observed(), 0, 1),
        (Observed(runs=[Run("jr_a", "m1", None)], ignored={"id-1"}), 0, 1),
    ],
)
def test_an_ignore_event_needs_its_log_line_and_no_run(observed: Observed, ignored: int, lost: int) -> None:
    verdict = judge([event(1, "ignore")], observed)

    assert (verdict.ignored, verdict.lost) == (ignored, lost)


@pytest.mark.parametrize(
    ("letters", "lost"),
    [([DeadLetter("id-1", "message body is not JSON")], 0), ([DeadLetter("id-1", None)], 1), ([], 1)],
)
def test_a_dlq_event_needs_a_dlq_message_with_a_reason(letters: list[DeadLetter], lost: int) -> None:
    verdict = judge([event(1, "dlq", marker=None)], Observed(dead_letters=letters))

    assert verdict.lost == lost


def test_run_keys_are_counted_and_must_agree_within_an_event() -> None:
    runs = [Run("jr_a", "m1", "k1"), Run("jr_b", "m1", "k2"), Run("jr_c", "m2", None)]

    verdict = judge([event(1), event(2)], Observed(runs=runs))

    assert verdict.runs_without_run_key == 1
    assert verdict.problems[1] == "1 run(s) carry no run key while the others do: jr_c"
    assert verdict.problems[0].endswith(
        "2 runs: jr_a (run key k1), jr_b (run key k2); its runs carry 2 different run keys"
    )


def test_runs_and_dead_letters_of_no_known_event_are_problems() -> None:
    verdict = judge(
        [event(1)],
        Observed(
            runs=[Run("jr_a", "m1", None), Run("jr_x", "elsewhere", None)], dead_letters=[DeadLetter(None, "why")]
        ),
    )

    assert verdict.problems == [
        "run jr_x names no event of this run ('elsewhere')",
        "a DLQ message carries no event of this run (reason: 'why')",
    ]


def test_the_same_seed_makes_the_same_events_and_order() -> None:
    assert make_events(50, 3) == make_events(50, 3)
    assert make_events(50, 3) != make_events(50, 4)
    assert delivery_order(make_events(50, 3), 3) == delivery_order(make_events(50, 3), 3)


def test_the_scenario_sends_every_copy_and_each_event_first_in_its_own_order() -> None:
    events = make_events(400, 11)

    order = delivery_order(events, 11)

    assert len(order) == sum(e.copies for e in events)
    assert {e.copies for e in events} == {1, 2, 3}
    assert {(e.expect, e.trigger) for e in events} == {
        ("start", FILES_TRIGGER),
        ("start", ORDERS_TRIGGER),
        ("ignore", FILES_TRIGGER),
        ("dlq", FILES_TRIGGER),
        ("dlq", ORDERS_TRIGGER),
    }
    firsts = [e.number for i, e in enumerate(order) if e not in order[:i]]
    assert firsts == sorted(firsts)


def test_each_event_body_is_what_its_trigger_reads_and_names_the_event() -> None:
    for chaos_event in make_events(100, 5):
        if chaos_event.expect == "dlq" and chaos_event.trigger == FILES_TRIGGER:
            with pytest.raises(ValueError, match="Expecting"):
                json.loads(chaos_event.body)
            assert chaos_event.event_id in chaos_event.body
            continue
        body = json.loads(chaos_event.body)
        assert body["id"] == chaos_event.event_id
        if chaos_event.trigger == FILES_TRIGGER:
            assert body["detail"]["object"]["key"] == chaos_event.marker
        else:
            assert body["detail"].get("orderId") == chaos_event.marker
