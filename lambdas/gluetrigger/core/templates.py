"""The template language of triggers.yaml: ``${name}``, ``${time:FORMAT}``, ``${event:EXPR}``, ``$$``.

Templates are parsed once, when the config is loaded, into literal text and placeholders;
rendering only concatenates. A substituted value is never parsed again, so event data that
happens to contain ``${bucket}`` stays that text: data can't become a template, and nothing is
ever evaluated. A ``$`` that starts neither ``${`` nor ``$$`` is literal text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gluetrigger.core.errors import GlueTriggerError

__all__ = ["Placeholder", "Template", "TemplateError", "parse_template"]


class TemplateError(GlueTriggerError, ValueError):
    """The template text is malformed (an unclosed or empty ``${...}``)."""


@dataclass(frozen=True)
class Placeholder:
    """``${name}`` (kind ``var``), ``${time:FORMAT}`` (``time``) or ``${event:EXPR}`` (``event``)."""

    kind: str
    arg: str

    def __str__(self) -> str:
        return f"${{{self.arg}}}" if self.kind == "var" else f"${{{self.kind}:{self.arg}}}"


@dataclass(frozen=True)
class Template:
    """A parsed template: literal strings and placeholders, in order."""

    source: str
    parts: tuple[str | Placeholder, ...]

    @property
    def placeholders(self) -> tuple[Placeholder, ...]:
        return tuple(p for p in self.parts if isinstance(p, Placeholder))

    def render(self, resolve: Callable[[Placeholder], str]) -> str:
        """Concatenate the parts, asking ``resolve`` for each placeholder's value."""
        return "".join(p if isinstance(p, str) else resolve(p) for p in self.parts)


def parse_template(text: str) -> Template:
    """Split ``text`` into literals and placeholders; raise TemplateError on malformed ``${``."""
    parts: list[str | Placeholder] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if char == "$" and nxt == "$":
            literal.append("$")
            i += 2
        elif char == "$" and nxt == "{":
            end = text.find("}", i + 2)
            if end < 0:
                raise TemplateError(f"unclosed '${{' at position {i} (write '$$' for a literal '$')")
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(_placeholder(text[i + 2 : end], i))
            i = end + 1
        else:
            literal.append(char)
            i += 1
    if literal:
        parts.append("".join(literal))
    return Template(source=text, parts=tuple(parts))


def _placeholder(body: str, position: int) -> Placeholder:
    head, sep, arg = body.partition(":")
    if sep and head in ("time", "event"):
        if not arg.strip():
            raise TemplateError(f"'${{{head}:}}' at position {position} needs an expression after ':'")
        return Placeholder(kind=head, arg=arg)
    name = body.strip()
    if not name:
        raise TemplateError(f"empty '${{}}' at position {position}")
    if not name.replace("_", "a").isalnum() or not name.isascii():
        raise TemplateError(
            f"'${{{body}}}' at position {position} is not a variable name "
            "(use ${name}, ${time:FORMAT} or ${event:EXPR})"
        )
    return Placeholder(kind="var", arg=name)
