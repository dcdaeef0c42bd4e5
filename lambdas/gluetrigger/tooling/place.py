"""Where the operators' commands (``backfill``, ``dlq``) find the resources a deployment uses.

Two places, chosen explicitly, so that a command meant for an emulator never reaches AWS:

- **local** (the default): the emulator at ``--endpoint-url``, else ``$AWS_ENDPOINT_URL``, else
  this user's ``gluetrigger local`` serving ``--config`` (as ``local fire`` and ``runs`` find it).
  The names are local mode's own (:mod:`gluetrigger.tooling.local.provision`): its idempotency
  table, its DLQ, a queue per trigger, its manifests bucket.
- **AWS** (``--aws``): the credentials and region of the environment, as the AWS CLI uses them.
  A stack's names are not guessable, and reading them from its outputs would tie these commands
  to the stack's layout, so they are given: ``--idempotency-table``, ``--dlq-url``, ``--queue-url``
  (one trigger's queue, so only with ``--trigger``) and ``--manifest-bucket``, each defaulting to
  the variable the handler itself reads (``GLUETRIGGER_IDEMPOTENCY_TABLE``,
  ``GLUETRIGGER_DEAD_LETTER_QUEUE_URL``, ``GLUETRIGGER_QUEUE_URL``, ``GLUETRIGGER_MANIFEST_BUCKET``).
  The stack's outputs hold every one of them.

The same options override local mode's names too. A name a command needs and does not have is a
usage error naming the option, raised by the accessor that needs it, so a command asks only
for what it uses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gluetrigger.core.errors import GlueTriggerError
from gluetrigger.runtime.environment import (
    DEAD_LETTER_QUEUE_URL_ENV,
    IDEMPOTENCY_TABLE_ENV,
    MANIFEST_BUCKET_ENV,
    QUEUE_URL_ENV,
)

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from gluetrigger.tooling.local.endpoint import Endpoint

__all__ = ["Names", "Place", "PlaceError", "add_place_options", "aws_place", "local_place", "names"]


class PlaceError(GlueTriggerError):
    """A resource the command needs has no name here; the message names the option that gives it."""


@dataclass(frozen=True)
class Names:
    """The names given by option or environment (None: not given)."""

    idempotency_table: str | None = None
    dead_letter_queue_url: str | None = None
    queue_url: str | None = None
    manifest_bucket: str | None = None


@dataclass
class Place:
    """The resources of one deployment (or local instance), and clients that reach them.

    ``where`` names it in messages (the endpoint URL, or ``AWS``); ``local`` says whether local
    mode's names apply to what was not given.
    """

    where: str
    client: Callable[[str], Any]
    names: Names
    local: bool
    region: str | None = None
    only: str | None = None  # the trigger --queue-url belongs to
    _clients: dict[str, Any] = field(default_factory=dict)

    def aws(self, service: str) -> Any:
        """The client for ``service`` (made once)."""
        if service not in self._clients:
            self._clients[service] = self.client(service)
        return self._clients[service]

    def idempotency_table(self) -> str:
        from gluetrigger.tooling.local.provision import IDEMPOTENCY_TABLE

        return self._named(
            self.names.idempotency_table, IDEMPOTENCY_TABLE, "--idempotency-table", IDEMPOTENCY_TABLE_ENV
        )

    def dead_letter_queue_url(self) -> str:
        from gluetrigger.tooling.local.provision import DEAD_LETTER_QUEUE

        given = self.names.dead_letter_queue_url
        if given is None and self.local:
            return self._queue(DEAD_LETTER_QUEUE, "the DLQ")
        return self._named(given, None, "--dlq-url", DEAD_LETTER_QUEUE_URL_ENV)

    def queue_url(self, trigger: str) -> str:
        """``trigger``'s own queue: ``--queue-url`` when it was given for this trigger, else local mode's."""
        from gluetrigger.tooling.local.provision import queue_name

        given = self.names.queue_url if self.only == trigger else None
        if given is None and self.local:
            return self._queue(queue_name(trigger), f"no queue for trigger {trigger}")
        return self._named(given, None, f"--queue-url (with --trigger {trigger})", QUEUE_URL_ENV)

    def manifest_bucket(self) -> str | None:
        """Where batch triggers without a manifest_location write their manifests; None if not given."""
        from gluetrigger.tooling.local.provision import MANIFEST_BUCKET

        return self.names.manifest_bucket or (MANIFEST_BUCKET if self.local else None)

    def _named(self, given: str | None, local_name: str | None, option: str, variable: str) -> str:
        if given is not None:
            return given
        if self.local and local_name is not None:
            return local_name
        raise PlaceError(f"{option} is required against AWS (or set ${variable}); the stack's outputs name it")

    def _queue(self, name: str, what: str) -> str:
        sqs = self.aws("sqs")
        try:
            return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
        except sqs.exceptions.QueueDoesNotExist:
            raise PlaceError(
                f"{self.where} has no queue {name} ({what}): is `gluetrigger local` running there?"
            ) from None


def add_place_options(parser: argparse.ArgumentParser, *, queue: bool = True) -> None:
    """``--endpoint-url`` or ``--aws``, and the names that override local mode's or that AWS needs."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="an emulator (default: $AWS_ENDPOINT_URL, else the `gluetrigger local` of this user serving --config)",
    )
    where.add_argument("--aws", action="store_true", help="act on AWS, with the credentials and region of your shell")
    parser.add_argument(
        "--idempotency-table", metavar="NAME", help=f"the idempotency table (default: ${IDEMPOTENCY_TABLE_ENV})"
    )
    parser.add_argument("--dlq-url", metavar="URL", help=f"the DLQ (default: ${DEAD_LETTER_QUEUE_URL_ENV})")
    if queue:
        parser.add_argument("--queue-url", metavar="URL", help=f"the --trigger's own queue (default: ${QUEUE_URL_ENV})")
    parser.add_argument(
        "--manifest-bucket", metavar="NAME", help=f"the stack's manifests bucket (default: ${MANIFEST_BUCKET_ENV})"
    )


def names(args: argparse.Namespace, *, environment: bool) -> Names:
    """The names given on the command line, else (with ``environment``: against AWS) in the environment.

    Local mode ignores the variables: a shell set up for AWS must not send an emulator's commands to AWS names.
    """

    def given(option: str, variable: str) -> str | None:
        value = getattr(args, option, None) or (os.environ.get(variable, "").strip() if environment else "")
        return value or None

    return Names(
        idempotency_table=given("idempotency_table", IDEMPOTENCY_TABLE_ENV),
        dead_letter_queue_url=given("dlq_url", DEAD_LETTER_QUEUE_URL_ENV),
        queue_url=given("queue_url", QUEUE_URL_ENV),
        manifest_bucket=given("manifest_bucket", MANIFEST_BUCKET_ENV),
    )


def local_place(endpoint: Endpoint, given: Names, only: str | None) -> Place:
    """The emulator at ``endpoint``, with local mode's names where none is given."""
    return Place(endpoint.url, endpoint.client, given, local=True, region=endpoint.region, only=only)


def aws_place(given: Names, only: str | None) -> Place:
    """AWS, with the environment's credentials and region (one session for every client)."""
    import boto3

    session = boto3.session.Session()
    region = session.region_name
    return Place(f"AWS ({region or 'no region'})", session.client, given, local=False, region=region, only=only)
