"""``--generate-cli-skeleton``: the request template, or a sample response, as the AWS CLI prints them.

``input`` (the default) is botocore's skeleton of StartJobRun's input shape, the generator the
AWS CLI uses (an enum member shows one of its allowed values, picked at random, as there), as
JSON with a 4-space indent; ``yaml-input`` the same skeleton as YAML, for ``--cli-input-yaml``;
``output`` a sample response with member names as values (``{"JobRunId": "JobRunId"}``), printed
through ``--output`` and ``--query`` like a real one, after the request's checks, as the AWS
CLI validates the input for it. Nothing is sent for any of them.
"""

from __future__ import annotations

import json
from typing import Any

from gluetrigger.tooling.start_job_run.options import input_shape

__all__ = ["input_skeleton", "output_skeleton"]


def input_skeleton(kind: str) -> str:
    """The request skeleton as text: ``input`` as JSON, ``yaml-input`` as YAML."""
    from botocore.utils import ArgumentGenerator

    # Plain dicts (botocore builds OrderedDicts, which YAML's safe dumper refuses); the order stays.
    skeleton = json.loads(json.dumps(ArgumentGenerator().generate_skeleton(input_shape())))
    if kind == "yaml-input":
        import yaml

        return str(yaml.safe_dump(skeleton, default_flow_style=False, sort_keys=False, allow_unicode=True))
    return json.dumps(skeleton, indent=4) + "\n"


def output_skeleton() -> dict[str, Any]:
    """A sample StartJobRun response, each member's name as its value."""
    import botocore.session
    from botocore.utils import ArgumentGenerator

    model = botocore.session.get_session().get_service_model("glue").operation_model("StartJobRun")
    sample: dict[str, Any] = ArgumentGenerator(use_member_names=True).generate_skeleton(model.output_shape)
    return sample
