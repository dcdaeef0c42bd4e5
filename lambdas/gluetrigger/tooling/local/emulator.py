"""The embedded AWS emulator: moto's server on 127.0.0.1, in a thread or in a child process.

Local mode, its tests and the handler's integration tests all need "a real AWS endpoint over
HTTP" without Docker or an account; this is the one place that starts one.

:class:`EmbeddedEmulator` serves moto's WSGI app from a thread of the calling process, the way
``moto.server.ThreadedMotoServer`` does, except that it binds the socket itself, in the caller's
thread, and hands it to werkzeug: ThreadedMotoServer binds inside its thread, so a port already
in use leaves ``start()`` waiting forever, and werkzeug, when it binds, answers a taken port by
printing a message and exiting the process. Here that is an :class:`EmulatorError`. Port 0
picks a free port. moto keeps its state per process, so two emulators in one process would
share it.

:class:`EmulatorProcess` runs that same server in a child process (``python -m
gluetrigger.tooling.local.emulator``), which is what ``gluetrigger local`` uses: moto's state lives and
dies with the child, so the service's own process stays small and exits at once on Ctrl-C
(tearing down moto's object graph takes the interpreter seconds on a busy machine), the server
and the handler run on separate cores, and the child can never outlive local mode: it stops
when its stdin closes, which also happens when the parent is killed outright.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Any

from gluetrigger.core.errors import GlueTriggerError
from gluetrigger.tooling.local.endpoint import Endpoint

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["EmbeddedEmulator", "EmulatorError", "EmulatorProcess", "main"]

LOOPBACK = "127.0.0.1"
# How often serve_forever checks for shutdown: this bounds how long stop() takes.
POLL_INTERVAL_SECONDS = 0.1
# The child's first line on stdout: "listening <url>" or "error <message>".
LISTENING, FAILED = "listening", "error"
CHILD_STOP_TIMEOUT_SECONDS = 3.0
LISTEN_BACKLOG = 128


class EmulatorError(GlueTriggerError):
    """The emulator could not start (the port is taken, say); the message is one line."""


class EmbeddedEmulator:
    """moto's server bound to 127.0.0.1:``port``, served from a thread of this process."""

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> Endpoint:
        try:
            from moto.moto_server.werkzeug_app import (
                DomainDispatcherApplication,
                MotoRequestHandler,
                create_backend_app,
            )
        except ModuleNotFoundError:
            raise EmulatorError(
                "the embedded emulator needs moto: pip install 'moto[server]' (or pass --endpoint-url)"
            ) from None
        from werkzeug.serving import make_server

        from gluetrigger.tooling.local import moto_fidelity, moto_transactions

        moto_fidelity.install()
        moto_transactions.install()
        _list_moto_modules_once()
        # moto logs every request at INFO through werkzeug; keep its errors, drop the noise.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        app = DomainDispatcherApplication(create_backend_app)
        with _listening_socket(self._port) as listener:
            port = listener.getsockname()[1]
            self._server = make_server(
                LOOPBACK, port, app, threaded=True, request_handler=MotoRequestHandler, fd=listener.fileno()
            )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL_SECONDS},
            name="moto-server",
            daemon=True,
        )
        self._thread.start()
        host, port = self._server.server_address[:2]
        return Endpoint(f"http://{host}:{port}")

    def stop(self) -> None:
        """Stop serving, close the socket and join the server thread."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def _list_moto_modules_once() -> None:
    """Let moto's server list its service packages once, not on every request (idempotent).

    Its dispatcher asks which services exist on each request by listing moto's package directory
    and stat-ing every entry, a few milliseconds each time; the answer never changes while it runs.
    """
    from moto import backends

    if not hasattr(backends.list_of_moto_modules, "cache_info"):  # not cached yet
        listing = tuple(backends.list_of_moto_modules())
        backends.list_of_moto_modules = functools.lru_cache(maxsize=1)(lambda: listing)


def _listening_socket(port: int) -> socket.socket:
    """A socket listening on 127.0.0.1:``port``; EmulatorError when it cannot be had."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((LOOPBACK, port))
        listener.listen(LISTEN_BACKLOG)
    except OSError as exc:
        listener.close()
        raise EmulatorError(f"cannot listen on {LOOPBACK}:{port}: {exc.strerror}") from None
    return listener


class EmulatorProcess:
    """:class:`EmbeddedEmulator` in a child process, bound to 127.0.0.1:``port``."""

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._child: subprocess.Popen[str] | None = None

    def start(self) -> Endpoint:
        self._child = subprocess.Popen(
            [sys.executable, "-m", "gluetrigger.tooling.local.emulator", "--port", str(self._port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._child.stdout is not None
        status, _, detail = self._child.stdout.readline().strip().partition(" ")
        if status != LISTENING:
            self.stop()
            raise EmulatorError(detail if status == FAILED else "the emulator process exited before listening")
        return Endpoint(detail)

    def stop(self) -> None:
        """Ask the child to stop (close its stdin); kill it if it has not exited in a few seconds."""
        child, self._child = self._child, None
        if child is None:
            return
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.close()
        try:
            child.wait(CHILD_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        child.stdout.close()


def main(argv: Sequence[str] | None = None) -> None:
    """The child: serve until stdin closes, then exit without tearing moto's state down."""
    parser = argparse.ArgumentParser(prog="python -m gluetrigger.tooling.local.emulator")
    parser.add_argument("--port", type=int, default=0)
    port = parser.parse_args(argv).port
    # Ctrl-C in a terminal reaches the whole process group; the parent decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    emulator = EmbeddedEmulator(port)
    try:
        endpoint = emulator.start()
    except EmulatorError as exc:
        print(FAILED, exc, flush=True)
        sys.exit(2)
    print(LISTENING, endpoint.url, flush=True)
    sys.stdin.read()  # returns at EOF: the parent closed the pipe, or is gone
    emulator.stop()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything this process holds is moto's in-memory state, meant to vanish: skip the
    # interpreter's teardown of it, which is what would make stopping slow.
    os._exit(0)


if __name__ == "__main__":
    main()
