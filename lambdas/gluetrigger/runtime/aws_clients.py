"""boto3 clients: one per AWS service per container, from one session, each configured here.

Making a client loads its service model and costs milliseconds; Lambda reuses a container for
many invocations, so each client is made once and shared. boto3's default session is not safe
to use from several threads, and local mode and the tests invoke the handler from several, so
the process has one private session, made on first use, and clients are made from it under a
lock (a made client is thread-safe). Endpoints are never configured here: boto3 reads
``AWS_ENDPOINT_URL`` itself, which is how the same code talks to AWS or to an emulator.

After a SnapStart restore (:mod:`gluetrigger.runtime.snapstart`) :func:`reset` drops the session
and its clients: the snapshot's credentials may have expired or be another environment's, and its
open connections are dead. The next :func:`client` makes them again from the restored
environment, on a new session that keeps the old one's loader, so service models parsed before the
snapshot are not parsed again.

:data:`CLIENT_CONFIGS` is the one table of how each service is called (timeouts, retries);
:func:`gluetrigger.runtime.composition.build_service` is the one caller of :func:`client`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "CLIENT_CONFIGS",
    "GLUE_CALL_BUDGET_MS",
    "GLUE_CONNECT_TIMEOUT_SECONDS",
    "GLUE_READ_TIMEOUT_SECONDS",
    "RECORDING_MARGIN_MS",
    "client",
    "reset",
]

# StartJobRun answers in well under a second; these bound how long one attempt can block.
GLUE_CONNECT_TIMEOUT_SECONDS = 2
GLUE_READ_TIMEOUT_SECONDS = 5
# The longest one Glue call can block (connect and read timeouts), and the time kept after it to
# record its outcome and return: no Glue call begins unless both fit before the deadline.
GLUE_CALL_BUDGET_MS = (GLUE_CONNECT_TIMEOUT_SECONDS + GLUE_READ_TIMEOUT_SECONDS) * 1000
RECORDING_MARGIN_MS = 2000
# Retried by botocore: safe for DynamoDB's conditional writes (a retried write that had succeeded
# reads as "in progress" and fails retryably, which redelivery resolves) and for the dead-letter
# queue (a duplicate there is harmless; a lost dead letter is not).
_STANDARD_RETRIES = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 3})

CLIENT_CONFIGS: Mapping[str, Config] = {
    # One attempt per call: GlueJobStarter's retry loop is the only one (see gluetrigger.runtime.glue_client).
    "glue": Config(
        connect_timeout=GLUE_CONNECT_TIMEOUT_SECONDS,
        read_timeout=GLUE_READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "total_max_attempts": 1},
    ),
    "dynamodb": _STANDARD_RETRIES,  # the idempotency table
    "sqs": _STANDARD_RETRIES,  # the dead-letter queue, and batch triggers' flushes to their own queue
    "s3": _STANDARD_RETRIES,  # batch manifests (the same bytes on every attempt)
}


class _Clients:
    """The process's session and the clients made from it, guarded by one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._session: boto3.session.Session | None = None
        self._made: dict[str, Any] = {}
        # The last session's loader: its parsed service models outlive a reset.
        self._loader: Any = None

    def get(self, service: str) -> Any:
        with self._lock:
            made = self._made.get(service)
            if made is None:
                made = self._made[service] = self._current().client(service, config=CLIENT_CONFIGS[service])
            return made

    def reset(self) -> None:
        """Forget the session and every client (not the loaded service models): the next get makes new ones."""
        with self._lock:
            if self._session is not None:
                self._loader = self._session._session.get_component("data_loader")
            self._session = None
            self._made.clear()

    def _current(self) -> boto3.session.Session:
        if self._session is None:
            self._session = boto3.session.Session()
            if self._loader is not None:
                self._session._session.register_component("data_loader", self._loader)
        return self._session


_CLIENTS = _Clients()


def client(service: str) -> Any:
    """The container's client for ``service`` (a key of :data:`CLIENT_CONFIGS`), made on first use."""
    return _CLIENTS.get(service)


def reset() -> None:
    """Drop the process's session and clients; see the module docstring (SnapStart restores)."""
    _CLIENTS.reset()
