"""The response as the AWS CLI prints it: ``--output json|text|table|yaml|yaml-stream`` after ``--query``.

json: 4-space indent, non-ASCII as written, one newline (``{"JobRunId": "jr_..."}`` exactly as the
reference's example). text: tab-separated scalars, one line per object, ``None`` for null (the
AWS CLI's ``text`` module). table: the AWS CLI's boxed table titled with the operation, for
what a StartJobRun response or a query over it can be (an object of scalars, a list of scalars,
a scalar, which the AWS CLI renders as its title alone, or nothing). yaml: a YAML document;
yaml-stream: the response as one item of a YAML list, as the AWS CLI v2 streams pages.
The query runs first, with jmespath (botocore's own dependency).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from gluetrigger.tooling.start_job_run.exits import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["compile_query", "render"]

TITLE = "StartJobRun"


def compile_query(expression: str | None) -> Any:
    """The compiled JMESPath expression; UsageError when it does not parse."""
    if expression is None:
        return None
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.compile(expression)
    except JMESPathError as exc:
        raise UsageError(f"Bad value for --query {expression}: {exc}") from None


def render(response: dict[str, Any], output: str, query: Any = None) -> str:
    """What the AWS CLI prints on stdout for ``response`` (ResponseMetadata already dropped)."""
    data: Any = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    if query is not None:
        data = query.search(data)
    return _FORMATS[output](data)


def _json(data: Any) -> str:
    # An empty object is a response without a body: the AWS CLI prints nothing for it.
    return "" if data == {} else json.dumps(data, indent=4, ensure_ascii=False, default=str) + "\n"


def _text(data: Any) -> str:
    lines: list[str] = []
    _text_lines(data, lines)
    return "".join(f"{line}\n" for line in lines)


def _text_lines(data: Any, lines: list[str]) -> None:
    """The AWS CLI's text format: scalars of one object or list on one tab-separated line."""
    if isinstance(data, dict):
        scalars = [data[k] for k in sorted(data) if not isinstance(data[k], dict | list)]
        if scalars:
            lines.append("\t".join(_text_scalar(v) for v in scalars))
        for key in sorted(data):
            if isinstance(data[key], dict | list):
                _text_lines(data[key], lines)
    elif isinstance(data, list):
        if all(not isinstance(item, dict | list) for item in data):
            lines.append("\t".join(_text_scalar(v) for v in data))
        else:
            for item in data:
                _text_lines(item, lines)
    else:
        lines.append(_text_scalar(data))


def _text_scalar(value: Any) -> str:
    return "None" if value is None else str(value)


def _table(data: Any) -> str:
    from gluetrigger.tooling.start_job_run.table import render_table

    return render_table(TITLE, data)


def _yaml(data: Any) -> str:
    import yaml

    return str(yaml.safe_dump(data, default_flow_style=False, sort_keys=False, allow_unicode=True))


def _yaml_stream(data: Any) -> str:
    return _yaml([data])


_FORMATS: dict[str, Callable[[Any], str]] = {
    "json": _json,
    "text": _text,
    "table": _table,
    "yaml": _yaml,
    "yaml-stream": _yaml_stream,
}
