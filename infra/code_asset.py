"""The functions' code asset: the handler package and each function's compiled config, staged once per stack.

The compiled config travels as a file of the code asset, never in the function's environment:
Lambda caps a function's environment at 4 KB, and a config that ``gluetrigger validate``
accepts (Glue allows 260 KB of arguments) must not then fail ``cdk synth`` or the deploy.
With the config in the asset, what validate accepts synthesizes, and the environment holds
only names and switches of bounded length.

:func:`function_code` stages one directory per stack in the app's output directory (``cdk.out``,
rewritten on every synth, never in the repository): ``lambdas/`` without the tooling, plus
``gluetrigger-config/<function>.json`` for each function. The CDK copies that directory into the
cloud assembly as an asset named by a hash of its content, so an unchanged config keeps an
unchanged asset. Every function of the stack shares the one asset; each finds its own file
through :data:`gluetrigger.runtime.environment.CONFIG_FILE_ENV`, a path relative to the code
root (:func:`config_file`).

Bytecode: Lambda's ``/var/task`` is read-only, so a module shipped as source alone is compiled
on every cold start (about 14 ms for this package) and the result thrown away. :func:`stage`
therefore compiles the staged package with the target runtime's interpreter when this machine
has one (``python3.13`` on ``PATH`` for runtime python3.13, or the interpreter running the synth
when its version is the runtime's), in ``UNCHECKED_HASH`` mode: the bytes depend only on the
source, never on a timestamp, so an unchanged config still keeps an unchanged asset hash, and
the runtime loads them without checking the source. Bytecode of another Python version would be
ignored by the runtime (its file name carries the version), so without a matching interpreter
the asset ships source only, as before.

A function is named by the caller and may serve several triggers (its file then holds all of
them); today the stack gives each trigger its own function, named after it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from aws_cdk import Stack, Stage
from aws_cdk import aws_lambda as lambda_

from gluetrigger.core.config import compile_config
from gluetrigger.core.model import Config

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "CONFIG_DIR",
    "LAMBDAS_DIR",
    "TASK_ROOT",
    "compiled_config",
    "config_file",
    "function_code",
    "runtime_interpreter",
    "stage",
]

LAMBDAS_DIR = Path(__file__).resolve().parent.parent / "lambdas"
# Build leftovers, never code, wherever they are.
LEFTOVERS = ("__pycache__", "*.pyc", "*.egg-info")
# The tooling (CLI, YAML loading, local mode with moto) never runs in Lambda, so it stays out of the function's code.
LEFT_OUT = frozenset({Path("gluetrigger/tooling")})
# Not a Python identifier, so the directory can never be imported as a (namespace) package.
CONFIG_DIR = "gluetrigger-config"
# A function's name becomes a file name: trigger names (a-z, 0-9, '-') always qualify.
FUNCTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
# Where Lambda unpacks the asset: the directory named in the bytecode's file names.
TASK_ROOT = "/var/task"
RUNTIME_NAME = re.compile(r"^python(\d+)\.(\d+)$")
# Compiling the package takes about a second; an interpreter that does not answer in this long is not used.
COMPILE_TIMEOUT_SECONDS = 120


def config_file(function: str) -> str:
    """Where ``function``'s compiled config is, relative to the code root (what the handler is given)."""
    if not FUNCTION_NAME.match(function):
        raise ValueError(f"{function!r} cannot name a config file: 1..128 letters, digits, '-' and '_', not first")
    return str(PurePosixPath(CONFIG_DIR, f"{function}.json"))


def compiled_config(config: Config, triggers: Sequence[str]) -> dict[str, Any]:
    """The document a function serving ``triggers`` reads: what ``gluetrigger compile`` prints for them.

    A function serving one trigger gets the document compiled for it (which also tells the
    handler that every scheduled event it receives is that trigger's); one serving several gets
    those triggers alone, each scheduled event then owned by the trigger its schedule names.
    """
    if len(triggers) == 1:
        return compile_config(config, only=triggers[0])
    served = [config.trigger(name) for name in triggers]  # KeyError for an unknown name
    names = {trigger.name for trigger in served}
    documents = tuple(document for document in config.documents if document["name"] in names)
    return compile_config(Config(triggers=tuple(served), documents=documents))


def stage(directory: Path, config: Config, functions: Mapping[str, Sequence[str]], runtime: str | None = None) -> None:
    """Fill ``directory`` (replaced if present) with the code and each function's compiled config.

    ``functions`` maps a function's name to the triggers it serves. With ``runtime`` (a Lambda
    runtime name such as ``python3.13``), the package is also compiled to that runtime's
    bytecode when :func:`runtime_interpreter` finds its interpreter (see the module docstring).
    """
    files = {config_file(function): compiled_config(config, triggers) for function, triggers in functions.items()}
    if directory.exists():
        shutil.rmtree(directory)
    shutil.copytree(LAMBDAS_DIR, directory, ignore=_left_out)  # creates the parents too
    interpreter = runtime_interpreter(runtime) if runtime is not None else None
    if interpreter is not None:
        _compile(directory, interpreter)
    (directory / CONFIG_DIR).mkdir()
    for path, document in files.items():
        (directory / path).write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")


def runtime_interpreter(runtime: str) -> str | None:
    """An interpreter of ``runtime``'s Python version on this machine, or None when there is none.

    This interpreter when its version matches, else ``pythonX.Y`` on ``PATH`` if it runs and
    reports that version (a pyenv shim for a version not selected exits non-zero, say).
    """
    match = RUNTIME_NAME.match(runtime)
    if match is None:
        raise ValueError(f"{runtime!r} is not a Python runtime name such as python3.13")
    version = (int(match[1]), int(match[2]))
    if sys.version_info[:2] == version:
        return sys.executable
    candidate = shutil.which(runtime)
    if candidate is None:
        return None
    probe = subprocess.run(
        [candidate, "-c", "import sys; print(*sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
        timeout=COMPILE_TIMEOUT_SECONDS,
    )
    reported = probe.stdout.split()
    return candidate if probe.returncode == 0 and reported == [str(part) for part in version] else None


def _compile(directory: Path, interpreter: str) -> None:
    """Compile every module under ``directory`` with ``interpreter``: unchecked-hash .pyc, named as in Lambda."""
    subprocess.run(
        [
            interpreter,
            "-m",
            "compileall",
            "-q",
            "--invalidation-mode",
            "unchecked-hash",
            # The file names compiled in are Lambda's, not this machine's staging directory, so the
            # bytes do not depend on where the asset was staged (the loader names the real file anyway).
            "-s",
            str(directory),
            "-p",
            TASK_ROOT,
            str(directory),
        ],
        check=True,
        capture_output=True,
        timeout=COMPILE_TIMEOUT_SECONDS,
    )


def function_code(
    stack: Stack, config: Config, functions: Mapping[str, Sequence[str]], runtime: str | None = None
) -> lambda_.Code:
    """``stack``'s code asset, staged in the app's output directory; create once per stack and share it.

    ``runtime``: the functions' Lambda runtime, whose bytecode the asset carries when it can (see :func:`stage`).
    """
    owner = Stage.of(stack)
    if owner is None:
        raise ValueError(f"stack {stack.stack_name} is not in an App: it has no output directory to stage into")
    # No dot in the last part: the CDK would keep it as an extension on the asset's name.
    directory = Path(owner.outdir) / "gluetrigger-code" / stack.artifact_id
    stage(directory, config, functions, runtime)
    return lambda_.Code.from_asset(str(directory))


def _left_out(directory: str, names: list[str]) -> set[str]:
    """What :func:`shutil.copytree` leaves out of ``directory``: leftovers and the tooling."""
    relative = Path(directory).relative_to(LAMBDAS_DIR)
    return set(shutil.ignore_patterns(*LEFTOVERS)(directory, names)) | {
        name for name in names if relative / name in LEFT_OUT
    }
