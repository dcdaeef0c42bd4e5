"""Read triggers.yaml from disk (the CLI, the CDK app and local mode; never the Lambda).

YAML is parsed with the safe loader and its syntax errors become one-line problems with the
line number, like every other config problem.
"""

from __future__ import annotations

from pathlib import Path

from gluetrigger.config import CONFIG_LABEL, parse_config
from gluetrigger.errors import ConfigError, Problem
from gluetrigger.model import Config

__all__ = ["load_config", "read_document"]


def read_document(path: str | Path) -> object:
    """The YAML document at ``path``; ConfigError when it is missing or not YAML."""
    import yaml

    location = Path(path)
    try:
        text = location.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(CONFIG_LABEL, str(location), f"cannot read: {exc.strerror}")]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else str(location)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([Problem(CONFIG_LABEL, where, f"invalid YAML: {problem}")]) from None


def load_config(path: str | Path) -> Config:
    """Read and validate triggers.yaml; ConfigError lists every problem."""
    return parse_config(read_document(path))
