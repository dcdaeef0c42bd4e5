"""``--generate-cli-skeleton``: the request template, or a sample response, as the AWS CLI prints them.

``input`` (the default) is botocore's skeleton of StartJobRun's input shape, the generator the
AWS CLI uses (an enum member shows one of its allowed values, picked at random, as there), as
JSON with a 4-space indent; ``yaml-input`` the same skeleton as YAML, for ``--cli-input-yaml``,
each member commented as the AWS CLI v2 comments it (``[REQUIRED]``, the first sentence of its
documentation, its valid values);
``output`` a sample response with member names as values (``{"JobRunId": "JobRunId"}``), printed
through ``--output`` and ``--query`` like a real one, after the request's checks, as the AWS
CLI validates the input for it. Nothing is sent for any of them.
"""

from __future__ import annotations

import json
import re
import xml.dom.minidom
from typing import Any
from xml.parsers.expat import ExpatError

from gluetrigger.tooling.start_job_run.options import input_shape

__all__ = ["input_skeleton", "member_comment", "output_skeleton"]

# The AWS CLI v2's first sentence of a member's documentation: up to the first '.' or ':'.
_SENTENCE_END = re.compile(r"[.:]+")


def input_skeleton(kind: str) -> str:
    """The request skeleton as text: ``input`` as JSON, ``yaml-input`` as YAML."""
    from botocore.utils import ArgumentGenerator

    # Plain dicts (botocore builds OrderedDicts, which YAML's safe dumper refuses); the order stays.
    skeleton = json.loads(json.dumps(ArgumentGenerator().generate_skeleton(input_shape())))
    if kind == "yaml-input":
        return _commented_yaml(skeleton)
    return json.dumps(skeleton, indent=4) + "\n"


def _commented_yaml(skeleton: dict[str, Any]) -> str:
    """The skeleton as YAML, each top-level member's line ending with its comment (``  # ...``)."""
    import yaml

    shape = input_shape()
    lines: list[str] = []
    for name, value in skeleton.items():
        dumped = yaml.safe_dump({name: value}, default_flow_style=False, sort_keys=False, allow_unicode=True)
        first, *rest = dumped.splitlines()
        comment = member_comment(shape.members[name], required=name in shape.required_members)
        lines += [f"{first}  # {comment}" if comment else first, *rest]
    return "".join(f"{line}\n" for line in lines)


def member_comment(member: Any, *, required: bool) -> str:
    """``[REQUIRED]``, the first sentence of the member's documentation, its valid values: as the AWS CLI v2."""
    parts = ["[REQUIRED]"] if required else []
    parts.append(_first_sentence(member.documentation or ""))
    if getattr(member, "enum", None):
        parts.append(f"Valid values are: {', '.join(member.enum)}.")
    comment = " ".join(parts)
    return "" if comment.isspace() else comment


def _first_sentence(documentation: str) -> str:
    try:
        # The documentation is botocore's own service model, installed with it: not untrusted input.
        text = "".join(_texts(xml.dom.minidom.parseString(f"<doc>{documentation}</doc>")))  # noqa: S318
    except ExpatError:
        text = documentation
    sentence = _SENTENCE_END.split(text, maxsplit=1)[0]
    sentence = f"{sentence}." if sentence else sentence
    return sentence.replace("\n", " ").replace("\u2028", " ")


def _texts(node: Any) -> list[str]:
    """The text of ``node`` and its descendants, markup dropped."""
    texts: list[str] = []
    for child in node.childNodes:
        texts += [child.data] if child.nodeType == child.TEXT_NODE else _texts(child)
    return texts


def output_skeleton() -> dict[str, Any]:
    """A sample StartJobRun response, each member's name as its value."""
    import botocore.session
    from botocore.utils import ArgumentGenerator

    model = botocore.session.get_session().get_service_model("glue").operation_model("StartJobRun")
    sample: dict[str, Any] = ArgumentGenerator(use_member_names=True).generate_skeleton(model.output_shape)
    return sample
