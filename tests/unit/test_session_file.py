"""`local fire` and `runs` find the `gluetrigger local` serving their config, of this user, while it lives.

Records of other configs, of other users, open to other users, or of finished processes are never used.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gluetrigger.tooling.local import session_file
from gluetrigger.tooling.local.session_file import Instance, SessionDirError


@pytest.fixture(autouse=True)
def records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "records"
    monkeypatch.setattr(session_file, "session_dir", lambda: folder)
    return folder


@pytest.fixture
def configs(tmp_path: Path) -> tuple[str, str]:
    first, second = tmp_path / "a" / "triggers.yaml", tmp_path / "b" / "triggers.yaml"
    for path in (first, second):
        path.parent.mkdir()
        path.write_text("triggers: []\n")
    return str(first), str(second)


@pytest.fixture
def child() -> Iterator[int]:
    """The pid of a live process other than this one (another `gluetrigger local`, as far as records go)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait()


def write_record(records: Path, config: str, endpoint: str, pid: int, started: float = 1.0) -> Path:
    """A record as another instance writes it (record() writes this process's only)."""
    records.mkdir(mode=0o700, exist_ok=True)
    path = records / f"{hashlib.sha256(config.encode()).hexdigest()[:16]}-{pid}.json"
    path.write_text(json.dumps({"config": config, "endpoint": endpoint, "pid": pid, "started": started}))
    path.chmod(0o600)
    return path


def endpoint_for(config: str) -> str | None:
    serving = session_file.find(config).serving
    return serving.endpoint if serving else None


def finished_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    return int(done.stdout)


def test_nothing_recorded_means_nothing_running(configs: tuple[str, str]) -> None:
    found = session_file.find(configs[0])
    assert (found.serving, found.others) == (None, ())


def test_another_configs_instance_is_never_the_one_found(records: Path, configs: tuple[str, str], child: int) -> None:
    first, second = configs
    session_file.record(first, "http://127.0.0.1:4001")
    write_record(records, second, "http://127.0.0.1:4002", child)

    found_first, found_second = session_file.find(first), session_file.find(second)

    assert found_first.serving is not None
    assert found_first.serving == Instance(first, "http://127.0.0.1:4001", os.getpid(), found_first.serving.started)
    assert [other.endpoint for other in found_first.others] == ["http://127.0.0.1:4002"]
    assert found_second.serving == Instance(second, "http://127.0.0.1:4002", child, 1.0)
    assert [other.endpoint for other in found_second.others] == ["http://127.0.0.1:4001"]


def test_a_recorded_instance_is_found_until_forgotten(
    records: Path, configs: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = session_file.record(configs[0], "http://127.0.0.1:4566")

    # Named from the resolved absolute path: a relative path or a symlink to the config is the same config.
    assert recorded.name == f"{hashlib.sha256(configs[0].encode()).hexdigest()[:16]}-{os.getpid()}.json"
    monkeypatch.chdir(Path(configs[0]).parent)
    assert session_file.find("triggers.yaml").serving is not None
    link = Path(configs[1]).parent / "link.yaml"
    link.symlink_to(configs[0])
    assert session_file.find(str(link)).serving is not None
    # Private to this user from the start.
    assert stat.S_IMODE(records.stat().st_mode) == 0o700
    assert stat.S_IMODE(recorded.stat().st_mode) == 0o600
    assert [path.name for path in records.iterdir()] == [recorded.name]  # no scratch file left behind

    session_file.forget(recorded)
    assert session_file.find(configs[0]).serving is None


def test_the_newest_instance_of_a_config_wins_and_the_older_is_found_once_it_stops(
    records: Path, configs: tuple[str, str], child: int
) -> None:
    older = write_record(records, configs[0], "http://127.0.0.1:4001", child, started=1.0)
    newest = session_file.record(configs[0], "http://127.0.0.1:4002")
    assert older.exists()

    assert endpoint_for(configs[0]) == "http://127.0.0.1:4002"
    session_file.forget(newest)
    assert endpoint_for(configs[0]) == "http://127.0.0.1:4001"


def test_a_dead_instances_record_is_ignored_and_removed(records: Path, configs: tuple[str, str]) -> None:
    stale = write_record(records, configs[0], "http://127.0.0.1:1", finished_pid())

    assert session_file.find(configs[0]).serving is None
    assert not stale.exists()


@pytest.mark.parametrize("mode", [0o644, 0o620, 0o606])
def test_a_record_open_to_other_users_is_ignored(records: Path, configs: tuple[str, str], mode: int) -> None:
    planted = write_record(records, configs[0], "http://attacker:1", os.getpid())
    planted.chmod(mode)

    assert session_file.find(configs[0]).serving is None


def test_a_symlinked_record_is_ignored(records: Path, configs: tuple[str, str], tmp_path: Path) -> None:
    elsewhere = write_record(tmp_path / "elsewhere", configs[0], "http://attacker:1", os.getpid())
    records.mkdir(mode=0o700)
    (records / elsewhere.name).symlink_to(elsewhere)

    assert session_file.find(configs[0]).serving is None


def status(mode: int, uid: int) -> os.stat_result:
    return os.stat_result((mode, 0, 0, 1, uid, 0, 0, 0, 0, 0))


@pytest.mark.parametrize(
    ("found", "directory", "why"),
    [
        (status(stat.S_IFDIR | 0o700, os.geteuid()), True, None),
        (status(stat.S_IFREG | 0o600, os.geteuid()), False, None),
        (status(stat.S_IFDIR | 0o700, os.geteuid() + 1), True, f"belongs to another user (uid {os.geteuid() + 1})"),
        (status(stat.S_IFREG | 0o600, os.geteuid() + 1), False, f"belongs to another user (uid {os.geteuid() + 1})"),
        (status(stat.S_IFDIR | 0o755, os.geteuid()), True, "is open to other users (mode 755)"),
        (status(stat.S_IFDIR | 0o1777, os.geteuid()), True, "is open to other users (mode 1777)"),
        (status(stat.S_IFREG | 0o640, os.geteuid()), False, "is open to other users (mode 640)"),
        (status(stat.S_IFLNK | 0o777, os.geteuid()), True, "is not a directory"),
        (status(stat.S_IFLNK | 0o777, os.geteuid()), False, "is not a regular file"),
        (status(stat.S_IFREG | 0o700, os.geteuid()), True, "is not a directory"),
    ],
)
def test_only_this_users_private_directory_and_records_are_trusted(
    found: os.stat_result, directory: bool, why: str | None
) -> None:
    assert session_file.untrusted(found, directory=directory) == why


def test_a_directory_of_another_user_is_refused_in_one_line(
    records: Path, configs: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    records.mkdir(mode=0o700)
    me = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: me + 1)  # the directory now belongs to someone else

    for attempt in (lambda: session_file.find(configs[0]), lambda: session_file.record(configs[0], "http://x:1")):
        with pytest.raises(SessionDirError) as refused:
            attempt()
        assert str(refused.value) == (
            f"{records}, where `gluetrigger local` notes which config it serves, belongs to another user (uid {me}): "
            "remove it, or set TMPDIR to a directory of your own"
        )
    assert list(records.iterdir()) == []


@pytest.mark.parametrize("make", ["open", "symlink", "file"])
def test_a_directory_that_is_not_private_is_refused(
    records: Path, configs: tuple[str, str], tmp_path: Path, make: str
) -> None:
    if make == "open":
        records.mkdir()
        records.chmod(0o777)
    elif make == "symlink":
        (tmp_path / "private").mkdir(mode=0o700)
        records.symlink_to(tmp_path / "private")
    else:
        records.write_text("")

    for attempt in (lambda: session_file.find(configs[0]), lambda: session_file.record(configs[0], "http://x:1")):
        with pytest.raises(SessionDirError, match=r"notes which config it serves, (is open|is not a directory)"):
            attempt()


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"pid": "x", "endpoint": 3}',
        '{"config": "C", "endpoint": "http://x:1", "pid": true, "started": 1}',
        '{"config": "C", "endpoint": "http://x:1", "pid": 1}',
    ],
)
def test_a_damaged_record_is_ignored(records: Path, content: str) -> None:
    path = write_record(records, "C", "http://x:1", os.getpid())
    path.write_text(content.replace('"C"', json.dumps(str(Path("C").resolve()))))

    assert session_file.find("C").serving is None
    assert path.exists()
