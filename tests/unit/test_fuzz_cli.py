"""Fuzzing the CLI: render, validate and compile on hostile events and configs, and what fuzzing found.

The contract (README, tooling/cli.py): exit 0, 1 (an invalid config, a rejected event) or 2 (not
JSON, not an event shape, a usage error); every problem one line on stderr; never a traceback;
stdout valid JSON. main() runs in-process with stdout and stderr as a UTF-8 terminal's, but
strict, so a character the terminal cannot take fails the test instead of being replaced; a few
subprocesses check terminals that are not UTF-8.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gluetrigger.core.model import Config
from gluetrigger.tooling import config_file
from gluetrigger.tooling.cli import main

from . import fuzzing
from .fuzzing import Deep, Payload

ROOT = Path(__file__).parents[2]
LONE_SURROGATE = " (it holds a lone surrogate, \\ud800-\\udfff)"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for this module's files (module-scoped: Hypothesis reruns a test, not its fixtures)."""
    folder = tmp_path_factory.mktemp("fuzz-cli")
    (folder / "triggers.yaml").write_text(yaml.safe_dump(fuzzing.FUZZ_CONFIG))
    return folder


def run(*argv: str | Path, stdin: bytes = b"") -> tuple[int, str, str]:
    """main(argv) with strict UTF-8 stdout, stderr and stdin; (exit code, stdout, stderr)."""
    out, err = (io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict") for _ in range(2))
    source = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8", errors="strict")
    with redirect_stdout(out), redirect_stderr(err), mock.patch.object(sys, "stdin", source):
        code = main([str(arg) for arg in argv])
    out.flush()
    err.flush()
    return code, out.buffer.getvalue().decode(), err.buffer.getvalue().decode()  # type: ignore[attr-defined]


def strict_json(text: str) -> Any:
    """``text`` as JSON, refusing NaN and Infinity, which Python writes but JSON has not."""

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def problem_lines(stderr: str) -> list[str]:
    lines = stderr.splitlines()
    assert stderr == "".join(f"{line}\n" for line in lines), "stderr ends each problem with a line break"
    assert all(line and line.isprintable() for line in lines), lines
    return lines


def check_render(code: int, out: str, err: str, payload: Payload) -> None:
    lines = problem_lines(err)
    if code == 2:
        assert (out, len(lines)) == ("", 1)
        assert not fuzzing.qualifies(payload.decoded()), "a well-formed event was refused whole"
        return
    result = strict_json(out)
    assert code == (1 if "rejected" in result else 0)
    assert set(result) <= {"runs", "ignored", "rejected"}
    assert len(lines) == len(result.get("rejected", []))
    if not fuzzing.qualifies(payload.decoded()):
        assert result["runs"] == [], "a malformed event became a run"


def render(scratch: Path, event: str | Path, stdin: bytes = b"") -> tuple[int, str, str]:
    """``gluetrigger render`` of ``event`` with the fuzz config, read once.

    PyYAML, in pure Python, takes most of a render's time to read the config, and reading
    configs has its own fuzz test (test_fuzz_validate_and_compile): here only the event varies.
    """
    with mock.patch.object(config_file, "load_config", return_value=fuzz_config(scratch)):
        return run("render", "--config", scratch / "triggers.yaml", "--event", event, stdin=stdin)


@functools.cache
def fuzz_config(scratch: Path) -> Config:
    return config_file.load_config(scratch / "triggers.yaml")


@given(payload=fuzzing.payloads(), ascii_only=st.booleans())
def test_fuzz_render(scratch: Path, payload: Payload, ascii_only: bool) -> None:
    # As ASCII, lone surrogates are \u escapes in valid UTF-8; written raw, they are invalid UTF-8.
    text = fuzzing.to_text(payload.document, ensure_ascii=ascii_only)
    event = scratch / "event.json"
    event.write_bytes(text.encode("utf-8", "surrogatepass"))
    check_render(*render(scratch, event), payload)


@given(payload=fuzzing.payloads(envelopes=("direct", "sqs")))
def test_fuzz_render_from_stdin(scratch: Path, payload: Payload) -> None:
    check_render(*render(scratch, "-", stdin=payload.text().encode()), payload)


@given(config=fuzzing.configs())
def test_fuzz_validate_and_compile(scratch: Path, config: bytes) -> None:
    path = scratch / "fuzzed.yaml"
    path.write_bytes(config)
    code, out, err = run("validate", "--config", path)
    lines = problem_lines(err)
    assert code in (0, 1)
    if code == 0:
        assert re.fullmatch(r"1 trigger OK\n|([2-9]|[1-9][0-9]+) triggers OK\n", out)
        assert all(": warning: " in line for line in lines)
    else:
        assert (out, bool(lines)) == ("", True)
    compiled, out, err = run("compile", "--config", path)
    assert compiled == code
    if code == 0:
        assert strict_json(out)["triggers"]


# --- defects fuzzing found, pinned ------------------------------------------------------------


def render_text(scratch: Path, data: bytes) -> tuple[int, str, str]:
    event = scratch / "pinned.json"
    event.write_bytes(data)
    return run("render", "--config", scratch / "triggers.yaml", "--event", event)


def s3_event(key: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(json.dumps(fuzzing.INNER_EVENTS["s3"]))
    event["Records"][0]["s3"]["object"]["key"] = key
    return event


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (json.dumps(s3_event("a\ud800.csv")).encode(), "pinned.json: not valid Unicode" + LONE_SURROGATE),
        (json.dumps(s3_event("a\ud800.csv"), ensure_ascii=False).encode("utf-8", "surrogatepass"), "not UTF-8 text"),
        (b'{"Records": "\xff"}', "not UTF-8 text (byte 0xff at offset 13)"),
        (Deep(5000).text().encode(), "nested deeper than 64 levels"),
        (b'{"a": ' + b"9" * 5000 + b"}", "a number has too many digits"),
    ],
)
def test_render_refuses_unreadable_events_on_one_line(scratch: Path, data: bytes, message: str) -> None:
    code, out, err = render_text(scratch, data)
    assert (code, out) == (2, "")
    assert len(problem_lines(err)) == 1
    assert message in err


def test_render_prints_a_rejection_naming_event_text_on_one_line(scratch: Path) -> None:
    event = s3_event("forged\nline/x.csv")
    code, out, err = render_text(scratch, json.dumps(event).encode())
    assert code == 1  # s3-everything needs ${account}, which an S3 notification alone lacks
    assert strict_json(out)["runs"][0]["request"]["Arguments"]["--key"] == "forged\nline/x.csv"
    assert problem_lines(err) == [
        "s3-everything: variable ${account} is missing or empty in s3://landing-bucket/forged\\nline/x.csv"
    ]


def test_a_config_problem_with_a_line_break_in_a_name_is_one_line(scratch: Path) -> None:
    config = scratch / "broken-name.yaml"
    config.write_text('triggers: [{name: "two\\nlines", source: {type: s3, bucket: bkt}, job: {name: j}}]\n')
    code, _, err = run("validate", "--config", config)
    assert code == 1
    assert problem_lines(err) == ["two\\nlines: name: required: 1..64 characters of a-z, 0-9 and '-'"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (fuzzing.alias_bomb(9, 9), "refused YAML: line 6: aliases expand to more than 100000 values (an alias bomb?)"),
        ("x: &a [1, *a]\n", "refused YAML: line 1: an alias refers to the node that contains it"),
        ("triggers: " + Deep(5000).text(), "refused YAML: line 1: nested deeper than 64 levels"),
        ("x: " + "9" * 5000, "refused YAML: line 1: not an integer Python can read (at most 4300 digits)"),
        ("x: [1.0e+999]", "refused YAML: line 1: 1.0e+999 is not a finite number"),
        ("x: .nan", "refused YAML: line 1: .nan is not a finite number"),
        ('x: "\\udfff"', "refused YAML: line 1: an escape spells a lone surrogate, which is not Unicode text"),
        (
            "x: !!timestamp 2026-13-45",
            "refused YAML: line 1: !!timestamp is not a JSON type (the compiled config is JSON)",
        ),
        ("x: !!binary aGVsbG8=", "refused YAML: line 1: !!binary is not a JSON type (the compiled config is JSON)"),
    ],
)
def test_hostile_yaml_is_refused_on_one_line_naming_the_file(scratch: Path, text: str, message: str) -> None:
    config = scratch / "hostile.yaml"
    config.write_text(text, encoding="utf-8", errors="surrogatepass")
    for command in ("validate", "compile"):
        assert run(command, "--config", config) == (1, "", f"config: {config}: {message}\n")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("triggers: [{name: café}]".encode("latin-1"), "not UTF-8 text (byte 0xe9 at offset 21)"),
        ("triggers: []".encode("utf-16"), "not UTF-8 text (byte 0xff at offset 0)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8 text (byte 0x89 at offset 0)"),
    ],
)
def test_a_config_that_is_not_utf8_is_one_line_naming_the_file(scratch: Path, data: bytes, message: str) -> None:
    config = scratch / "binary.yaml"
    config.write_bytes(data)
    assert run("validate", "--config", config) == (1, "", f"config: {config}: {message}\n")


# --- terminals that are not UTF-8 ------------------------------------------------------------


def child(stdin: bytes, **env: str) -> subprocess.CompletedProcess[bytes]:
    """`python -m gluetrigger render` of ``stdin`` with this worktree's package and the locale ``env`` sets."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONIO", "PYTHONUTF8", "LC_", "LANG"))}
    path = os.pathsep.join([str(ROOT / "lambdas"), inherited.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "gluetrigger", "render", "--config", str(ROOT / "triggers.yaml"), "--event", "-"],
        input=stdin,
        capture_output=True,
        env={**inherited, "PYTHONPATH": path, **env},
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "utf-8"])
def test_render_writes_valid_json_on_any_terminal(encoding: str) -> None:
    key = "sales/2026-11-24/日本 ü 😀.csv"
    event = s3_event(key.replace(" ", "+"))
    done = child(json.dumps(event).encode(), PYTHONIOENCODING=encoding)
    assert (done.returncode, done.stderr) == (0, b"")
    assert (
        strict_json(done.stdout.decode(encoding))["runs"][0]["request"]["Arguments"]["--file"]
        == key.rsplit("/", maxsplit=1)[-1]
    )


def test_render_in_the_c_locale_refuses_bytes_that_are_not_utf8_on_one_line() -> None:
    # Without UTF-8 mode, Python reads a C-locale stdin as ASCII, each other byte a lone surrogate.
    event = json.dumps(s3_event("sales/2026-11-24/KEY.csv")).encode().replace(b"KEY", b"caf\xe9")
    done = child(event, LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    assert done.returncode == 2
    assert done.stdout == b""
    assert done.stderr.decode().splitlines() == ["gluetrigger: stdin: not valid Unicode" + LONE_SURROGATE]
