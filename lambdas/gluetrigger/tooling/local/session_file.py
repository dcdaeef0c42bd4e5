"""Where the running ``gluetrigger local`` is, so ``local fire`` and ``runs`` find it unasked.

``gluetrigger local`` picks a free port by default, and a user who types ``gluetrigger local fire
nightly-rollup`` in a second terminal should not have to copy the endpoint over. The running
instance records its endpoint and process id in a per-user file in the temp directory and
removes it when it stops; a record whose process is gone is ignored (a killed instance cannot
clean up after itself).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

__all__ = ["forget", "record", "running_endpoint", "session_path"]


def session_path() -> Path:
    return Path(tempfile.gettempdir()) / f"gluetrigger-local-{os.getuid()}.json"


def record(endpoint_url: str) -> None:
    """Note that this process serves ``endpoint_url`` (the newest instance wins)."""
    path = session_path()
    scratch = path.with_suffix(f".{os.getpid()}.tmp")
    scratch.write_text(json.dumps({"endpoint": endpoint_url, "pid": os.getpid()}), encoding="utf-8")
    scratch.replace(path)  # atomic: a reader never sees half a record


def forget() -> None:
    """Remove the record if it is this process's (a newer instance's record stays)."""
    if _read().get("pid") == os.getpid():
        session_path().unlink(missing_ok=True)


def running_endpoint() -> str | None:
    """The endpoint of the ``gluetrigger local`` that runs now, if any."""
    found = _read()
    pid, endpoint = found.get("pid"), found.get("endpoint")
    if not isinstance(pid, int) or not isinstance(endpoint, str) or not _alive(pid):
        return None
    return endpoint


def _read() -> dict[str, object]:
    try:
        found = json.loads(session_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
