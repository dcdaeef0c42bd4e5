"""SnapStart: the hooks registered with Lambda's runtime, and what a restore makes anew.

``snapshot_restore_py`` is Lambda's runtime module (shipped in its Python runtimes, not on
PyPI's side of this project); a stand-in in ``sys.modules`` records what is registered, which is
all the runtime does with it until it snapshots.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import types
from typing import Any

import pytest

from gluetrigger.runtime import aws_clients, inbound, snapstart


class StandIn(types.ModuleType):
    """Records registrations as Lambda's runtime would, to run them in order later."""

    def __init__(self) -> None:
        super().__init__("snapshot_restore_py")
        self.before: list[tuple[Any, tuple[Any, ...]]] = []
        self.after: list[tuple[Any, tuple[Any, ...]]] = []

    def register_before_snapshot(self, hook: Any, *args: Any) -> Any:
        self.before.append((hook, args))
        return hook

    def register_after_restore(self, hook: Any, *args: Any) -> Any:
        self.after.append((hook, args))
        return hook

    def restore(self) -> None:
        for hook, args in self.after:
            hook(*args)


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> StandIn:
    stand_in = StandIn()
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", stand_in)
    return stand_in


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A private set of clients in place of the process's, which the integration tests' endpoint owns."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "before")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "snapshot")
    private = aws_clients._Clients()
    monkeypatch.setattr(aws_clients, "_CLIENTS", private)
    return private


def test_outside_lambda_s_runtime_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails: ModuleNotFoundError
    assert snapstart.register(lambda: None) is False


def test_a_restore_makes_clients_with_the_restored_environment_s_credentials(
    runtime: StandIn, clients: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebuilt: list[Any] = []
    assert snapstart.register(lambda: rebuilt.append(aws_clients.client("glue")))
    snapshotted = aws_clients.client("glue")
    assert snapshotted.meta.region_name == "eu-west-1"
    assert snapshotted._request_signer._credentials.access_key == "before"

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "after")
    runtime.restore()

    assert len(rebuilt) == 1
    assert rebuilt[0] is not snapshotted
    assert rebuilt[0]._request_signer._credentials.access_key == "after"
    assert aws_clients.client("glue") is rebuilt[0]


def test_a_restore_keeps_the_service_models_already_parsed(runtime: StandIn, clients: Any) -> None:
    snapstart.register(lambda: None)
    loader = aws_clients.client("dynamodb")  # made before the snapshot
    before = clients._session._session.get_component("data_loader")
    runtime.restore()
    assert aws_clients.client("dynamodb") is not loader
    assert clients._session._session.get_component("data_loader") is before


def test_a_restore_reseeds_random_so_environments_of_one_snapshot_draw_differently(
    runtime: StandIn, clients: Any
) -> None:
    snapstart.register(lambda: None)
    random.seed(1234)  # the state every environment restored from the snapshot would share
    snapshot_state = random.getstate()
    runtime.restore()
    assert random.getstate() != snapshot_state


def test_before_the_snapshot_every_inbound_schema_is_compiled(runtime: StandIn) -> None:
    snapstart.register(lambda: None)
    inbound._compiled.cache_clear()
    for hook, args in runtime.before:
        hook(*args)
    assert inbound._compiled.cache_info().currsize == len(inbound.SHAPES) + 2  # and two record schemas


def test_on_lambda_with_snapstart_the_handler_registers_a_rebuild_of_its_service(tmp_path: Any) -> None:
    # A fresh interpreter: the handler registers at import, on Lambda only.
    (tmp_path / "snapshot_restore_py.py").write_text(
        "before, after = [], []\n"
        "def register_before_snapshot(f, *a): before.append((f, a))\n"
        "def register_after_restore(f, *a): after.append((f, a))\n",
        encoding="utf-8",
    )
    code = (
        "import snapshot_restore_py as r, gluetrigger.handler as h\n"
        "first = h.default_service()\n"
        "[f(*a) for f, a in r.after]\n"
        "print(len(r.before), len(r.after), h.default_service() is not first)\n"
    )
    config = {"triggers": [{"name": "t", "source": {"type": "s3", "bucket": "bkt"}, "job": {"name": "j"}}]}
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GLUETRIGGER_", "AWS_LAMBDA", "PYTHONPATH"))}
    env = {
        **base,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "fn",
        "GLUETRIGGER_CONFIG": json.dumps(config),
        "GLUETRIGGER_IDEMPOTENCY_TABLE": "t",
    }
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "1", "True"]
