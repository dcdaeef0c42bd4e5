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

YAML 1.1 also rewrites some unquoted text: ``0123`` is the number 83, ``NO`` is false, ``0.10`` is
0.1, ``~`` is null. Where triggers.yaml expects text (argument values, names, prefixes, patterns,
keys...), such a plain scalar would be sent as something the user never wrote, so it is refused
with one line saying to quote it (:func:`rewritten_text`); a plain scalar whose text is unchanged
(``3``, ``true``, ``2.5``) is still accepted and sent as written. Numeric and boolean fields keep
their types. These problems are reported together with every other problem of the config.
A mapping key is always the text written: triggers.yaml's keys are field and argument names, so a
plain ``on:`` (a retry block's states) is the key ``on``, not YAML 1.1's true.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from gluetrigger.core.config import CONFIG_LABEL, SOURCE_FIELDS, parse_config
from gluetrigger.core.errors import ConfigError, GlueTriggerError, Problem
from gluetrigger.core.model import Config

__all__ = ["MAX_EXPANDED_VALUES", "MAX_NESTING", "load_config", "not_utf8", "read_document", "rewritten_text"]

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_STR_TAG = "tag:yaml.org,2002:str"
# The implicit types a plain scalar may resolve to instead of text.
_NOT_TEXT_TAGS = frozenset({_BOOL_TAG, _INT_TAG, _FLOAT_TAG, _NULL_TAG})
# Fields that hold text, besides argument values: a trigger's, its source's (any type) and its job's.
_TRIGGER_TEXT = frozenset({"name", "description", "idempotency_key"})
_SOURCE_TEXT = frozenset(f for fields in SOURCE_FIELDS.values() for f in fields) - {"create", "pattern"}
_JOB_TEXT = frozenset({"name", "job_run_id", "security_configuration", "worker_type", "execution_class", "job_type"})
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
        # id(node) -> the value YAML made of a plain scalar that is not text (see rewritten_text)
        self.read_as: dict[int, object] = {}

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

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        value = super().construct_object(node, deep=deep)
        if isinstance(node, ScalarNode) and node.style is None and node.tag in _NOT_TEXT_TAGS:
            self.read_as[id(node)] = value
        return value

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
            if isinstance(key_node, ScalarNode) and key_node.style is None and key_node.tag == _BOOL_TAG:
                key_node.tag = _STR_TAG  # on, off, yes, no as keys: the names written
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
    return _read(path)[0]


def load_config(path: str | Path) -> Config:
    """Read and validate triggers.yaml; ConfigError lists every problem, rewritten text included."""
    data, rewritten = _read(path)
    try:
        config = parse_config(data)
    except ConfigError as exc:
        # The core's own line for a field already named here (a null argument, say) would repeat it.
        named = {(p.trigger, p.field) for p in rewritten}
        raise ConfigError(rewritten + [p for p in exc.problems if (p.trigger, p.field) not in named]) from None
    if rewritten:
        raise ConfigError(rewritten)
    return config


def not_utf8(error: UnicodeDecodeError) -> str:
    """Why a file read as UTF-8 is not: the first byte that does not decode, and where."""
    return f"not UTF-8 text (byte {error.object[error.start]:#04x} at offset {error.start})"


def rewritten_text(written: str, value: object) -> str | None:
    """Why a plain scalar ``written`` that YAML read as ``value`` must be quoted; None when it is sent as written.

    An argument value that is a number or boolean is sent as its text (``true``, ``3``): when that
    text is what was written, nothing is lost; otherwise (``0123``, ``NO``, ``0.10``, ``~``) it is.
    """
    if value is None:
        if not written:
            return None  # an empty value: the field is absent, as the core reads it
        return f"YAML reads {written} as null (no value); write '{written}' in quotes to send it as written"
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    if text == written:
        return None
    kind = "the boolean" if isinstance(value, bool) else "the number"
    return f"YAML reads {written} as {kind} {text}; write '{written}' in quotes to send it as written"


def _read(path: str | Path) -> tuple[object, list[Problem]]:
    """The document at ``path`` and a problem for each text position where YAML rewrote the text written."""
    location = Path(path)
    try:
        text = location.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([Problem(CONFIG_LABEL, str(location), f"cannot read: {exc.strerror}")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(CONFIG_LABEL, str(location), not_utf8(exc))]) from None
    try:
        root, data, read_as = _compose(text)
    except _Refused as exc:
        raise ConfigError([Problem(CONFIG_LABEL, str(location), f"refused YAML: {exc}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else str(location)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([Problem(CONFIG_LABEL, where, f"invalid YAML: {problem}")]) from None
    # A merge key's values come first in the mapping and its own keys override them, so at each
    # position the last scalar is the one the document holds.
    found: dict[tuple[str, str], Problem | None] = {}
    for position, node in _plain_scalars(root, ()):
        named = _text_position(position, data)
        message = rewritten_text(node.value, read_as[id(node)]) if id(node) in read_as else None
        if named is not None:
            found[named] = None if message is None else Problem(named[0], named[1], message)
    return data, [problem for problem in found.values() if problem is not None]


def _compose(text: str) -> tuple[Node | None, object, dict[int, object]]:
    """The node tree, the document built from it, and what each plain non-text scalar was read as."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        return root, (None if root is None else loader.construct_document(root)), loader.read_as
    finally:
        loader.dispose()


def _plain_scalars(node: Node | None, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Node]]:
    """Every scalar under ``node`` with its path (mapping keys as written, list indexes), merges included."""
    if isinstance(node, ScalarNode):
        yield path, node
    elif isinstance(node, MappingNode):
        for key, value in node.value:  # merge keys are flattened into the mapping by now
            if isinstance(key, ScalarNode):
                yield from _plain_scalars(value, (*path, key.value))
    elif node is not None:
        for index, item in enumerate(node.value):
            yield from _plain_scalars(item, (*path, index))


def _text_position(path: tuple[str | int, ...], data: object) -> tuple[str, str] | None:
    """(trigger, field) when ``path`` is a place triggers.yaml expects text, else None."""
    match path:
        case ("defaults", "arguments", str(name)):
            return "defaults", f"arguments.{name}"
        case ("defaults", str(field)) if field in _JOB_TEXT:
            return "defaults", field
        case ("triggers", int(index), *rest) if _is_text_field(rest):
            return _trigger_label(data, index), ".".join(str(part) for part in rest)
    return None


def _is_text_field(rest: list[str | int]) -> bool:
    match rest:
        case [str(field)]:
            return field in _TRIGGER_TEXT
        case ["source", str(field)]:
            return field in _SOURCE_TEXT
        case ["job", str(field)]:
            return field in _JOB_TEXT
        case ["job", "arguments", str()]:
            return True
    return False


def _trigger_label(data: object, index: int) -> str:
    """How the core names trigger ``index`` in its problems: its name, or its place in the list."""
    triggers = data.get("triggers") if isinstance(data, dict) else None
    raw = triggers[index] if isinstance(triggers, list) and index < len(triggers) else None
    name = raw.get("name") if isinstance(raw, dict) else None
    return name if isinstance(name, str) and name else f"triggers[{index}]"
