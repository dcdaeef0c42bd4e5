"""Settings every test process needs before any test module is imported."""

from __future__ import annotations

import os

# jsii (under aws-cdk-lib) prints an end-of-life banner on Node 20; its value is the Node major version.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
