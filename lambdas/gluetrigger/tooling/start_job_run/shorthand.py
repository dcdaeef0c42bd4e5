"""The AWS CLI's shorthand syntax (``KeyName1=string,KeyName2=string``) and its ``file://`` values.

``--arguments`` and ``--notification-property`` take either JSON or shorthand, as
``aws glue start-job-run`` does; an operator's muscle memory must give the same request. This is
the grammar of awscli's ``shorthand.py`` (AWS CLI v1 and v2 share it): ``key=value`` pairs split
by commas; a value is plain text (``\\,`` escapes a comma), ``'single'`` or ``"double"``
quoted, an explicit ``[list]`` or a ``{hash}``; ``key=a,b`` (a second value without ``=``) makes
a list, which is how the AWS CLI reads it too (and the request then refuses it for a map of
strings); ``key@=file://path`` reads that value from a file. A key repeated is an error.

:func:`load_value` is the CLI's paramfile rule for every option value: ``file://path`` stands
for the file's text (``~`` and ``$VARS`` expanded).
"""

from __future__ import annotations

import os
import re
import string
from typing import Any

from gluetrigger.tooling.start_job_run.exits import UsageError

__all__ = ["FILE_PREFIX", "ShorthandError", "load_value", "parse_shorthand"]

FILE_PREFIX = "file://"

_KEY_CHARS = frozenset(string.ascii_letters + string.digits + "-_.#/:")
_SINGLE_QUOTED = re.compile(r"'(?:\\'|[^'])*'")
_DOUBLE_QUOTED = re.compile(r'"(?:\\"|[^"])*"')
# The character classes of awscli's parser: what may start a value, and what may follow in the
# first value of a pair (no '=') or in a later value of a list.
_START = r"\!\#-&\(-\+\--\<\>-Z\\\\-z\u007c-\uffff"
_FIRST_FOLLOW = r"\s\!\#-&\(-\+\--\\\\\^-\|~-\uffff"
_SECOND_FOLLOW = r"\s\!\#-&\(-\+\--\<\>-\uffff"
_ESCAPED_COMMA = r"(\\,)"
_FIRST_VALUE = re.compile(f"({_ESCAPED_COMMA}|[{_START}])({_ESCAPED_COMMA}|[{_FIRST_FOLLOW}])*")
_SECOND_VALUE = re.compile(f"({_ESCAPED_COMMA}|[{_START}])({_ESCAPED_COMMA}|[{_SECOND_FOLLOW}])*")


class ShorthandError(UsageError):
    """The text is not valid shorthand; the message points at the character at fault."""

    def __init__(self, text: str, index: int, problem: str) -> None:
        super().__init__(f"{problem} for input:\n{_pointed(text, index)}")


def load_value(value: str) -> str:
    """``value``, or the text of the file it names with ``file://`` (UsageError when it cannot be read)."""
    if not value.startswith(FILE_PREFIX):
        return value
    path = os.path.expandvars(os.path.expanduser(value[len(FILE_PREFIX) :]))
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except UnicodeDecodeError:
        raise UsageError(f"Unable to load paramfile ({path}), text contents could not be decoded") from None
    except OSError as exc:
        raise UsageError(f"Unable to load paramfile {value}: {exc}") from None


def parse_shorthand(text: str) -> dict[str, Any]:
    """The mapping ``text`` spells in shorthand; ShorthandError when it is not shorthand."""
    return _Parser(text).parameter()


def _pointed(text: str, index: int) -> str:
    """``text`` with a caret under ``index``, on the line it falls in (as the AWS CLI shows it)."""
    consumed, remaining, spaces = text, "", index
    if "\n" in text[:index]:
        spaces = index - text[:index].rindex("\n") - 1
    if "\n" in text[index:]:
        end = index + text[index:].index("\n")
        consumed, remaining = text[:end], text[end:]
    return f"{consumed}\n{' ' * spaces}^{remaining}"


class _Parser:
    """A recursive-descent reading of one shorthand value, awscli's grammar rule for rule."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._index = 0
        self._from_file = False

    def parameter(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        while True:
            start = self._index
            key, value = self._keyval()
            if key in params:
                raise ShorthandError(
                    self._text,
                    start,
                    f'Second instance of key "{key}" encountered; often a "," where a space was meant',
                )
            params[key] = value
            if self._at_end():
                return params
            self._expect(",")

    def _keyval(self) -> tuple[str, Any]:
        key = self._key()
        self._from_file = self._accept("@")
        self._expect("=")
        if self._at_end():
            return key, ""
        if self._current() in "[{":
            return key, self._explicit_value()
        return key, self._csv_value()

    def _key(self) -> str:
        start = self._index
        while not self._at_end() and self._current() in _KEY_CHARS:
            self._index += 1
        return self._text[start : self._index]

    def _csv_value(self) -> Any:
        """``a`` or ``a,b,c`` (a list), stopping before a ``,`` that starts the next ``key=`` pair."""
        first = self._first_value()
        self._skip_space()
        if self._at_end() or self._current() != ",":
            return first
        self._expect(",")
        values = [first]
        while True:
            try:
                value = self._later_value()
                self._skip_space()
                if self._at_end():
                    values.append(value)
                    break
                self._expect(",")
                values.append(value)
            except ShorthandError:
                if self._at_end():
                    raise
                self._backtrack_to_comma()
                break
        return values if len(values) > 1 else first

    def _backtrack_to_comma(self) -> None:
        while self._index >= 0 and self._text[self._index] != ",":
            self._index -= 1

    def _explicit_value(self) -> Any:
        if self._current() == "[":
            return self._explicit_list()
        if self._current() == "{":
            return self._hash_literal()
        return self._first_value()

    def _explicit_list(self) -> list[Any]:
        self._expect("[")
        values: list[Any] = []
        while self._current() != "]":
            values.append(self._explicit_value())
            self._skip_space()
            if self._current() != "]":
                self._expect(",")
        self._expect("]", skip_space=False)
        return values

    def _hash_literal(self) -> dict[str, Any]:
        self._expect("{")
        pairs: dict[str, Any] = {}
        while self._current() != "}":
            key = self._key()
            self._from_file = self._accept("@")
            self._expect("=")
            pairs[key] = self._explicit_value()
            self._skip_space()
            if self._current() != "}":
                self._expect(",")
        self._expect("}", skip_space=False)
        return pairs

    def _first_value(self) -> str:
        """A value after ``=``: may hold ``=``; nothing at all is the empty string."""
        value = self._unquoted_or_quoted(_FIRST_VALUE)
        return "" if value is None else value

    def _later_value(self) -> str:
        """A further list value after a comma: no ``=`` (a ``key=`` there starts the next pair)."""
        value = self._unquoted_or_quoted(_SECOND_VALUE)
        if value is None:
            raise ShorthandError(self._text, self._index, "Expected: '<second>', received: '<none>'")
        return value

    def _unquoted_or_quoted(self, pattern: re.Pattern[str]) -> str | None:
        quoted = self._quoted()
        if quoted is not None:
            return quoted
        match = pattern.match(self._text, self._index)
        if match is None:
            return None
        self._index = match.end()
        return self._resolved(match.group().replace("\\,", ",").rstrip())

    def _quoted(self) -> str | None:
        current = self._current()
        if current not in ("'", '"'):
            return None
        pattern = _SINGLE_QUOTED if current == "'" else _DOUBLE_QUOTED
        match = pattern.match(self._text, self._index)
        if match is None:
            raise ShorthandError(self._text, self._index, f"Expected: '<quoted>', received: '{current}'")
        self._index = match.end()
        value = match.group()[1:-1].replace(f"\\{current}", current).replace("\\\\", "\\")
        return self._resolved(value)

    def _resolved(self, value: str) -> str:
        return load_value(value) if self._from_file else value

    def _accept(self, char: str) -> bool:
        self._skip_space()
        if self._current() == char:
            self._index += 1
            return True
        return False

    def _expect(self, char: str, *, skip_space: bool = True) -> None:
        if skip_space:
            self._skip_space()
        actual = "EOF" if self._at_end() else self._text[self._index]
        if actual != char:
            raise ShorthandError(self._text, self._index, f"Expected: '{char}', received: '{actual}'")
        self._index += 1
        if skip_space:
            self._skip_space()

    def _current(self) -> str:
        return self._text[self._index] if self._index < len(self._text) else ""

    def _at_end(self) -> bool:
        return self._index >= len(self._text)

    def _skip_space(self) -> None:
        while not self._at_end() and self._current() in string.whitespace:
            self._index += 1
