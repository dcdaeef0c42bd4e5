"""The chaos suite at 200 events (``make chaos`` runs it at 2,000): exactly one run per event
through throttling, server errors, resets, slow and lost responses and killed workers.

It runs its own emulator, proxies and worker processes (tests/chaos), so it shares nothing with
the other integration tests. The kill rate is higher than ``make chaos``'s so that a run of 200
events kills workers too (about six times), between StartJobRun and the save among others.
"""

from __future__ import annotations

import pytest

from tests.chaos.faults import SHARES
from tests.chaos.harness import ChaosSettings, run

pytestmark = pytest.mark.integration

EVENTS = 200
SEED = 20261125


def test_every_event_ends_once_through_faults_timeouts_and_kills() -> None:
    figures = run(ChaosSettings(events=EVENTS, fault_rate=0.2, kill_rate=0.005, workers=4, seed=SEED))

    # The chaos happened, or the figures below would prove nothing.
    assert figures.deliveries > figures.events == EVENTS, figures.report()
    assert figures.kills > 0, figures.report()
    assert len(figures.fault_kinds) >= len(SHARES), figures.report()
    assert figures.drained, figures.report()
    # Every event ended as the service promises: one run, ignored or dead-lettered with a reason.
    assert (figures.judgement.duplicates, figures.judgement.lost) == (0, 0), figures.report()
    assert figures.judgement.dlq_without_reason == 0, figures.report()
    assert figures.passed, figures.report()
