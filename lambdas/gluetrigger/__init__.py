"""gluetrigger: map S3 arrivals, schedules and custom events to AWS Glue StartJobRun calls.

The package is the Lambda code asset. Its core (config model, validation, event
normalization, matching, templating) imports neither boto3 nor the CDK; the adapters
(handler, Glue client, local mode, CLI) sit on top of it.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
