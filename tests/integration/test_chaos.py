"""The chaos suite at 200 events (``make chaos`` runs it at 2,000): exactly one run per event
through throttling, server errors, resets, slow and lost responses and killed workers.

It runs its own emulator, proxies and worker processes (tests/chaos), so it shares nothing with
the other integration tests. The kill rate is higher than ``make chaos``'s so that a run of 200
events kills workers too (about six times), between StartJobRun and the save among others.
"""

from __future__ import annotations

import pytest

from tests.chaos.faults import TARGETS, fault_mix
from tests.chaos.harness import ChaosSettings, run

pytestmark = pytest.mark.integration

EVENTS = 200
SEED = 20261125
FAULT_RATE = 0.2
KILL_RATE = 0.005


def test_every_event_ends_once_through_faults_timeouts_and_kills() -> None:
    figures = run(ChaosSettings(events=EVENTS, fault_rate=FAULT_RATE, kill_rate=KILL_RATE, workers=4, seed=SEED))

    # The chaos happened, every kind of it, or the figures below would prove nothing.
    assert figures.deliveries > figures.events == EVENTS, figures.report()
    assert figures.kills > 0, figures.report()
    kinds = {fault.kind for target in TARGETS for fault in fault_mix(target, FAULT_RATE, KILL_RATE) if not fault.kill}
    assert kinds <= set(figures.fault_kinds), figures.report()
    assert figures.drained, figures.report()
    # Every event ended as the service promises: one run, ignored or dead-lettered with a reason.
    assert (figures.judgement.duplicates, figures.judgement.lost) == (0, 0), figures.report()
    assert figures.judgement.dlq_without_reason == 0, figures.report()
    assert figures.passed, figures.report()
