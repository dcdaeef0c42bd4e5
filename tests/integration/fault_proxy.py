"""A fault-injecting HTTP proxy in front of the emulator, for faults moto cannot produce.

Real HTTP in, real HTTP out: the handler's boto3 clients talk to this proxy exactly as they
would to AWS, and the proxy forwards to moto, except for requests it has been told to fail.
Faults are chosen per API operation by the ``X-Amz-Target`` header (``AWSGlue.StartJobRun``,
``DynamoDB_20120810.PutItem``): an AWS-style error response (``ThrottlingException`` with 400,
``InternalServiceException`` with 500, ...), or a connection closed without an answer (cleanly,
or with a TCP reset), after an optional delay (longer than the client's read timeout, that is a
read timeout). A fault applies to a number of requests or to a fraction of them.

The faults a crash-safe caller must survive go further, so a fault can also:

- ``forward`` the request first, so it takes effect upstream before its answer is lost, replaced
  by an error, or delayed: the outcome the caller cannot know (a run started, a record written);
- ``relay`` the upstream's own answer after ``delay_seconds``: a slow response, which the caller
  either waits for or gives up on;
- ``kill`` the calling process (SIGKILL to :attr:`FaultProxy.client_pid`), before or after
  forwarding: a crash at exactly that point, such as between StartJobRun and recording its run.

Several faults may share a target, each with its own rate: one random draw per request picks at
most one of them, so rates add up to the fraction of requests failed. Every request is recorded
with its body and the kind of fault it got, so tests can assert what was sent, including fields
moto does not store, and count what was injected.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import signal
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Fault", "FaultProxy", "Recorded"]

# Hop-by-hop headers are the proxy's own business; it sets Content-Length, Server and Date itself.
_NOT_FORWARDED = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "proxy-connection",
    "server",
    "date",
}


@dataclass
class Fault:
    """How to fail matching requests: ``times`` of them (None: all), each with probability ``rate``.

    Without ``drop``, ``kill`` or ``relay`` the answer is an AWS-style error (``status``, ``code``).
    """

    status: int = 500
    code: str = "InternalServiceException"
    message: str = "injected by the test fault proxy"
    times: int | None = None
    rate: float = 1.0
    drop: bool = False  # close the connection without answering
    delay_seconds: float = 0.0  # wait this long before failing
    reset: bool = False  # with drop: close with a TCP reset (RST) rather than a clean close (FIN)
    forward: bool = False  # send the request upstream first: it takes effect, its answer does not arrive
    relay: bool = False  # answer with the upstream's own response, after delay_seconds (implies forward)
    kill: bool = False  # SIGKILL the proxy's client process instead of answering
    after: int = 0  # let this many matching requests through untouched before failing any

    def __post_init__(self) -> None:
        if self.drop + self.relay + self.kill > 1:
            raise ValueError("a fault drops, relays or kills: choose one")
        if self.reset and not self.drop:
            raise ValueError("reset applies to a dropped connection: set drop too")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be within 0..1, got {self.rate}")

    @property
    def forwards(self) -> bool:
        """Whether the request reaches the upstream before the fault applies."""
        return self.forward or self.relay

    @property
    def kind(self) -> str:
        """A short name for what the fault does, as recorded: ``kill-after-forward``, ``slow``, ``500 Code``."""
        if self.kill:
            action = "kill"
        elif self.drop:
            action = "reset" if self.reset else "drop"
        elif self.relay:
            return "slow" if self.delay_seconds else "relay"
        else:
            action = f"{self.status} {self.code}"
        return f"{action}-after-forward" if self.forward else action


@dataclass(frozen=True)
class Recorded:
    """One request the proxy received, and the kind of fault it got (None: forwarded as is)."""

    target: str
    body: bytes
    fault: str | None = None
    at: float = field(default_factory=time.time)  # when it arrived (epoch seconds, as logs stamp)

    @property
    def faulted(self) -> bool:
        return self.fault is not None

    def json(self) -> Any:
        return json.loads(self.body)


class FaultProxy:
    """Forwards to ``upstream`` (``http://host:port``) from 127.0.0.1 on a free port."""

    def __init__(self, upstream: str, seed: int = 0) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._lock = threading.Lock()
        self._seed = seed
        self._random = random.Random(seed)
        self._faults: dict[str, list[Fault]] = {}
        self._records: list[Recorded] = []
        self._client_pid: int | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Relay)
        self._server.daemon_threads = True
        self._server.proxy = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (if started) and close the socket; safe to call more than once."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    @property
    def client_pid(self) -> int | None:
        """The process kill faults SIGKILL: the one whose requests this proxy serves."""
        with self._lock:
            return self._client_pid

    @client_pid.setter
    def client_pid(self, pid: int | None) -> None:
        with self._lock:
            self._client_pid = pid

    def inject(self, target: str, *faults: Fault) -> None:
        """Fail requests whose X-Amz-Target is ``target`` as ``faults`` say (replaces any previous).

        One draw per request picks the first fault whose rate, added to those before it, exceeds
        the draw; so the rates must add up to at most 1, and one fault fails that fraction.
        """
        if sum(f.rate for f in faults) > 1.0 + 1e-9:
            raise ValueError(f"the rates of the faults on {target} add up to more than 1")
        with self._lock:
            if any(f.kill for f in faults) and self._client_pid is None:
                raise ValueError("a kill fault needs the process to kill: set client_pid first")
            self._faults[target] = list(faults)

    def reset(self) -> None:
        """Forget faults and recorded requests, and restart the fault rate's random sequence."""
        with self._lock:
            self._faults.clear()
            self._records.clear()
            self._random.seed(self._seed)

    def requests(self, target: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self._records if r.target == target]

    def count(self, target: str) -> int:
        return len(self.requests(target))

    def records(self) -> list[Recorded]:
        """Every request received so far, in order."""
        with self._lock:
            return list(self._records)

    def _admit(self, target: str, body: bytes) -> tuple[Fault | None, int | None]:
        """Record the request; the fault to apply to it, if any, and the process a kill would kill.

        The process is read now, under the lock: if the client is replaced while this request is
        served, a late kill must not hit its successor.
        """
        with self._lock:
            fault = self._draw(target)
            if fault is not None and fault.after > 0:
                fault.after -= 1
                fault = None
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults[target].remove(fault)
                    if not self._faults[target]:
                        del self._faults[target]
            self._records.append(Recorded(target, body, fault.kind if fault is not None else None))
            return fault, self._client_pid

    def _draw(self, target: str) -> Fault | None:
        faults = self._faults.get(target)
        if not faults:
            return None
        draw, total = self._random.random(), 0.0
        for fault in faults:
            total += fault.rate
            if draw < total:
                return fault
        return None

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self._upstream, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()


class _Relay(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # http.server writes the status line, each header and the body in separate sends: with Nagle's
    # algorithm on, the client's delayed ACK holds each answer about 40 ms (TCP_NODELAY).
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._relay()

    # http.server dispatches on do_<METHOD>; every method is relayed the same way.
    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request access log."""

    def _relay(self) -> None:
        proxy: FaultProxy = self.server.proxy  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault, client_pid = proxy._admit(self.headers.get("X-Amz-Target", ""), body)
        if fault is None:
            self._reply(*self._forward(proxy, body))
            return
        upstream = self._forward(proxy, body) if fault.forwards else None
        time.sleep(fault.delay_seconds)
        if fault.kill:
            # Checked by inject(); the client dies mid-request, so its connection dies with it (if
            # it is already gone, killed on another connection, there is nothing left to kill).
            assert client_pid is not None
            with contextlib.suppress(ProcessLookupError):
                os.kill(client_pid, signal.SIGKILL)
            self._hang_up(reset=False)
        elif fault.drop:
            self._hang_up(reset=fault.reset)
        elif upstream is not None and fault.relay:
            self._reply(*upstream)
        else:
            error = json.dumps({"__type": fault.code, "message": fault.message}).encode()
            self._reply(
                fault.status, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", fault.code)], error
            )

    def _forward(self, proxy: FaultProxy, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _NOT_FORWARDED}
        status, response_headers, payload = proxy._forward(self.command, self.path, headers, body)
        return status, [(k, v) for k, v in response_headers if k.lower() not in _NOT_FORWARDED], payload

    def _hang_up(self, *, reset: bool) -> None:
        """Close the connection without answering; with ``reset``, abortively (the client reads RST)."""
        self.close_connection = True
        if reset:
            # SO_LINGER on with a zero timeout: close() discards the connection and sends RST. Closed
            # here, because the server would shut the socket down first, which sends FIN; rfile holds
            # a reference to the socket that would delay the close, so it goes first.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()
            self.connection.close()

    def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        try:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except ConnectionError:
            # The client is gone: it gave up waiting (a slow response) or died (a killed worker).
            self.close_connection = True
