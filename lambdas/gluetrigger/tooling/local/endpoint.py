"""Where local mode's AWS calls go: one emulator endpoint, one region, throwaway credentials.

Local mode must never reach real AWS, whatever the user's shell holds (a profile, a session
token, ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS``, a per-service endpoint override). Every client
made here, and the environment the real handler reads, point at the emulator with fake
credentials. The region is fixed so that ``gluetrigger local``, ``local fire`` and ``runs``,
started from different shells, always look at the same emulated account and region.

A URL botocore cannot use (no scheme, a port out of range) is refused when the
:class:`Endpoint` is made, as one line, before a client raises its own ValueError from deep inside.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from gluetrigger.core.errors import GlueTriggerError

__all__ = ["FAKE_CREDENTIALS", "LOCAL_REGION", "Endpoint", "EndpointError", "activate"]

LOCAL_REGION = "us-east-1"
# Emulators accept any credentials; real ones must never be picked up from the user's shell.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# Variables that would send calls elsewhere, or make botocore look for real credentials.
UNSAFE_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
)
SERVICE_ENDPOINT_PREFIX = "AWS_ENDPOINT_URL_"
SCHEMES = ("http", "https")
MAX_PORT = 65535


class EndpointError(GlueTriggerError, ValueError):
    """An endpoint URL no client could use; the message says why and what would do."""


@dataclass(frozen=True)
class Endpoint:
    """An emulator's base URL (every service on one port, as moto and LocalStack serve them)."""

    url: str
    region: str = LOCAL_REGION

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise EndpointError(f"endpoint {self.url!r} is not a URL: give it as http://HOST:PORT")
        try:
            port = parts.port
        except ValueError:
            port = -1
        if port is not None and not 0 < port <= MAX_PORT:
            raise EndpointError(f"endpoint {self.url!r}: the port must be a number 1..{MAX_PORT}")

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` bound to this endpoint, with fake credentials."""
        import boto3
        from botocore.config import Config

        # A session per client: boto3's default session is not safe to share across threads.
        session = boto3.session.Session(
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=self.region,
        )
        settings = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=2, read_timeout=15)
        return session.client(service, endpoint_url=self.url, config=settings)

    def environment(self) -> dict[str, str]:
        """The variables that make any AWS SDK in this process (the handler's too) use this endpoint."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            **FAKE_CREDENTIALS,
        }


def activate(endpoint: Endpoint, extra: dict[str, str] | None = None) -> None:
    """Point this process's environment at ``endpoint`` (and set ``extra``), dropping escape hatches."""
    for name in list(os.environ):
        if name in UNSAFE_VARIABLES or name.startswith(SERVICE_ENDPOINT_PREFIX):
            del os.environ[name]
    os.environ.update(endpoint.environment())
    os.environ.update(extra or {})
