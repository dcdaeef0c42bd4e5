"""Integration fixtures: moto's server over HTTP, the fault proxy in front of it, a fresh account per test.

Each xdist worker starts its own moto server and proxy on free ports. The handler under test
reaches AWS only through ``AWS_ENDPOINT_URL``, set to the proxy, so every request it makes is
real HTTP that the proxy records (and fails when told to). Tests set up and inspect the emulator
directly, through moto's own URL and plain boto3 clients, as a user would; that traffic never
shows in the proxy's records. The ``aws`` fixture resets moto and creates the idempotency table
and the Glue jobs again for each test, so no test sees another's runs or idempotency records.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from gluetrigger.core.config import compile_config
from gluetrigger.core.idempotency_record import key_schema, time_to_live
from gluetrigger.handler import default_service
from gluetrigger.tooling.config_file import load_config
from gluetrigger.tooling.local.emulator import EmbeddedEmulator

from .fault_proxy import FaultProxy

REGION = "eu-west-1"
TABLE = "it-idempotency"
ROLE = "arn:aws:iam::123456789012:role/it-glue"
# Every job of tests/integration/triggers.yaml except it-missing-job, with its MaxConcurrentRuns.
JOBS = {
    "it-sales-etl": 10,
    "it-partner-ingest": 10,
    "it-sales-rollup": 10,
    "it-orders-load": 10,
    "it-full-request": 10,
    "it-legacy-capacity": 10,
    "it-shell-capacity": 10,
    "it-needs-detail": 10,
    "it-single-slot": 1,
    "it-held": 10,
}
COMPILED_CONFIG = json.dumps(compile_config(load_config(Path(__file__).with_name("triggers.yaml"))))


@dataclass(frozen=True)
class Emulator:
    """moto's server (``url``) and the fault proxy the handler talks to."""

    url: str
    proxy: FaultProxy
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        """A client straight to moto (made once: loading a service model takes a while)."""
        if service not in self._clients:
            session = boto3.session.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
            )
            self._clients[service] = session.client(service, endpoint_url=self.url)
        return self._clients[service]

    def moto_api(self, path: str, payload: dict[str, Any] | None = None) -> None:
        request = urllib.request.Request(
            f"{self.url}/moto-api/{path}", data=json.dumps(payload or {}).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    @contextmanager
    def job_runs_held(self, reads: int = 1) -> Iterator[None]:
        """Job runs stay in progress: each advances one state per ``reads`` GetJobRun(s) calls."""
        transition = {"progression": "manual", "times": reads}
        self.moto_api("state-manager/set-transition", {"model_name": "glue::job_run", "transition": transition})
        try:
            yield
        finally:
            self.moto_api("state-manager/unset-transition", {"model_name": "glue::job_run"})

    def job_runs(self, job_name: str) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = self.client("glue").get_job_runs(JobName=job_name)["JobRuns"]
        return runs

    def idempotency_records(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.client("dynamodb").scan(TableName=TABLE)["Items"]
        return items

    def create_job(self, name: str, max_concurrent_runs: int = 10) -> None:
        self.client("glue").create_job(
            Name=name,
            Role=ROLE,
            Command={"Name": "glueetl", "ScriptLocation": f"s3://it-scripts/{name}.py"},
            ExecutionProperty={"MaxConcurrentRuns": max_concurrent_runs},
        )

    def fresh_account(self) -> None:
        self.moto_api("reset")
        self.proxy.reset()
        dynamodb = self.client("dynamodb")
        dynamodb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST", **key_schema())
        dynamodb.update_time_to_live(TableName=TABLE, TimeToLiveSpecification=time_to_live())
        for name, slots in JOBS.items():
            self.create_job(name, slots)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    embedded = EmbeddedEmulator()
    url = embedded.start().url
    proxy = FaultProxy(url).start()
    yield Emulator(url, proxy)
    proxy.stop()
    embedded.stop()


@pytest.fixture
def aws(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The environment Lambda would give the handler, pointed at the proxy, and a fresh account.

    Not autouse: other suites in this directory (local mode's) run their own emulator.
    """
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "GLUETRIGGER_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "AWS_ENDPOINT_URL": emulator.proxy.url,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "GLUETRIGGER_CONFIG": COMPILED_CONFIG,
        "GLUETRIGGER_IDEMPOTENCY_TABLE": TABLE,
    }.items():
        monkeypatch.setenv(name, value)
    emulator.fresh_account()
    # Built here, outside any test's capsys, so its log handler writes to the session's stdout.
    default_service()
    return emulator
