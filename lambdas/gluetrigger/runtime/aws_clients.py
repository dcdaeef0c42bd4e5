"""boto3 clients: one per AWS service per container, made on first use.

Making a client loads its service model and costs milliseconds; Lambda reuses a container for
many invocations, so each client is made once and shared. boto3's default session is not safe
to use from several threads, and local mode and the tests invoke the handler from several, so
clients come from a private session, under a lock. Endpoints are never configured here: boto3
reads ``AWS_ENDPOINT_URL`` itself, which is how the same code talks to AWS or to an emulator.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from botocore.config import Config

__all__ = ["client"]

_LOCK = threading.Lock()
_CLIENTS: dict[str, Any] = {}


def client(service: str, config: Config) -> Any:
    """The container's client for ``service``; ``config`` applies when it is first made.

    Each service has one owner module (Glue: :mod:`gluetrigger.runtime.glue_client`, DynamoDB:
    :mod:`gluetrigger.runtime.runner`, SQS: :mod:`gluetrigger.runtime.dead_letters`) that always passes the same
    configuration.
    """
    with _LOCK:
        made = _CLIENTS.get(service)
        if made is None:
            made = _CLIENTS[service] = boto3.session.Session().client(service, config=config)
        return made
