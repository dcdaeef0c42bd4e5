"""Read triggers.yaml from disk (the CLI, the CDK app and local mode; never the Lambda).

YAML is parsed with the safe loader and its syntax errors become one-line problems with the
line number, like every other config problem. Two departures from PyYAML's defaults keep the
document what it looks like: a key given twice in one mapping is an error (PyYAML would keep the
last value silently, the way a typo would drop a setting), and dates stay text (an unquoted
``Version: 2012-10-17`` in a session policy, or a date in an event pattern, is the string the
user wrote; the compiled config is JSON, which has no dates).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from gluetrigger.core.config import CONFIG_LABEL, parse_config
from gluetrigger.core.errors import ConfigError, Problem
from gluetrigger.core.model import Config

__all__ = ["load_config", "read_document"]

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing duplicate keys and reading dates as the text written."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # Only the keys written in this mapping count: a merge key (<<: *anchor) brings values that
        # the mapping's own keys may override, as YAML intends.
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) or key is None:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key!r}",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_document(path: str | Path) -> object:
    """The YAML document at ``path``; ConfigError when it is missing or not YAML."""
    location = Path(path)
    try:
        text = location.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(CONFIG_LABEL, str(location), f"cannot read: {exc.strerror}")]) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else str(location)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([Problem(CONFIG_LABEL, where, f"invalid YAML: {problem}")]) from None


def load_config(path: str | Path) -> Config:
    """Read and validate triggers.yaml; ConfigError lists every problem."""
    return parse_config(read_document(path))
