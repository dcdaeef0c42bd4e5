"""The running `gluetrigger local` is found through its session record, and only while it lives."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gluetrigger.tooling.local import session_file


@pytest.fixture(autouse=True)
def record_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "session.json"
    monkeypatch.setattr(session_file, "session_path", lambda: path)
    return path


def test_nothing_recorded_means_nothing_running() -> None:
    assert session_file.running_endpoint() is None


def test_recorded_endpoint_is_found_until_forgotten(record_in: Path) -> None:
    session_file.record("http://127.0.0.1:4566")
    assert session_file.running_endpoint() == "http://127.0.0.1:4566"
    session_file.forget()
    assert not record_in.exists()
    assert session_file.running_endpoint() is None


def test_a_dead_instances_record_is_ignored(record_in: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    record_in.write_text(json.dumps({"endpoint": "http://127.0.0.1:1", "pid": int(finished.stdout)}))
    assert session_file.running_endpoint() is None


def test_forget_leaves_a_newer_instances_record(record_in: Path) -> None:
    record_in.write_text(json.dumps({"endpoint": "http://127.0.0.1:2", "pid": 1}))
    session_file.forget()
    assert record_in.exists()


@pytest.mark.parametrize("content", ["not json", "[]", '{"pid": "x", "endpoint": 3}'])
def test_a_damaged_record_is_ignored(record_in: Path, content: str) -> None:
    record_in.write_text(content)
    assert session_file.running_endpoint() is None
