"""Settings every test process needs before any test module is imported."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# jsii (under aws-cdk-lib) prints an end-of-life banner on Node 20; its value is the Node major version.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

# Property and fuzz tests take their example counts from a profile, chosen by HYPOTHESIS_PROFILE:
# "default" (`make test`) runs a few hundred examples per test, the same ones every run
# (derandomized, so CI is reproducible); "chaos" (`make chaos`) runs 10,000 per test, on a new
# random seed each time, to find what the default run cannot. No deadline: a shared 2-core
# machine makes timings noise, and speed belongs in benchmarks.
settings.register_profile("default", max_examples=300, derandomize=True, deadline=None, print_blob=True)
settings.register_profile(
    "chaos",
    max_examples=10_000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
