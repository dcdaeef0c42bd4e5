"""A fault-injecting HTTP proxy in front of the emulator, for faults moto cannot produce.

Real HTTP in, real HTTP out: the handler's boto3 clients talk to this proxy exactly as they
would to AWS, and the proxy forwards to moto, except for requests it has been told to fail.
Faults are chosen per API operation by the ``X-Amz-Target`` header (``AWSGlue.StartJobRun``,
``DynamoDB_20120810.PutItem``): an AWS-style error response (``ThrottlingException`` with 400,
``InternalServiceException`` with 500, ...), or a connection closed without an answer, after an
optional delay (longer than the client's read timeout, that is a read timeout). A fault applies
to a number of requests or to a fraction of them. Every request is recorded with its body, so
tests can assert what was sent, including fields moto does not store.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from dataclasses import dataclass
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
    """How to fail matching requests: ``times`` of them (None: all), each with probability ``rate``."""

    status: int = 500
    code: str = "InternalServiceException"
    message: str = "injected by the test fault proxy"
    times: int | None = None
    rate: float = 1.0
    drop: bool = False  # close the connection without answering
    delay_seconds: float = 0.0  # wait this long before failing


@dataclass(frozen=True)
class Recorded:
    """One request the proxy received, and whether it was failed on purpose."""

    target: str
    body: bytes
    faulted: bool

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
        self._faults: dict[str, Fault] = {}
        self._records: list[Recorded] = []
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
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def inject(self, target: str, fault: Fault) -> None:
        """Fail requests whose X-Amz-Target is ``target`` as ``fault`` says (replaces any previous)."""
        with self._lock:
            self._faults[target] = fault

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

    def _admit(self, target: str, body: bytes) -> Fault | None:
        """Record the request; the fault to apply to it, if any."""
        with self._lock:
            fault = self._faults.get(target)
            if fault is not None and self._random.random() >= fault.rate:
                fault = None
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self._faults[target]
            self._records.append(Recorded(target, body, faulted=fault is not None))
            return fault

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

    def do_GET(self) -> None:
        self._relay()

    # http.server dispatches on do_<METHOD>; every method is relayed the same way.
    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request access log."""

    def _relay(self) -> None:
        proxy: FaultProxy = self.server.proxy  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault = proxy._admit(self.headers.get("X-Amz-Target", ""), body)
        if fault is not None:
            time.sleep(fault.delay_seconds)
            if fault.drop:
                self.close_connection = True
                return
            error = json.dumps({"__type": fault.code, "message": fault.message}).encode()
            self._reply(
                fault.status, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", fault.code)], error
            )
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _NOT_FORWARDED}
        status, response_headers, payload = proxy._forward(self.command, self.path, headers, body)
        self._reply(status, [(k, v) for k, v in response_headers if k.lower() not in _NOT_FORWARDED], payload)

    def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
