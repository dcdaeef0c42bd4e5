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

A function is named by the caller and may serve several triggers (its file then holds all of
them); today the stack gives each trigger its own function, named after it.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from aws_cdk import Stack, Stage
from aws_cdk import aws_lambda as lambda_

from gluetrigger.core.config import compile_config
from gluetrigger.core.model import Config

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["CONFIG_DIR", "LAMBDAS_DIR", "compiled_config", "config_file", "function_code", "stage"]

LAMBDAS_DIR = Path(__file__).resolve().parent.parent / "lambdas"
# Build leftovers, never code, wherever they are.
LEFTOVERS = ("__pycache__", "*.pyc", "*.egg-info")
# The tooling (CLI, YAML loading, local mode with moto) never runs in Lambda, so it stays out of the function's code.
LEFT_OUT = frozenset({Path("gluetrigger/tooling")})
# Not a Python identifier, so the directory can never be imported as a (namespace) package.
CONFIG_DIR = "gluetrigger-config"
# A function's name becomes a file name: trigger names (a-z, 0-9, '-') always qualify.
FUNCTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


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


def stage(directory: Path, config: Config, functions: Mapping[str, Sequence[str]]) -> None:
    """Fill ``directory`` (replaced if present) with the code and each function's compiled config.

    ``functions`` maps a function's name to the triggers it serves.
    """
    files = {config_file(function): compiled_config(config, triggers) for function, triggers in functions.items()}
    if directory.exists():
        shutil.rmtree(directory)
    shutil.copytree(LAMBDAS_DIR, directory, ignore=_left_out)  # creates the parents too
    (directory / CONFIG_DIR).mkdir()
    for path, document in files.items():
        (directory / path).write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")


def function_code(stack: Stack, config: Config, functions: Mapping[str, Sequence[str]]) -> lambda_.Code:
    """``stack``'s code asset, staged in the app's output directory; create once per stack and share it."""
    owner = Stage.of(stack)
    if owner is None:
        raise ValueError(f"stack {stack.stack_name} is not in an App: it has no output directory to stage into")
    # No dot in the last part: the CDK would keep it as an extension on the asset's name.
    directory = Path(owner.outdir) / "gluetrigger-code" / stack.artifact_id
    stage(directory, config, functions)
    return lambda_.Code.from_asset(str(directory))


def _left_out(directory: str, names: list[str]) -> set[str]:
    """What :func:`shutil.copytree` leaves out of ``directory``: leftovers and the tooling."""
    relative = Path(directory).relative_to(LAMBDAS_DIR)
    return set(shutil.ignore_patterns(*LEFTOVERS)(directory, names)) | {
        name for name in names if relative / name in LEFT_OUT
    }
