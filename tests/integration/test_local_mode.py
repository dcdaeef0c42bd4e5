"""End to end: ``gluetrigger local`` in a subprocess, driven through its emulator as a user would.

Objects are uploaded and events sent with boto3 through the emulator local mode prints; what
counts is what GetJobRuns shows afterwards, arguments included, and the line local mode prints
per outcome. One local-mode process serves most tests (each uses its own keys); the Ctrl-C and
``--once`` tests start their own, and so does the test of two instances of two configs at once.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pytest

from gluetrigger.core.config import parse_config
from gluetrigger.core.naming import schedule_resource_name
from gluetrigger.tooling.local.endpoint import Endpoint
from gluetrigger.tooling.local.provision import (
    DEAD_LETTER_QUEUE,
    RESOURCE_PREFIX,
    VISIBILITY_TIMEOUT_SECONDS,
    provision,
    queue_name,
)
from tests.integration.helpers import own_arguments

if TYPE_CHECKING:
    from tests.integration.conftest import Emulator

pytestmark = pytest.mark.integration

REPO = Path(__file__).parents[2]
BUCKET = "lm-landing"
CONFIG = f"""
triggers:
  - name: reports                      # default key: every object write is a new run
    source: {{type: s3, bucket: {BUCKET}, prefix: reports/, suffix: .csv}}
    job:
      name: lm-reports
      arguments: {{--path: "s3://${{bucket}}/${{key}}", --size: "${{size}}"}}
  - name: images                       # keyed on the content: identical uploads are one run
    source: {{type: s3, bucket: {BUCKET}, prefix: images/}}
    job: {{name: lm-images, arguments: {{--key: "${{key}}"}}}}
    idempotency_key: "${{bucket}}/${{key}}@${{etag}}"
  - name: hourly
    source: {{type: schedule, expression: rate(1 hour)}}
    job: {{name: lm-hourly, arguments: {{--at: "${{time:%Y-%m-%dT%H:%M:%S}}"}}}}
  - name: exports
    source:
      type: event
      pattern: {{source: [com.example.lm], detail-type: [Export Done], detail: {{ok: [true]}}}}
    job: {{name: lm-exports, arguments: {{--export: "${{event:detail.id}}"}}}}
"""
# Another project's config, with a trigger of the same name as CONFIG's and another job.
OTHER_CONFIG = """
triggers:
  - name: hourly
    source: {type: schedule, expression: rate(1 hour)}
    job: {name: lm-other-hourly, arguments: {--at: "${time:%Y-%m-%dT%H:%M:%S}"}}
"""
READY_TIMEOUT_SECONDS = 30.0
WAIT_SECONDS = 15.0


class LocalProcess:
    """A running ``gluetrigger local``: its stdout lines as they arrive, and its emulator."""

    def __init__(self, *args: str, stderr: IO[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gluetrigger", "local", *args],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            cwd=REPO,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            self.wait_for_line(lambda line: line.startswith("ready:"), READY_TIMEOUT_SECONDS)
        except BaseException:
            self.kill()
            raise
        address = self.wait_for_line(lambda line: line.startswith("endpoint: "))
        self.endpoint = Endpoint(address.split()[1])
        self._clients: dict[str, Any] = {}

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for_line(self, wanted: Callable[[str], bool], timeout: float = WAIT_SECONDS) -> str:
        """The first line (printed so far or later) that ``wanted`` accepts."""
        with self._changed:
            found = self._changed.wait_for(lambda: next((x for x in self.lines if wanted(x)), None), timeout)
            assert found, f"no such line within {timeout} s; output so far:\n" + "\n".join(self.lines)
            return found

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.endpoint.client(service)
        return self._clients[service]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Another ``gluetrigger`` command against this emulator."""
        return subprocess.run(
            [sys.executable, "-m", "gluetrigger", *args, "--endpoint-url", self.endpoint.url],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=REPO,
        )

    def interrupt(self, timeout: float) -> int:
        """Ctrl-C; the exit code (TimeoutExpired if the process outlives ``timeout``)."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout)
        self._reader.join(timeout)
        return code

    def kill(self) -> None:
        """Whatever a failed test left running (the emulator child stops when its stdin closes)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def config_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("local") / "triggers.yaml"
    path.write_text(CONFIG)
    return path


@contextmanager
def serving(config_path: Path, *options: str) -> Iterator[LocalProcess]:
    """`gluetrigger local` for ``config_path``; stopped by Ctrl-C afterwards, it must exit 130 with no traceback."""
    with (config_path.parent / "stderr.txt").open("w+") as stderr:
        running = LocalProcess("--config", str(config_path), *options, stderr=stderr)
        try:
            yield running
            assert running.interrupt(timeout=10) == 130
        finally:
            running.kill()
        stderr.seek(0)
        assert "Traceback" not in stderr.read()


@pytest.fixture(scope="module")
def local(config_path: Path) -> Iterator[LocalProcess]:
    with serving(config_path) as running:
        yield running


def runs(local: LocalProcess, job: str, argument: str, value: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = local.client("glue").get_job_runs(JobName=job)["JobRuns"]
    return [run for run in found if run.get("Arguments", {}).get(argument) == value]


def wait_for_runs(local: LocalProcess, job: str, argument: str, value: str, count: int) -> list[dict[str, Any]]:
    """The runs of ``job`` whose ``argument`` is ``value``, once there are ``count`` of them."""
    deadline = time.monotonic() + WAIT_SECONDS
    while len(found := runs(local, job, argument, value)) < count:
        assert time.monotonic() < deadline, f"{job}: {len(found)} runs with {argument}={value}, expected {count}"
        time.sleep(0.1)
    return found


def drained(local: LocalProcess, trigger: str) -> None:
    """Wait until the trigger's queue holds nothing, in flight or waiting: every delivery is done."""
    sqs = local.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name(trigger))["QueueUrl"]
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    deadline = time.monotonic() + WAIT_SECONDS
    while any(int(v) for v in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"].values()):
        assert time.monotonic() < deadline, f"{trigger}'s queue did not drain"
        time.sleep(0.1)


def test_an_upload_starts_one_run_with_its_arguments(local: LocalProcess) -> None:
    key = "reports/2026-11-24/north east.csv"
    local.client("s3").put_object(Bucket=BUCKET, Key=key, Body=b"a,b\n")

    (run,) = wait_for_runs(local, "lm-reports", "--path", f"s3://{BUCKET}/{key}", 1)
    assert own_arguments(run["Arguments"]) == {"--path": f"s3://{BUCKET}/{key}", "--size": "4"}
    line = local.wait_for_line(lambda line: " started " in line and key in line)
    assert run["Id"] in line
    assert " reports " in line


def test_the_same_notification_delivered_twice_starts_one_run(local: LocalProcess) -> None:
    """EventBridge and SQS deliver at least once: the second delivery of one event starts nothing."""
    events, sqs = local.client("events"), local.client("sqs")
    rule = schedule_resource_name(RESOURCE_PREFIX, "reports")
    # A second target on the trigger's rule shows us the exact event its queue received.
    tap = sqs.create_queue(QueueName="lm-tap")["QueueUrl"]
    tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_targets(Rule=rule, Targets=[{"Id": "tap", "Arn": tap_arn}])
    key = "reports/twice/orders.csv"
    try:
        local.client("s3").put_object(Bucket=BUCKET, Key=key, Body=b"1\n")
        (body,) = [m["Body"] for m in sqs.receive_message(QueueUrl=tap, WaitTimeSeconds=5)["Messages"]]
    finally:
        events.remove_targets(Rule=rule, Ids=["tap"])
    assert json.loads(body)["detail"]["object"]["key"] == key
    (first,) = wait_for_runs(local, "lm-reports", "--path", f"s3://{BUCKET}/{key}", 1)

    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=queue_name("reports"))["QueueUrl"], MessageBody=body)

    line = local.wait_for_line(lambda line: "duplicate suppressed" in line and key in line)
    assert first["Id"] in line
    drained(local, "reports")
    assert len(runs(local, "lm-reports", "--path", f"s3://{BUCKET}/{key}")) == 1


def test_a_second_upload_of_a_key_is_a_new_run(local: LocalProcess) -> None:
    """By default the key includes S3's sequencer: each write is its own event, even with the same bytes."""
    key = "reports/again/daily.csv"
    for _ in range(2):
        local.client("s3").put_object(Bucket=BUCKET, Key=key, Body=b"same\n")

    found = wait_for_runs(local, "lm-reports", "--path", f"s3://{BUCKET}/{key}", 2)
    drained(local, "reports")
    assert len({run["Id"] for run in found}) == 2
    assert len(runs(local, "lm-reports", "--path", f"s3://{BUCKET}/{key}")) == 2


def test_identical_content_is_one_run_when_the_key_uses_the_etag(local: LocalProcess) -> None:
    s3 = local.client("s3")
    key = "images/logo.png"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"png-1")
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"png-1")

    local.wait_for_line(lambda line: "duplicate suppressed" in line and key in line)
    drained(local, "images")
    assert len(runs(local, "lm-images", "--key", key)) == 1

    s3.put_object(Bucket=BUCKET, Key=key, Body=b"png-2")
    assert len(wait_for_runs(local, "lm-images", "--key", key, 2)) == 2


def test_objects_outside_prefix_or_suffix_start_nothing(local: LocalProcess) -> None:
    s3 = local.client("s3")
    outside = ["reports/2026/notes.txt", "elsewhere/2026/data.csv"]
    for key in outside:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    s3.put_object(Bucket=BUCKET, Key="reports/2026/sentinel.csv", Body=b"x")

    wait_for_runs(local, "lm-reports", "--path", f"s3://{BUCKET}/reports/2026/sentinel.csv", 1)
    drained(local, "reports")
    drained(local, "images")
    for key in outside:
        assert runs(local, "lm-reports", "--path", f"s3://{BUCKET}/{key}") == []
        assert not [line for line in local.lines if key in line]


def test_fire_runs_a_schedule_now_with_the_command_printed(local: LocalProcess) -> None:
    printed = local.wait_for_line(lambda line: " hourly " in line and "fire it now: " in line)
    command = shlex.split(printed.split("fire it now: ")[1])
    fired = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, cwd=REPO)

    assert fired.returncode == 0, fired.stderr
    scheduled = fired.stdout.split(" at ")[1].strip()  # "fired hourly: Scheduled Event <id> at <time>"
    (run,) = wait_for_runs(local, "lm-hourly", "--at", scheduled.removesuffix("Z"), 1)
    assert local.wait_for_line(lambda line: run["Id"] in line)


def gluetrigger(*args: str) -> subprocess.CompletedProcess[str]:
    """A ``gluetrigger`` command told no endpoint: it must find the running instance itself."""
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    command = [sys.executable, "-m", "gluetrigger", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, cwd=REPO, env=env)


def test_fire_and_runs_find_the_instance_of_their_config_among_two(
    local: LocalProcess, config_path: Path, tmp_path: Path
) -> None:
    """Two projects' `gluetrigger local` at once: each command reaches the one serving its --config.

    Both configs have a schedule trigger `hourly` (their own queue on each emulator), so a fire that
    reached the wrong instance would succeed there; only the run on the right one's job tells.
    """
    other_path = tmp_path / "triggers.yaml"
    other_path.write_text(OTHER_CONFIG)
    with (tmp_path / "stderr.txt").open("w+") as stderr:
        other = LocalProcess("--config", str(other_path), stderr=stderr)
        try:
            for running, path, job in ((local, config_path, "lm-hourly"), (other, other_path, "lm-other-hourly")):
                fired = gluetrigger("local", "fire", "hourly", "--config", str(path))
                assert fired.returncode == 0, fired.stderr
                scheduled = fired.stdout.split(" at ")[1].strip()  # "fired hourly: Scheduled Event <id> at <time>"
                (run,) = wait_for_runs(running, job, "--at", scheduled.removesuffix("Z"), 1)
                listed = gluetrigger("runs", "--config", str(path), "--json")
                assert listed.returncode == 0, listed.stderr
                assert run["Id"] in {item["id"] for item in json.loads(listed.stdout)}
                assert {"lm-hourly", "lm-other-hourly"} & {item["job"] for item in json.loads(listed.stdout)} == {job}

            unserved = gluetrigger("runs", "--config", str(tmp_path / "elsewhere.yaml"))
            assert unserved.returncode == 2
            assert f"for {os.path.realpath(config_path)} at {local.endpoint.url}" in unserved.stderr
            assert f"for {os.path.realpath(other_path)} at {other.endpoint.url}" in unserved.stderr
            assert other.interrupt(timeout=10) == 130
        finally:
            other.kill()


def test_custom_events_reach_event_triggers_by_pattern(local: LocalProcess) -> None:
    events = local.client("events")

    def put(detail: dict[str, Any]) -> None:
        entry = {"Source": "com.example.lm", "DetailType": "Export Done", "Detail": json.dumps(detail)}
        assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0

    put({"ok": False, "id": "exp-no"})  # the pattern does not match
    put({"ok": True})  # matches, but ${event:detail.id} is missing: rejected, no run
    put({"ok": True, "id": "exp-1"})

    (run,) = wait_for_runs(local, "lm-exports", "--export", "exp-1", 1)
    assert own_arguments(run["Arguments"]) == {"--export": "exp-1"}
    local.wait_for_line(lambda line: " exports " in line and "rejected: " in line and "detail.id" in line)
    assert runs(local, "lm-exports", "--export", "exp-no") == []


def test_a_message_that_fails_for_good_goes_to_the_dlq_with_its_reason_at_its_first_receive(
    local: LocalProcess,
) -> None:
    entry = {"Source": "com.example.lm", "DetailType": "Export Done", "Detail": json.dumps({"ok": True})}
    began = time.monotonic()
    [sent] = local.client("events").put_events(Entries=[entry])["Entries"]

    letter = wait_for_dead_letter(local, sent["EventId"])
    # A second receive could come only after the visibility timeout; a redrive after five of them.
    assert time.monotonic() - began < VISIBILITY_TIMEOUT_SECONDS
    attributes = {name: value["StringValue"] for name, value in letter["MessageAttributes"].items()}
    assert attributes["gluetrigger-trigger"] == "exports"
    assert attributes["gluetrigger-reason"].startswith("exports: variable ${event:detail.id} is missing or empty")
    assert json.loads(letter["Body"])["detail"] == {"ok": True}
    drained(local, "exports")
    shown = [line for line in local.lines if sent["EventId"] in line]
    assert len(shown) == 1, shown
    assert " exports " in shown[0]
    assert "rejected: variable ${event:detail.id} is missing or empty in event " in shown[0]
    assert shown[0].endswith(" -> DLQ")


def wait_for_dead_letter(local: LocalProcess, event_id: str) -> dict[str, Any]:
    """The message in local mode's DLQ whose body is the EventBridge event ``event_id``."""
    sqs = local.client("sqs")
    url = sqs.get_queue_url(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"]
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        received = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        )
        for message in received.get("Messages", []):
            if json.loads(message["Body"]).get("id") == event_id:
                return dict(message)
    raise AssertionError(f"event {event_id} did not reach {DEAD_LETTER_QUEUE} within {WAIT_SECONDS} s")


def test_runs_lists_state_arguments_and_start(local: LocalProcess) -> None:
    key = "reports/listed/r.csv"
    local.client("s3").put_object(Bucket=BUCKET, Key=key, Body=b"r")
    (run,) = wait_for_runs(local, "lm-reports", "--path", f"s3://{BUCKET}/{key}", 1)

    listed = local.cli("runs", "--job", "lm-reports", "--json")
    assert listed.returncode == 0, listed.stderr
    (item,) = [r for r in json.loads(listed.stdout) if r["id"] == run["Id"]]
    assert item["job"] == "lm-reports"
    assert item["state"] == "SUCCEEDED"
    assert own_arguments(item["arguments"]) == {"--path": f"s3://{BUCKET}/{key}", "--size": "1"}
    assert item["started"]
    shown = local.cli("runs")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split()[:5] == ["STARTED", "JOB", "STATE", "RUN", "ID"]
    assert f"--path=s3://{BUCKET}/{key}" in shown.stdout
    unknown = local.cli("runs", "--job", "no-such-job")
    assert unknown.returncode == 1
    assert "no-such-job" in unknown.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    children = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.add(int(entry.name))
    return children


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_ctrl_c_stops_everything_within_5_seconds(config_path: Path, tmp_path: Path) -> None:
    port = _free_port()
    with (tmp_path / "stderr.txt").open("w+") as stderr:
        running = LocalProcess("--config", str(config_path), "--port", str(port), stderr=stderr)
        assert running.endpoint.url == f"http://127.0.0.1:{port}"
        children = _children(running.process.pid)
        assert children  # the emulator runs in a child process

        began = time.monotonic()
        try:
            code = running.interrupt(timeout=5)
        finally:
            running.kill()

        assert time.monotonic() - began < 5
        assert code == 130
        assert running.lines[-2:] == [
            "interrupted: stopping",
            "stopped: pollers and scheduler joined, emulator shut down",
        ]
        with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
            probe.connect(("127.0.0.1", port))
        assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]
        stderr.seek(0)
        assert "Traceback" not in stderr.read()


def test_once_plays_the_example_and_exits_0_with_a_summary() -> None:
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "gluetrigger", "local", "--config", "triggers.yaml", "--once"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert time.monotonic() - began < 60
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.startswith("TRIGGER "))
    assert header.split() == [
        "TRIGGER",
        "RUNS",
        "STARTED",
        "FILES",
        "BATCHED",
        "HELD",
        "BACK",
        "DUPLICATES",
        "SUPPRESSED",
        "IGNORED",
        "REJECTED",
        "ERRORS",
        "AS",
        "EXPECTED",
    ]
    rows = {line.split()[0]: line.split()[1:] for line in lines[lines.index(header) + 1 :][:5]}
    assert rows == {
        "sales-arrival": ["1", "0", "0", "1", "1", "0", "0", "yes"],
        "partner-drop": ["2", "0", "0", "1", "0", "0", "0", "yes"],
        "nightly-rollup": ["1", "0", "0", "0", "0", "0", "0", "yes"],
        "orders-exported": ["1", "0", "0", "0", "0", "0", "0", "yes"],
        "sales-burst": ["3", "50", "0", "0", "0", "0", "0", "yes"],
    }
    assert "sales-burst: 50 files became 3 runs (20 + 20 + 10 files), each given its manifest (--manifest)" in lines
    assert lines[-1].startswith("demo passed in ")


def test_once_exits_1_and_says_what_differed(tmp_path: Path) -> None:
    """Without its ETag key, sales-arrival starts a second run for identical content."""
    example = (REPO / "triggers.yaml").read_text()
    changed = tmp_path / "triggers.yaml"
    changed.write_text(example.replace('    idempotency_key: "${bucket}/${key}@${etag}"\n', ""))
    assert changed.read_text() != example

    done = subprocess.run(
        [sys.executable, "-m", "gluetrigger", "local", "--config", str(changed), "--once"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1, done.stdout + done.stderr
    differences = done.stdout.split("what differed from the example's expectations:\n")[1].splitlines()
    assert differences == [
        "  sales-arrival: 2 started, expected 1",
        "  sales-arrival: 0 duplicate, expected 1",
        "  job sales-etl: GetJobRuns shows 2 new runs, expected 1",
    ]


def test_once_refuses_a_config_that_is_not_the_example(config_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gluetrigger", "local", "--config", str(config_path), "--once"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert f"{config_path} lacks its triggers sales-arrival (source type s3), partner-drop" in done.stderr
    assert f"run `gluetrigger local --config {config_path}` without --once" in done.stderr
    assert done.stdout == ""


# -- bursts: `--run-seconds` and `--max-concurrent-runs` ------------------------------------------

BURST_BUCKET = "lm-burst"
BURST_CONFIG = f"""
triggers:
  - name: slow                         # its job allows one run at once (--max-concurrent-runs 1)
    source: {{type: s3, bucket: {BURST_BUCKET}, prefix: slow/}}
    job: {{name: lm-slow, arguments: {{--path: "s3://${{bucket}}/${{key}}"}}}}
  - name: capped                       # a trigger's max_concurrent_runs sets its placeholder's limit
    source: {{type: s3, bucket: {BURST_BUCKET}, prefix: capped/}}
    max_concurrent_runs: 3
    job: {{name: lm-capped}}
  - name: batched
    source: {{type: s3, bucket: {BURST_BUCKET}, prefix: batched/}}
    batch: {{max_files: 100, window_seconds: 60}}
    job: {{name: lm-batched, arguments: {{--manifest: "${{manifest}}"}}}}
  - name: windowed
    source: {{type: s3, bucket: {BURST_BUCKET}, prefix: windowed/}}
    batch: {{max_files: 100, window_seconds: 3, manifest_location: "s3://lm-own-manifests/runs/"}}
    job: {{name: lm-windowed, arguments: {{--manifest: "${{manifest}}", --files: "${{file_count}}"}}}}
"""
# 20 and 200 in `make test`; `make chaos` runs GLUETRIGGER_BURST_FILES=100 and GLUETRIGGER_BATCH_FILES=2000,
# the figures.
BURST_FILES = int(os.environ.get("GLUETRIGGER_BURST_FILES", "20"))
BATCH_FILES = int(os.environ.get("GLUETRIGGER_BATCH_FILES", "200"))
RUN_SECONDS = 1


@pytest.fixture(scope="module")
def bursts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalProcess]:
    """`gluetrigger local` whose runs last a second, on jobs allowing one run at once unless told otherwise."""
    path = tmp_path_factory.mktemp("bursts") / "triggers.yaml"
    path.write_text(BURST_CONFIG)
    with serving(path, "--run-seconds", str(RUN_SECONDS), "--max-concurrent-runs", "1") as running:
        yield running


def land(local: LocalProcess, prefix: str, count: int) -> list[str]:
    """``count`` files under ``prefix``, uploaded at once by a few threads; their s3:// URIs."""
    from concurrent.futures import ThreadPoolExecutor

    s3 = local.endpoint.client("s3")  # a client of its own: the module's are used by the waiting thread
    keys = [f"{prefix}{n:05}.csv" for n in range(count)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=BURST_BUCKET, Key=key, Body=key.encode()), keys))
    return [f"s3://{BURST_BUCKET}/{key}" for key in keys]


def settled(local: LocalProcess, trigger: str, done: Callable[[], bool], timeout: float) -> float:
    """Wait until ``done()`` and ``trigger``'s queue is empty (delayed messages included); the seconds it took."""
    sqs = local.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name(trigger))["QueueUrl"]
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    began = time.monotonic()
    while not done() or any(
        int(v) for v in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"].values()
    ):
        assert time.monotonic() - began < timeout, f"{trigger} did not settle within {timeout:.0f} s"
        time.sleep(0.5)
    return time.monotonic() - began


def dead_letters(local: LocalProcess) -> int:
    sqs = local.client("sqs")
    url = sqs.get_queue_url(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"]
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    return sum(int(v) for v in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"].values())


def all_runs(local: LocalProcess, job: str) -> list[dict[str, Any]]:
    pages = local.client("glue").get_paginator("get_job_runs").paginate(JobName=job)
    return [run for page in pages for run in page["JobRuns"]]


def manifest_files(local: LocalProcess, runs: list[dict[str, Any]]) -> list[list[str]]:
    """Per run, the files its manifest lists (as s3:// URIs)."""
    s3 = local.client("s3")
    listed = []
    for run in runs:
        bucket, key = run["Arguments"]["--manifest"].removeprefix("s3://").split("/", 1)
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        listed.append([f"s3://{f['bucket']}/{f['key']}" for f in manifest["files"]])
    return listed


def test_placeholder_jobs_take_their_limit_from_the_trigger_else_the_option(bursts: LocalProcess) -> None:
    glue = bursts.client("glue")
    assert glue.get_job(JobName="lm-slow")["Job"]["ExecutionProperty"]["MaxConcurrentRuns"] == 1
    assert glue.get_job(JobName="lm-capped")["Job"]["ExecutionProperty"]["MaxConcurrentRuns"] == 3
    banner = bursts.wait_for_line(lambda line: line.startswith("bursts: "))
    assert banner == (
        f"bursts: job runs last at least {RUN_SECONDS} s; placeholder jobs allow 1 run(s) at once "
        "unless their triggers set max_concurrent_runs"
    )


def test_a_burst_for_a_job_allowing_one_run_gives_every_file_its_run_and_nothing_to_the_dlq(
    bursts: LocalProcess,
) -> None:
    files = land(bursts, "slow/", BURST_FILES)

    def every_file_ran() -> bool:
        return len(all_runs(bursts, "lm-slow")) >= BURST_FILES

    seconds = settled(bursts, "slow", every_file_ran, timeout=60 + 8 * BURST_FILES)

    paths = [run["Arguments"]["--path"] for run in all_runs(bursts, "lm-slow")]
    assert sorted(paths) == sorted(files)  # every file exactly once
    assert dead_letters(bursts) == 0
    lines = [line for line in bursts.lines if "  slow  " in line]
    held = [line for line in lines if " held back  " in line]
    assert held  # the limit was met: messages waited instead of failing
    assert not [line for line in lines if " error: " in line or "rejected" in line]
    refused = sum("ConcurrentRunsExceededException" in line for line in held)
    print(
        f"\n{BURST_FILES} files, one run at once, runs of {RUN_SECONDS} s: {len(paths)} runs, "
        f"{len(held)} hold-backs, {(len(paths) + refused) / BURST_FILES:.2f} StartJobRun calls per file, "
        f"drained in {seconds:.0f} s"
    )


def test_a_batch_burst_gives_few_runs_whose_manifests_list_every_file_exactly_once(bursts: LocalProcess) -> None:
    began = time.monotonic()
    files = land(bursts, "batched/", BATCH_FILES)
    uploaded = time.monotonic() - began

    def every_file_listed() -> bool:
        return sum(map(len, manifest_files(bursts, all_runs(bursts, "lm-batched")))) >= BATCH_FILES

    seconds = settled(bursts, "batched", every_file_listed, timeout=120 + BATCH_FILES / 2)

    runs = all_runs(bursts, "lm-batched")
    listed = manifest_files(bursts, runs)
    assert sorted(file for files_of_run in listed for file in files_of_run) == sorted(files)
    full = -(-BATCH_FILES // 100)
    assert full <= len(runs) <= 2 * full
    assert dead_letters(bursts) == 0
    sizes = sorted((len(files_of_run) for files_of_run in listed), reverse=True)
    held = sum(" held back  " in line for line in bursts.lines if "  batched  " in line)
    print(
        f"\n{BATCH_FILES} files in batches of up to 100: {len(runs)} runs of {sizes} files, {held} hold-backs; "
        f"uploaded in {uploaded:.0f} s, drained {seconds:.0f} s later"
    )


def test_a_partial_batch_starts_when_its_window_ends(bursts: LocalProcess) -> None:
    began = time.time()
    files = land(bursts, "windowed/", 7)

    def one_run() -> bool:
        return len(all_runs(bursts, "lm-windowed")) >= 1

    settled(bursts, "windowed", one_run, timeout=30)

    (run,) = all_runs(bursts, "lm-windowed")
    assert run["Arguments"]["--files"] == "7"
    assert run["Arguments"]["--manifest"].startswith("s3://lm-own-manifests/runs/windowed/")
    assert sorted(manifest_files(bursts, [run])[0]) == files
    # Not before the window (3 s after the first file joined): the flush waited on SQS's DelaySeconds.
    assert run["StartedOn"].timestamp() >= began + 2
    line = bursts.wait_for_line(lambda line: " started " in line and "of windowed (7 files)" in line)
    assert run["Id"] in line


def test_provisioning_again_remakes_placeholders_whose_limit_changed_and_makes_manifest_buckets(aws: Emulator) -> None:
    config = parse_config(
        {
            "triggers": [
                {"name": "files", "source": {"type": "s3", "bucket": "lm-p"}, "job": {"name": "lm-placeholder"}},
                {
                    "name": "real",
                    "source": {"type": "s3", "bucket": "lm-p", "prefix": "r/"},
                    "job": {"name": "lm-real"},
                },
                {
                    "name": "batched",
                    "source": {"type": "s3", "bucket": "lm-p", "prefix": "b/"},
                    "batch": {"max_files": 5, "manifest_location": "s3://lm-their-manifests/x/"},
                    "job": {"name": "lm-batched-p"},
                },
            ]
        }
    )
    endpoint = Endpoint(aws.url)
    glue = endpoint.client("glue")
    role = "arn:aws:iam::123456789012:role/r"
    glue.create_job(Name="lm-real", Role=role, Command={"Name": "glueetl"}, ExecutionProperty={"MaxConcurrentRuns": 7})

    def limits() -> dict[str, int | None]:
        jobs = [glue.get_job(JobName=name)["Job"] for name in ("lm-placeholder", "lm-real", "lm-batched-p")]
        return {job["Name"]: (job.get("ExecutionProperty") or {}).get("MaxConcurrentRuns") for job in jobs}

    first = provision(config, endpoint, None)
    before = limits()
    routing = provision(config, endpoint, 4)

    assert limits() == {"lm-placeholder": 4, "lm-real": 7, "lm-batched-p": 4}  # not a placeholder: left alone
    assert before["lm-real"] == 7
    assert first.manifest_bucket is routing.manifest_bucket is None  # the one batch trigger names its location
    assert "lm-their-manifests" in {b["Name"] for b in endpoint.client("s3").list_buckets()["Buckets"]}
