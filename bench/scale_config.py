"""A data platform's triggers.yaml at any size: the config behind the scale figures and tests.

``make bench`` synthesizes it at 50, 200 and 500 triggers and tests/infra checks that 500
synthesize within CloudFormation's limits, so both read the same shape from here: s3 triggers
(some batched, some with a ``key_pattern``), custom-event triggers on the default bus and on a
bus of their own, and schedules (UTC rules and Scheduler schedules in a timezone), spread over
:data:`BUCKETS` buckets, each trigger with its own Glue job. Deterministic: the same count always
gives the same text, so synthesized templates can be compared run to run.
"""

from __future__ import annotations

import json

__all__ = ["BUCKETS", "scale_config"]

BUCKETS = 50
# Out of every ten triggers: six s3 (one of them batched), two event, two schedule.
_KINDS = ("s3", "s3", "event", "s3", "schedule", "s3", "s3-batch", "event", "s3", "schedule")


def scale_config(count: int) -> str:
    """A valid triggers.yaml with ``count`` triggers over :data:`BUCKETS` buckets (JSON is YAML)."""
    if count < 1:
        raise ValueError(f"a config needs at least one trigger, not {count}")
    triggers = [_trigger(index) for index in range(count)]
    document = {"defaults": {"timeout": 120, "arguments": {"--enable-metrics": "true"}}, "triggers": triggers}
    return json.dumps(document, indent=1) + "\n"


def _trigger(index: int) -> dict[str, object]:
    kind = _KINDS[index % len(_KINDS)]
    name = f"feed-{index:04d}-{kind}"
    job: dict[str, object] = {"name": f"etl-{index:04d}", "worker_type": "G.1X", "number_of_workers": 2}
    if kind == "schedule":
        job["arguments"] = {"--run_date": "${time-1d:%Y-%m-%d}"}
        return {"name": name, "source": _schedule(index), "job": job}
    if kind == "event":
        job["arguments"] = {"--order": "${event:detail.order_id}"}
        return {"name": name, "source": _event(index), "job": job}
    bucket = f"landing-{index % BUCKETS:02d}"
    source = {"type": "s3", "bucket": bucket, "prefix": f"feeds/{index:04d}/", "suffix": ".csv"}
    if kind == "s3-batch":
        job["arguments"] = {"--manifest": "${manifest}", "--files": "${file_count}"}
        return {"name": name, "source": source, "job": job, "batch": {"max_files": 50, "window_seconds": 60}}
    if index % 3 == 0:
        source["key_pattern"] = r"^feeds/\d{4}/(?P<day>\d{4}-\d{2}-\d{2})/[^/]+$"
        job["arguments"] = {"--input_path": "s3://${bucket}/${key}", "--day": "${day}"}
    else:
        job["arguments"] = {"--input_path": "s3://${bucket}/${key}"}
    return {"name": name, "source": source, "job": job}


def _schedule(index: int) -> dict[str, object]:
    source: dict[str, object] = {"type": "schedule", "expression": f"cron({index % 60} {index % 24} * * ? *)"}
    if index % 20 == 4:
        source["timezone"] = "Europe/Paris"
    return source


def _event(index: int) -> dict[str, object]:
    source: dict[str, object] = {
        "type": "event",
        "pattern": {"source": [f"com.example.orders{index % 7}"], "detail-type": [f"Order Placed {index}"]},
    }
    if index % 4 == 2:
        source["event_bus"] = "partner-bus"
    return source
