"""Which ``gluetrigger local`` serves which config, so ``local fire`` and ``runs`` find theirs unasked.

``gluetrigger local`` picks a free port by default, and a user who types ``gluetrigger local fire
nightly-rollup`` in a second terminal should not have to copy the endpoint over. Several instances
may run at once (two projects, two test workers), so a record says which config an instance
serves, and ``local fire`` and ``runs`` use only one that serves the config they were given: an
instance of another config has other queues and jobs, and acting on it would fire the wrong
schedule or list the wrong runs.

Each running instance writes one record, ``<config key>-<pid>.json`` (the key: a short sha256 of
the config's resolved absolute path), in a per-user directory of the temp directory, and removes
it when it stops. Two instances of one config: the newest serves ``local fire`` and ``runs``, and
when it stops the older one is found again. A record whose process is gone (a killed instance
cannot clean up after itself) is ignored and removed.

The records say where to send commands, so another user must not be able to plant or change
one: the directory must be this user's own, a real directory, closed to group and others (0700),
and each record this user's own regular file closed to others (0600). A directory that is not is
refused with one line saying what is wrong; a record that is not is ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from gluetrigger.core.errors import GlueTriggerError

__all__ = ["Instance", "Instances", "SessionDirError", "find", "forget", "record", "session_dir", "untrusted"]

DIR_MODE, FILE_MODE = 0o700, 0o600
KEY_LENGTH = 16  # hex digits of the sha256: a collision between two configs of one user is not a concern


class SessionDirError(GlueTriggerError):
    """The record directory is not this user's private directory; the message says why and what to do."""


@dataclass(frozen=True)
class Instance:
    """A running ``gluetrigger local``: the config it serves (resolved absolute path) and its endpoint."""

    config: str
    endpoint: str
    pid: int
    started: float


@dataclass(frozen=True)
class Instances:
    """What runs for one config (the newest instance serving it) and for every other config."""

    serving: Instance | None
    others: tuple[Instance, ...]


def session_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"gluetrigger-local-{os.geteuid()}"


def record(config_path: str, endpoint_url: str) -> Path:
    """Note that this process serves ``config_path`` at ``endpoint_url``; the record's path, for :func:`forget`."""
    folder = session_dir()
    with contextlib.suppress(FileExistsError):  # whatever is there is checked next
        folder.mkdir(mode=DIR_MODE)
    _checked(folder)
    config = os.path.realpath(config_path)
    path = folder / f"{_key(config)}-{os.getpid()}.json"
    scratch = folder / f".{path.stem}.tmp"
    scratch.unlink(missing_ok=True)
    # O_EXCL and O_NOFOLLOW: the file written is a new one, mode 0600 from its first byte.
    handle = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump({"config": config, "endpoint": endpoint_url, "pid": os.getpid(), "started": time.time()}, out)
    scratch.replace(path)  # atomic: a reader never sees half a record
    return path


def forget(path: Path) -> None:
    """Remove this process's record (the one :func:`record` returned)."""
    path.unlink(missing_ok=True)


def find(config_path: str) -> Instances:
    """The live instances: the newest one serving ``config_path``, and those serving other configs."""
    config = os.path.realpath(config_path)
    live = _live()
    serving = [instance for instance in live if instance.config == config]
    newest = max(serving, key=lambda instance: instance.started, default=None)
    return Instances(newest, tuple(instance for instance in live if instance.config != config))


def untrusted(found: os.stat_result, *, directory: bool) -> str | None:
    """Why the record directory (or a record) with status ``found`` (from lstat) cannot be trusted; None if it can.

    It must be a real directory (a regular file), not a symlink; this user's; closed to group and others.
    """
    if not (stat.S_ISDIR if directory else stat.S_ISREG)(found.st_mode):
        return "is not a directory" if directory else "is not a regular file"
    if found.st_uid != os.geteuid():
        return f"belongs to another user (uid {found.st_uid})"
    if stat.S_IMODE(found.st_mode) & ~(DIR_MODE if directory else FILE_MODE):
        return f"is open to other users (mode {stat.S_IMODE(found.st_mode):o})"
    return None


def _key(config: str) -> str:
    return hashlib.sha256(config.encode("utf-8", "surrogateescape")).hexdigest()[:KEY_LENGTH]


def _checked(folder: Path) -> Path:
    """``folder`` if it is this user's private directory; SessionDirError (FileNotFoundError) if not (absent)."""
    problem = untrusted(folder.lstat(), directory=True)
    if problem is not None:
        raise SessionDirError(
            f"{folder}, where `gluetrigger local` notes which config it serves, {problem}: "
            "remove it, or set TMPDIR to a directory of your own"
        )
    return folder


def _live() -> list[Instance]:
    """Every trusted, readable record whose process runs; records of finished processes are removed."""
    try:
        folder = _checked(session_dir())
    except FileNotFoundError:
        return []  # no instance ever ran as this user since the temp directory was last cleaned
    live = []
    for path in sorted(folder.glob("*.json")):
        instance = _read(path)
        if instance is None:
            continue
        if _alive(instance.pid):
            live.append(instance)
        else:
            path.unlink(missing_ok=True)
    return live


def _read(path: Path) -> Instance | None:
    """The record at ``path``; None if it is not this user's private file, or not a record."""
    try:
        if untrusted(path.lstat(), directory=False) is not None:
            return None
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    fields = found if isinstance(found, dict) else {}
    config, endpoint, pid, started = (fields.get(name) for name in ("config", "endpoint", "pid", "started"))
    if not (isinstance(config, str) and isinstance(endpoint, str) and isinstance(started, int | float)):
        return None
    if not isinstance(pid, int) or isinstance(pid, bool):
        return None
    return Instance(config, endpoint, pid, float(started))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
