"""Read triggers.yaml from disk (the CLI, the CDK app and local mode; never the Lambda).

YAML is parsed with the safe loader and its syntax errors become one-line problems with the
line number, like every other config problem. Two departures from PyYAML's defaults keep the
document what it looks like: a key given twice in one mapping is an error (PyYAML would keep the
last value silently, the way a typo would drop a setting), and dates stay text (an unquoted
``Version: 2012-10-17`` in a session policy, or a date in an event pattern, is the string the
user wrote; the compiled config is JSON, which has no dates).

A config is text someone wrote, but a hostile or broken one must still end in one line, never a
traceback or a hang: a file that is not UTF-8, an alias bomb (aliases of aliases, "billion laughs",
that expand a few lines into billions of values; PyYAML shares the objects, but everything that
walks the document afterwards would visit each one), an alias inside its own anchor (a cycle),
nesting deeper than :data:`MAX_NESTING` levels (PyYAML composes recursively), an integer too long for
Python to read, a value JSON cannot hold (``.inf``, ``.nan``, or a ``!!timestamp``, ``!!binary``,
``!!set``, ``!!omap`` or ``!!pairs`` tag: the compiled config is JSON), and an escape that spells a
lone surrogate, which is not Unicode text.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from gluetrigger.core.config import CONFIG_LABEL, parse_config
from gluetrigger.core.errors import ConfigError, GlueTriggerError, Problem
from gluetrigger.core.model import Config

__all__ = ["MAX_EXPANDED_VALUES", "MAX_NESTING", "load_config", "not_utf8", "read_document"]

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
# YAML types with no JSON counterpart, which only an explicit tag (``!!binary``) can ask for.
_NOT_JSON_TAGS = tuple(f"tag:yaml.org,2002:{name}" for name in ("timestamp", "binary", "set", "omap", "pairs"))
# A triggers.yaml nests a dozen levels at most (an event pattern, a session policy); PyYAML's
# composer spends three frames a level and would hit Python's recursion limit near 330.
MAX_NESTING = 64
# Values a document may hold once every alias is expanded: a config of hundreds of triggers holds
# a few tens of thousands; an alias bomb passes this after a handful of its lines.
MAX_EXPANDED_VALUES = 100_000


class _Refused(GlueTriggerError):  # noqa: N818 - a signal inside this module, never raised out of it
    """A document refused before it is built (see the module's docstring); the message is one line."""


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing duplicate keys and reading dates as the text written.

    It also measures each node as it is composed (depth, and values once aliases are expanded) and
    refuses the hostile documents the module's docstring lists before anything walks them.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._expanded: dict[int, int] = {}  # id(node) -> values it holds, aliases expanded

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        alias = self.check_event(yaml.AliasEvent)
        event: yaml.NodeEvent = self.current_event  # the event check_event has just read
        line = event.start_mark.line + 1 if event.start_mark else 0
        if alias:
            anchored = self.anchors.get(event.anchor)
            if anchored is not None and id(anchored) not in self._expanded:
                raise _Refused(f"line {line}: an alias refers to the node that contains it")
            return super().compose_node(parent, index)
        if self._depth == MAX_NESTING:
            raise _Refused(f"line {line}: nested deeper than {MAX_NESTING} levels")
        self._depth += 1
        node = super().compose_node(parent, index)
        self._depth -= 1
        if node is not None:
            self._expanded[id(node)] = size = self._size(node, line)
            if size > MAX_EXPANDED_VALUES:
                raise _Refused(
                    f"line {line}: aliases expand to more than {MAX_EXPANDED_VALUES} values (an alias bomb?)"
                )
        return node

    def _size(self, node: Node, line: int) -> int:
        if isinstance(node, ScalarNode):
            try:
                str(node.value).encode()
            except UnicodeEncodeError:
                raise _Refused(f"line {line}: an escape spells a lone surrogate, which is not Unicode text") from None
            return 1
        children = [child for pair in node.value for child in pair] if isinstance(node, MappingNode) else node.value
        return 1 + sum(self._expanded[id(child)] for child in children)

    def construct_yaml_int(self, node: ScalarNode) -> int:
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            # An explicit !!int tag on text that is no integer, or more digits than Python reads
            # (sys.get_int_max_str_digits(), 4300).
            line = node.start_mark.line + 1
            raise _Refused(f"line {line}: not an integer Python can read (at most 4300 digits)") from None

    def construct_yaml_float(self, node: ScalarNode) -> float:
        value = super().construct_yaml_float(node)
        if not math.isfinite(value):
            # .inf, .nan or 1.0e+999: the compiled config is JSON, which has no such numbers.
            raise _Refused(f"line {node.start_mark.line + 1}: {node.value} is not a finite number")
        return value

    def construct_not_json(self, node: Node) -> None:
        name = node.tag.rsplit(":", 1)[-1]
        raise _Refused(f"line {node.start_mark.line + 1}: !!{name} is not a JSON type (the compiled config is JSON)")

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


_Loader.add_constructor(_INT_TAG, _Loader.construct_yaml_int)
_Loader.add_constructor(_FLOAT_TAG, _Loader.construct_yaml_float)
for _tag in _NOT_JSON_TAGS:
    _Loader.add_constructor(_tag, _Loader.construct_not_json)
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
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(CONFIG_LABEL, str(location), not_utf8(exc))]) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except _Refused as exc:
        raise ConfigError([Problem(CONFIG_LABEL, str(location), f"refused YAML: {exc}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else str(location)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([Problem(CONFIG_LABEL, where, f"invalid YAML: {problem}")]) from None


def not_utf8(error: UnicodeDecodeError) -> str:
    """Why a file read as UTF-8 is not: the first byte that does not decode, and where."""
    return f"not UTF-8 text (byte {error.object[error.start]:#04x} at offset {error.start})"


def load_config(path: str | Path) -> Config:
    """Read and validate triggers.yaml; ConfigError lists every problem."""
    return parse_config(read_document(path))
