"""``--output table``: the AWS CLI's table (awscli ``table.py``), for the shapes a StartJobRun response takes.

One section titled with the operation: an object of scalars is one header row and one value row,
a single-key object one ``key | value`` row, a list of scalars one row per item, a bare scalar
the title alone (the AWS CLI draws it so). Column widths are the AWS CLI's: each column's widest
text plus 4, scaled to the table's width; a header-and-values table wider than the terminal (80
columns when stdout is not one) turns vertical, one ``key | value`` row per key, as the AWS CLI's
does. Nested objects, which no query of this response needs, are shown as JSON in their cell.
"""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from typing import Any

__all__ = ["render_table"]

_PADDING = 4
_BORDER = 2
_DEFAULT_TERMINAL_WIDTH = 80


def render_table(title: str, data: Any, terminal_width: int | None = None) -> str:
    """The table the AWS CLI prints for ``data``; "" for no data (null, empty)."""
    if not data:
        return ""
    headers, rows = _section(data)
    width = terminal_width if terminal_width is not None else _terminal_width()
    if headers and len(rows) == 1 and _total_width(title, headers, rows) > width:
        headers, rows = [], [[h, v] for h, v in zip(headers, rows[0], strict=True)]
    total = _total_width(title, headers, rows)
    lines = ["-" * total, _centered(title, total, "|", "|")]
    if not headers and not rows:
        lines.append("+" + "-" * (total - 2) + "+")
    widths = _column_widths(headers, rows, total)
    if headers:
        lines.append(_line_break(widths))
        lines.append(
            "".join(
                _centered(h, w, "|" if i == 0 else "", "|")
                for i, (w, h) in enumerate(zip(widths, headers, strict=True))
            )
        )
    if rows:
        lines.append(_line_break(widths))
        lines += [
            "".join(_left(c, w, "|" if i == 0 else "") for i, (w, c) in enumerate(zip(widths, row, strict=True)))
            for row in rows
        ]
        lines.append(_line_break(widths))
    return "".join(f"{line}\n" for line in lines)


def _section(data: Any) -> tuple[list[str], list[list[str]]]:
    """Headers and rows for ``data``, as the AWS CLI's table formatter builds them."""
    if isinstance(data, dict):
        keys = sorted(data)
        if len(keys) == 1:
            return [], [[keys[0], _cell(data[keys[0]])]]
        return keys, [[_cell(data[k]) for k in keys]]
    if isinstance(data, list):
        return [], [[_cell(item)] for item in data]
    return [], []


def _cell(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)


def _length(text: str) -> int:
    """Columns ``text`` takes: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WFA" else 1 for char in text)


def _max_widths(headers: list[str], rows: list[list[str]]) -> list[int]:
    columns = [headers, *rows] if headers else rows
    return [max(_length(row[i]) for row in columns) for i in range(len(columns[0]))] if columns else []


def _total_width(title: str, headers: list[str], rows: list[list[str]]) -> int:
    total = sum(w + _PADDING for w in _max_widths(headers, rows)) + _BORDER
    return max(_length(title) + _BORDER, total)


def _column_widths(headers: list[str], rows: list[list[str]], total: int) -> list[int]:
    """Each column's width scaled to ``total``, rounding errors given back as the AWS CLI does."""
    unscaled = [w + _PADDING for w in _max_widths(headers, rows)]
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


def _centered(text: str, length: int, left: str, right: str) -> str:
    start = (length // 2) - (_length(text) // 2) - 1
    so_far = len(left) + start + _length(text)
    return left + " " * start + text + " " * (length - len(right) - so_far) + right


def _left(text: str, length: int, left: str) -> str:
    padding = 2 if length - (_length(text) + 2 + len(left) + 1) >= 0 else 0
    so_far = len(left) + padding + _length(text)
    return left + " " * padding + text + " " * (length - so_far - 1) + "|"


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
