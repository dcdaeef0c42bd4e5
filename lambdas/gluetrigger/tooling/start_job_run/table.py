"""``--output table``: the AWS CLI's table (awscli ``formatter.py`` and ``table.py``), ported rule for rule.

The response (after ``--query``) becomes sections: an object's scalar members are one header row
and one value row (a single scalar member one ``key | value`` row), each nested object or list a
section of its own, titled with its key and indented one level more; a list of objects is a
header row of all their scalar keys and one row per object; a list of scalars one row per item.
Each column is its widest text plus 4, scaled to the widest section; when that is wider than
the terminal (80 columns when stdout is not one), single-row sections turn vertical. A bare scalar
draws the title alone, and nothing (null, empty) draws nothing: the AWS CLI's quirks, kept.

Colours (``--color on``, or ``auto`` on a terminal) are the AWS CLI's: values bright blue, nesting
bars dim yellow, and a reset after every write, as colorama's autoreset adds them there.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from gluetrigger.tooling.start_job_run.exits import CommandFailedError

__all__ = ["render_table"]

_PADDING = 4
_BORDER = 2
_DEFAULT_TERMINAL_WIDTH = 80
_RESET = "\x1b[0m"
_VALUE_STYLE = "\x1b[1m\x1b[34m"  # colorama Style.BRIGHT + Fore.BLUE
_BAR_STYLE = "\x1b[2m\x1b[33m"  # colorama Style.DIM + Fore.YELLOW


@dataclass
class _Section:
    title: str | None
    indent: int = 0
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)

    def widths(self) -> list[int]:
        cells = [self.headers, *self.rows] if self.headers else self.rows
        return [max(_length(row[i]) for row in cells) for i in range(len(cells[0]))] if cells else []

    def add_row(self, row: list[Any]) -> None:
        """A row; as in the AWS CLI, one of another width than the section's first is an error (255)."""
        columns = len(self.headers or (self.rows[0] if self.rows else row))
        if len(row) != columns:
            raise CommandFailedError(f"Row should have {columns} elements, instead it has {len(row)}")
        self.rows.append([str(cell) for cell in row])

    def total_width(self) -> int:
        total = sum(w + _PADDING for w in self.widths()) + _BORDER + 2 * self.indent
        return max(_length(self.title or "") + _BORDER + 2 * self.indent, total)


class _Writer:
    """Output as the AWS CLI writes it: with colours, a reset after every write (colorama's autoreset)."""

    def __init__(self, colour: bool) -> None:
        self.colour = colour
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text + (_RESET if self.colour else ""))

    def line(self, text: str, indent: int) -> None:
        """One line inside ``indent`` nesting bars on each side, written as the AWS CLI's IndentedStream does."""
        bars = self.style(_BAR_STYLE, "|") * indent
        for part in (bars, text, bars, "\n"):
            self.write(part)

    def style(self, style: str, text: str) -> str:
        return f"{style}{text}{_RESET}" if self.colour else text


def render_table(title: str, data: Any, colour: str = "auto", terminal_width: int | None = None) -> str:
    """The table the AWS CLI prints for ``data`` under ``title``; "" for no data (null, empty)."""
    sections: list[_Section] = []
    if not _build(sections, title, data, 0):
        return ""
    width = terminal_width if terminal_width is not None else _terminal_width()
    total = max(s.total_width() for s in sections)
    if total > width:
        sections = [_vertical(s) for s in sections]
        total = max(s.total_width() for s in sections)
    writer = _Writer(colour == "on" or (colour == "auto" and sys.stdout.isatty()))
    writer.write("-" * total + "\n")
    for section in sections:
        _render_section(writer, section, total - 2 * section.indent)
    return "".join(writer.parts)


def _build(sections: list[_Section], title: str | None, data: Any, indent: int) -> bool:
    """Sections for ``data`` (the AWS CLI's ``_build_table``); False when there is nothing to draw."""
    if not data:
        return False
    if title is not None:
        sections.append(_Section(title, indent))
    if isinstance(data, list):
        _build_list(sections, title, data, indent)
    if isinstance(data, dict):
        _build_dict(sections, data, indent)
    return True


def _build_list(sections: list[_Section], title: str | None, data: list[Any], indent: int) -> None:
    if isinstance(data[0], dict):
        _build_list_of_objects(sections, title, data, indent)
        return
    for item in data:
        if _scalar(item):
            sections[-1].add_row([item])
        elif all(_scalar(element) for element in item):
            sections[-1].add_row(list(item))
        else:
            _build(sections, None, item, 0)


def _build_dict(sections: list[_Section], data: dict[str, Any], indent: int) -> None:
    headers = sorted(k for k in data if _scalar(data[k]))
    if len(headers) == 1:
        sections[-1].add_row([headers[0], data[headers[0]]])
    elif headers:
        sections[-1].headers = headers
        sections[-1].add_row([data[k] for k in headers])
    for key in sorted(k for k in data if not _scalar(data[k])):
        _build(sections, key, data[key], indent + 1)


def _build_list_of_objects(sections: list[_Section], title: str | None, data: list[Any], indent: int) -> None:
    headers = sorted({k for item in data for k in item if _scalar(item[k])})
    more = sorted({k for item in data for k in item if not _scalar(item[k])})
    sections[-1].headers = headers
    for position, item in enumerate(data):
        if position and more:
            sections.append(_Section(title, indent, headers=headers))
        sections[-1].add_row([item.get(header, "") for header in headers])
        for key in more:
            if key in item:
                _build(sections, key, item[key], indent + 1)


def _vertical(section: _Section) -> _Section:
    """A header row and its one value row as ``header | value`` rows (the AWS CLI's narrow form)."""
    if len(section.rows) != 1 or not section.headers:
        return section
    rows = [[h, v] for h, v in zip(section.headers, section.rows[0], strict=True)]
    return _Section(section.title, section.indent, rows=rows)


def _render_section(writer: _Writer, section: _Section, width: int) -> None:
    indent = section.indent
    if section.title:
        writer.line(_centered(section.title, width, "|", "|"), indent)
        if not section.headers and not section.rows:
            writer.line("+" + "-" * (width - 2) + "+", indent)
    widths = _scaled(section.widths(), width)
    if section.headers:
        writer.line(_line_break(widths), indent)
        cells = [
            _centered(h, w, "|" if i == 0 else "", "|")
            for i, (w, h) in enumerate(zip(widths, section.headers, strict=True))
        ]
        writer.line("".join(cells), indent)
    if section.rows and widths:
        writer.line(_line_break(widths), indent)
        for row in section.rows:
            cells = [
                _left(writer, c, w, "|" if i == 0 else "") for i, (w, c) in enumerate(zip(widths, row, strict=True))
            ]
            writer.line("".join(cells), indent)
        writer.line(_line_break(widths), indent)


def _scaled(widths: list[int], total: int) -> list[int]:
    """Each column's width plus padding, scaled to ``total``, rounding errors given back as the AWS CLI does."""
    unscaled = [w + _PADDING for w in widths]
    if not unscaled:
        return []
    scale = total / float(sum(unscaled))
    scaled = [round(scale * w) for w in unscaled]
    off_by = sum(scaled) - total
    while off_by != 0:
        order = range(len(scaled)) if off_by > 0 else reversed(range(len(scaled)))
        for i in order:
            step = 1 if off_by > 0 else -1
            scaled[i] -= step
            off_by -= step
            if off_by == 0:
                break
    return scaled


def _scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _length(text: str) -> int:
    """Columns ``text`` takes: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WFA" else 1 for char in text)


def _centered(text: str, length: int, left: str, right: str) -> str:
    start = (length // 2) - (_length(text) // 2) - 1
    so_far = len(left) + start + _length(text)
    return left + " " * start + text + " " * (length - len(right) - so_far) + right


def _left(writer: _Writer, text: str, length: int, left: str) -> str:
    padding = 2 if length - (_length(text) + 2 + len(left) + 1) >= 0 else 0
    so_far = len(left) + padding + _length(text)
    return left + " " * padding + writer.style(_VALUE_STYLE, text) + " " * (length - so_far - 1) + "|"


def _line_break(widths: list[int]) -> str:
    return "".join(("+" + "-" * (w - 2) + "+") if i == 0 else ("-" * (w - 1) + "+") for i, w in enumerate(widths))


def _terminal_width() -> int:
    """The terminal's width when stdout is one, else 80 (the AWS CLI's default)."""
    if not sys.stdout.isatty():
        return _DEFAULT_TERMINAL_WIDTH
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except OSError:
        return _DEFAULT_TERMINAL_WIDTH
