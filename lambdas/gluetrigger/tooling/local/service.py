"""Everything ``gluetrigger local`` runs, started in dependency order and stopped in reverse.

Start: the emulator (embedded, or the one at ``--endpoint-url``), this process's environment
(pointed at it before the handler makes a client), provisioning, runs that last (``--run-seconds``,
:mod:`gluetrigger.tooling.local.bursts`), the handler's functions, a poller per trigger queue,
the scheduler. Stop: signal the threads, join them (a poller finishes
its current long-poll and invocation, at most a few seconds), then shut the emulator down, so
that nothing is left running and no thread talks to a server that is gone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from gluetrigger.tooling.local.bursts import Bursts, hold_back_policy, hold_runs
from gluetrigger.tooling.local.emulator import EmulatorProcess
from gluetrigger.tooling.local.endpoint import Endpoint
from gluetrigger.tooling.local.function import LocalFunctions, activate_handler_env
from gluetrigger.tooling.local.outcomes import Outcome, OutcomeLog, describe_message
from gluetrigger.tooling.local.pollers import Consumer, QueuePoller
from gluetrigger.tooling.local.provision import Routing, provision
from gluetrigger.tooling.local.scheduler import Scheduler, scheduled_event, send_scheduled_event

if TYPE_CHECKING:
    from gluetrigger.core.model import Config, Trigger

__all__ = ["LocalService", "ServiceOptions"]

# A poller notices the stop signal within its long-poll (1 s) plus the invocation in progress;
# all threads together get this long (they are daemons: a stuck one cannot keep the process up).
JOIN_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class ServiceOptions:
    """How the service runs beyond its config and emulator.

    ``log_stream``: where the handler's JSON log lines go (None: nowhere); ``observe``: told of
    each message a poller receives; ``bursts``: how long runs last and how many a placeholder
    job allows at once.
    """

    log_stream: TextIO | None = None
    observe: Callable[[str, Mapping[str, Any]], None] | None = None
    bursts: Bursts = field(default_factory=Bursts)


class LocalService:
    """The service on an emulator; ``start()`` returns once everything is provisioned and polling."""

    def __init__(
        self,
        config: Config,
        outcomes: OutcomeLog,
        *,
        emulator: EmulatorProcess | Endpoint,
        options: ServiceOptions | None = None,
    ) -> None:
        """``emulator``: the embedded emulator to start (and stop), or the endpoint of one already running."""
        self.config = config
        self.outcomes = outcomes
        self._emulator = emulator
        self._options = options or ServiceOptions()
        self._halt = threading.Event()
        self._threads: list[threading.Thread] = []
        self._endpoint: Endpoint | None = None
        self._routing: Routing | None = None
        self._sqs: Any = None

    @property
    def started(self) -> bool:
        """Whether there is an endpoint to talk to (start() got that far)."""
        return self._endpoint is not None

    @property
    def embedded(self) -> bool:
        return isinstance(self._emulator, EmulatorProcess)

    @property
    def endpoint(self) -> Endpoint:
        if self._endpoint is None:
            raise RuntimeError("the service is not started")
        return self._endpoint

    @property
    def routing(self) -> Routing:
        if self._routing is None:
            raise RuntimeError("the service is not started")
        return self._routing

    def start(self) -> None:
        emulator = self._emulator
        self._endpoint = emulator.start() if isinstance(emulator, EmulatorProcess) else emulator
        activate_handler_env(self._endpoint)
        options, bursts = self._options, self._options.bursts
        self._routing = provision(self.config, self._endpoint, bursts.max_concurrent_runs)
        if bursts.run_seconds is not None:
            hold_runs(self._endpoint, bursts.run_seconds)
        functions = LocalFunctions(
            self.config, self.outcomes, self._routing, options.log_stream, hold_back_policy(bursts)
        )
        self._sqs = self._endpoint.client("sqs")
        consumer = Consumer(functions.invoke, self._poll_failed, options.observe)
        threads: list[threading.Thread] = [
            QueuePoller(name, queue, self._endpoint, consumer, self._halt)
            for name, queue in self._routing.queues.items()
        ]
        threads.append(Scheduler(list(self.config.triggers), self._scheduled, self._halt))
        for thread in threads:
            thread.start()
            self._threads.append(thread)

    def fire(self, trigger: Trigger, when: datetime | None = None) -> None:
        """Deliver ``trigger``'s Scheduled Event for ``when`` (default: now) to its queue."""
        event = scheduled_event(trigger, when or datetime.now(UTC), self.routing.account, self.endpoint.region)
        send_scheduled_event(self._sqs, self.routing.queues[trigger.name].url, event)

    def stop(self) -> None:
        """Stop and join every thread, then the emulator; safe to call after a failed start."""
        self._halt.set()
        deadline = time.monotonic() + JOIN_TIMEOUT_SECONDS
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        if isinstance(self._emulator, EmulatorProcess):
            self._emulator.stop()

    def _scheduled(self, trigger: Trigger, when: datetime) -> None:
        try:
            self.fire(trigger, when)
        except Exception as exc:
            reason = f"could not deliver the Scheduled Event: {type(exc).__name__}: {exc}"
            self.outcomes.add(Outcome(trigger.name, "error", f"schedule at {when.isoformat()}", reason=reason))

    def _poll_failed(self, trigger: str, messages: list[Mapping[str, Any]], error: BaseException) -> None:
        reason = f"{type(error).__name__}: {error}"
        if not messages:
            self.outcomes.add(Outcome(trigger, "error", "its queue", reason=f"receiving failed: {reason}"))
        for message in messages:
            count = message.get("Attributes", {}).get("ApproximateReceiveCount")
            self.outcomes.add(
                Outcome(
                    trigger,
                    "error",
                    describe_message(message["Body"], message["MessageId"]),
                    reason=f"the invocation failed: {reason}",
                    message_id=message["MessageId"],
                    receive_count=int(count) if count else None,
                )
            )
