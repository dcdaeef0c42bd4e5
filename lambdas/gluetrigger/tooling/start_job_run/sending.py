"""The call itself: clients made from the global options, errors sorted into the AWS CLI's exit codes.

The session honours ``--profile`` and ``--region`` over the environment and the config files, as
the AWS CLI does, and each client ``--endpoint-url``, ``--no-verify-ssl`` and the
``--cli-*-timeout`` options (0: no timeout). botocore's own retries stay as the AWS CLI leaves them
for a plain start; the idempotent start makes its clients with the runtime's settings
(:data:`gluetrigger.runtime.aws_clients.CLIENT_CONFIGS`: one attempt per Glue call, because its
starter retries itself and must never resend a start whose outcome is unknown).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from gluetrigger.tooling.start_job_run.exits import CommandFailedError, ConfigurationError, ServiceError

if TYPE_CHECKING:
    import argparse

__all__ = ["Clients", "aws_errors", "start_job_run"]

# The AWS CLI's default socket timeouts, in seconds.
_DEFAULT_TIMEOUT = 60


class Clients:
    """Makes clients for one command line: one session, the global options applied to each client."""

    def __init__(self, args: argparse.Namespace) -> None:
        import boto3
        import botocore.session

        self._args = args
        self._core = botocore.session.Session(profile=args.profile)
        with _profile_errors():
            self._session = boto3.session.Session(botocore_session=self._core, region_name=args.region)

    def configured(self, name: str) -> str | None:
        """A setting of the profile in the AWS config file (``output``, say); None when unset."""
        with _profile_errors():
            value = self._core.get_scoped_config().get(name)
        return None if value is None else str(value)

    def client(self, service: str, config: Any = None) -> Any:
        """A client for ``service``; ConfigurationError when no region is configured.

        ``config``: the runtime's botocore Config for the idempotent start (its timeouts bound
        each attempt); by default the ``--cli-*-timeout`` options, botocore's retries.
        """
        from botocore.config import Config
        from botocore.exceptions import NoRegionError

        args = self._args
        if config is None:
            config = Config(
                read_timeout=_timeout(args.cli_read_timeout), connect_timeout=_timeout(args.cli_connect_timeout)
            )
        try:
            with _profile_errors():
                return self._session.client(
                    service, endpoint_url=args.endpoint_url, verify=args.verify_ssl, config=config
                )
        except NoRegionError:
            raise ConfigurationError(
                'You must specify a region. You can also configure your region by running "aws configure".'
            ) from None


@contextmanager
def _profile_errors() -> Iterator[None]:
    """An unknown ``--profile`` (or ``$AWS_PROFILE``) is a configuration error (253)."""
    from botocore.exceptions import ProfileNotFound

    try:
        yield
    except ProfileNotFound as exc:
        raise ConfigurationError(str(exc)) from None


def _timeout(seconds: int | None) -> float | None:
    if seconds is None:
        return _DEFAULT_TIMEOUT
    return None if seconds == 0 else float(seconds)


@contextmanager
def aws_errors() -> Iterator[None]:
    """botocore's exceptions as the AWS CLI reports them: 253 for credentials, 254 for the service, else 255."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError

    try:
        yield
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise ConfigurationError(f'{exc}. You can configure credentials by running "aws configure".') from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise ServiceError(
            str(error.get("Code", "Unknown")), str(error.get("Message", "")), exc.operation_name
        ) from None
    except BotoCoreError as exc:
        raise CommandFailedError(str(exc)) from None


def start_job_run(clients: Clients, request: dict[str, Any]) -> dict[str, Any]:
    """One StartJobRun, as ``aws glue start-job-run`` sends it; the response without ResponseMetadata."""
    with aws_errors():
        response: dict[str, Any] = clients.client("glue").start_job_run(**request)
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}
