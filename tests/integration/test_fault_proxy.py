"""The fault proxy's own faults, through HTTP to moto: each kind must do what it says.

The chaos suite trusts these faults to put the handler in the situations it claims to test (a
run started whose answer never came, a worker killed between StartJobRun and the save); a fault
that silently forwarded, or killed nothing, would make every figure it prints meaningless. So
each kind is checked from both sides: what the client saw, and what the emulator shows happened.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from .conftest import REGION, Emulator
from .fault_proxy import Fault, FaultProxy

pytestmark = pytest.mark.integration

START = "AWSGlue.StartJobRun"
LIST = "AWSGlue.GetJobRuns"
JOB = "it-sales-etl"
# A process that makes one StartJobRun call through the proxy when told to (a line on stdin).
CALLER = """
import sys
import boto3
from botocore.config import Config

client = boto3.session.Session(
    aws_access_key_id="testing", aws_secret_access_key="testing", region_name=sys.argv[3]
).client("glue", endpoint_url=sys.argv[1], config=Config(retries={"total_max_attempts": 1}, read_timeout=10))
print("ready", flush=True)
sys.stdin.readline()
client.start_job_run(JobName=sys.argv[2])
print("answered", flush=True)
"""


@pytest.fixture
def proxy(aws: Emulator) -> Iterator[FaultProxy]:
    """A proxy of the test's own in front of moto (the session's serves the handler)."""
    own = FaultProxy(aws.url, seed=7).start()
    yield own
    own.stop()


def glue(proxy: FaultProxy, read_timeout: float = 5.0) -> Any:
    """A Glue client through ``proxy`` that tries once and waits ``read_timeout`` for an answer."""
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    config = Config(read_timeout=read_timeout, connect_timeout=1, retries={"total_max_attempts": 1})
    return session.client("glue", endpoint_url=proxy.url, config=config)


def test_a_reset_before_forwarding_starts_nothing(aws: Emulator, proxy: FaultProxy) -> None:
    proxy.inject(START, Fault(drop=True, reset=True))

    with pytest.raises(ConnectionClosedError):
        glue(proxy).start_job_run(JobName=JOB)

    assert aws.job_runs(JOB) == []
    assert [r.fault for r in proxy.requests(START)] == ["reset"]


@pytest.mark.parametrize(("reset", "kind"), [(False, "drop-after-forward"), (True, "reset-after-forward")])
def test_a_response_lost_after_forwarding_leaves_the_run_started(
    aws: Emulator, proxy: FaultProxy, reset: bool, kind: str
) -> None:
    proxy.inject(START, Fault(drop=True, reset=reset, forward=True))

    with pytest.raises(ConnectionClosedError):
        glue(proxy).start_job_run(JobName=JOB)

    assert len(aws.job_runs(JOB)) == 1
    assert [r.fault for r in proxy.requests(START)] == [kind]


def test_an_error_after_forwarding_leaves_the_run_started(aws: Emulator, proxy: FaultProxy) -> None:
    proxy.inject(START, Fault(500, "InternalServiceException", forward=True))

    with pytest.raises(ClientError) as raised:
        glue(proxy).start_job_run(JobName=JOB)

    assert raised.value.response["Error"]["Code"] == "InternalServiceException"
    assert len(aws.job_runs(JOB)) == 1


def test_a_response_slower_than_the_read_timeout_times_out_after_the_run_started(
    aws: Emulator, proxy: FaultProxy
) -> None:
    proxy.inject(START, Fault(relay=True, delay_seconds=1.5))

    with pytest.raises(ReadTimeoutError):
        glue(proxy, read_timeout=0.5).start_job_run(JobName=JOB)

    assert len(aws.job_runs(JOB)) == 1
    assert [r.fault for r in proxy.requests(START)] == ["slow"]


def test_a_slow_response_within_the_read_timeout_is_the_upstream_answer_late(aws: Emulator, proxy: FaultProxy) -> None:
    proxy.inject(START, Fault(relay=True, delay_seconds=0.5))
    began = time.monotonic()

    run_id = glue(proxy).start_job_run(JobName=JOB)["JobRunId"]

    assert time.monotonic() - began >= 0.5
    assert [r["Id"] for r in aws.job_runs(JOB)] == [run_id]


@pytest.mark.parametrize(("forward", "runs"), [(False, 0), (True, 1)])
def test_a_kill_ends_the_calling_process_before_or_after_the_request_takes_effect(
    aws: Emulator, proxy: FaultProxy, forward: bool, runs: int
) -> None:
    caller = subprocess.Popen(
        [sys.executable, "-c", CALLER, proxy.url, JOB, REGION],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert caller.stdout is not None
        assert caller.stdin is not None
        assert caller.stdout.readline().strip() == "ready"
        proxy.client_pid = caller.pid
        proxy.inject(START, Fault(kill=True, forward=forward))
        caller.stdin.write("go\n")
        caller.stdin.flush()

        assert caller.wait(timeout=30) == -signal.SIGKILL
        assert "answered" not in caller.stdout.read()
    finally:
        caller.kill()
        caller.wait()
    assert len(aws.job_runs(JOB)) == runs
    assert [r.fault for r in proxy.requests(START)] == ["kill-after-forward" if forward else "kill"]


def test_a_kill_fault_needs_a_process_to_kill(proxy: FaultProxy) -> None:
    with pytest.raises(ValueError, match="client_pid"):
        proxy.inject(START, Fault(kill=True, rate=0.01))


def test_a_reset_is_a_tcp_reset_and_a_drop_a_clean_close(proxy: FaultProxy) -> None:
    host, port = proxy.url.removeprefix("http://").split(":")
    request = f"POST / HTTP/1.1\r\nHost: {host}\r\nX-Amz-Target: {START}\r\nContent-Length: 2\r\n\r\n{{}}".encode()
    seen = []
    for fault in (Fault(drop=True), Fault(drop=True, reset=True)):
        proxy.inject(START, fault)
        with socket.create_connection((host, int(port)), timeout=5) as connection:
            connection.sendall(request)
            try:
                seen.append(connection.recv(100))
            except ConnectionResetError:
                seen.append("reset")

    assert seen == [b"", "reset"]


def test_faults_sharing_a_target_split_its_requests_by_their_rates(aws: Emulator, proxy: FaultProxy) -> None:
    proxy.inject(LIST, Fault(400, "ThrottlingException", rate=0.5), Fault(drop=True, rate=0.25))
    client = glue(proxy)

    outcomes = []
    for _ in range(40):
        try:
            client.get_job_runs(JobName=JOB)
            outcomes.append("answered")
        except ClientError:
            outcomes.append("throttled")
        except ConnectionClosedError:
            outcomes.append("dropped")

    assert [r.fault or "answered" for r in proxy.requests(LIST)] == [
        {"throttled": "400 ThrottlingException", "dropped": "drop"}.get(o, o) for o in outcomes
    ]
    assert set(outcomes) == {"answered", "throttled", "dropped"}
    assert outcomes.count("throttled") > outcomes.count("dropped")


def test_faults_whose_rates_add_up_to_more_than_all_requests_are_refused(proxy: FaultProxy) -> None:
    with pytest.raises(ValueError, match="more than 1"):
        proxy.inject(LIST, Fault(rate=0.6), Fault(drop=True, rate=0.6))


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"drop": True, "kill": True}, "choose one"),
        ({"relay": True, "drop": True}, "choose one"),
        ({"reset": True}, "set drop too"),
        ({"rate": 1.5}, "within 0..1"),
    ],
)
def test_a_fault_that_contradicts_itself_is_refused(options: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        Fault(**options)
