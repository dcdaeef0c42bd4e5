"""The response as the AWS CLI prints it: ``--output json|text|table|yaml|yaml-stream`` after ``--query``.

json: 4-space indent, non-ASCII as written, one newline (``{"JobRunId": "jr_..."}`` exactly as the
reference's example). text: the AWS CLI's ``text`` module (tab-separated scalars, one line per
object, nested members on lines of their own led by their key in capitals, ``None`` for null).
table: :mod:`gluetrigger.tooling.start_job_run.table`. yaml: a YAML document (a scalar as JSON);
yaml-stream: the response as one item of a YAML list: the AWS CLI v2's formatters.
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


def render(response: dict[str, Any], output: str, query: Any = None, colour: str = "auto") -> str:
    """What the AWS CLI prints on stdout for ``response``, ResponseMetadata dropped; ``colour`` as ``--color``."""
    data: Any = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    if query is not None:
        data = query.search(data)
    if output == "table":
        from gluetrigger.tooling.start_job_run.table import render_table

        return render_table(TITLE, data, colour)
    return _FORMATS[output](data)


def _json(data: Any) -> str:
    # An empty object is a response without a body: the AWS CLI prints nothing for it.
    return "" if data == {} else json.dumps(data, indent=4, ensure_ascii=False, default=str) + "\n"


def _text(data: Any) -> str:
    lines: list[str] = []
    _text_item(lines, data, None, None)
    return "".join(lines)


def _text_item(lines: list[str], item: Any, identifier: str | None, scalar_keys: list[str] | None) -> None:
    """The AWS CLI's text format (awscli ``text.py``): one line of tab-separated scalars per object."""
    if isinstance(item, dict):
        _text_dict(lines, item, identifier, scalar_keys)
    elif isinstance(item, list):
        _text_list(lines, item, identifier)
    else:
        lines.append(f"{item}\n")


def _text_list(lines: list[str], items: list[Any], identifier: str | None) -> None:
    if any(isinstance(element, dict) for element in items):
        keys = sorted({k for element in items for k, v in element.items() if _scalar(v)})
        for element in items:
            _text_item(lines, element, identifier, keys)
        return
    scalars = [element for element in items if _scalar(element)]
    if scalars:
        if identifier is not None:
            lines += [f"{identifier.upper()}\t{element}\n" for element in scalars]
        else:
            lines.append("\t".join(str(element) for element in scalars) + "\n")
    for element in items:
        if not _scalar(element):
            _text_item(lines, element, identifier, None)


def _text_dict(lines: list[str], item: dict[str, Any], identifier: str | None, scalar_keys: list[str] | None) -> None:
    if scalar_keys is None:
        scalars = [str(v) for _, v in sorted(item.items()) if _scalar(v)]
        nested = [(k, v) for k, v in sorted(item.items()) if not _scalar(v)]
    else:
        scalars = [str(item.get(key, "")) for key in scalar_keys]
        nested = [(k, item[k]) for k in sorted(set(item) - set(scalar_keys))]
    if scalars:
        lines.append("\t".join([identifier.upper(), *scalars] if identifier is not None else scalars) + "\n")
    for key, value in nested:
        _text_item(lines, value, key, None)


def _scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _yaml(data: Any) -> str:
    """The AWS CLI v2's YAML: nothing for an empty response, a scalar as JSON (no ``...`` end marker)."""
    if data == {}:
        return ""
    if data is None or isinstance(data, bool | int | float | str):
        return json.dumps(data, ensure_ascii=False) + "\n"
    import yaml

    return str(yaml.safe_dump(data, default_flow_style=False, sort_keys=False, allow_unicode=True))


def _yaml_stream(data: Any) -> str:
    """Each page as a one-item list, as the AWS CLI v2 streams them; StartJobRun has one page."""
    return "" if data == {} else _yaml([data])


_FORMATS: dict[str, Callable[[Any], str]] = {
    "json": _json,
    "text": _text,
    "yaml": _yaml,
    "yaml-stream": _yaml_stream,
}
