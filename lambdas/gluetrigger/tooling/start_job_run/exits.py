"""The exit codes of ``gluetrigger start-job-run``: the AWS CLI's, so scripts written for it keep working.

The AWS CLI documents them (``aws help return-codes``): 252 the command line could not be parsed
or a value was refused before anything was sent; 253 the environment or configuration is invalid
(no region, no credentials, an unknown profile); 254 the service was called and returned an
error; 255 anything else; 130 interrupted (Ctrl-C). Each failure is an exception that carries its
code, so the command's one ``except`` turns it into the exit status and one message on stderr.
"""

from __future__ import annotations

from gluetrigger.core.errors import GlueTriggerError

__all__ = [
    "EXIT_CONFIGURATION",
    "EXIT_GENERAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SERVICE",
    "EXIT_USAGE",
    "CommandFailedError",
    "ConfigurationError",
    "ServiceError",
    "UsageError",
]

EXIT_OK = 0
EXIT_USAGE = 252
EXIT_CONFIGURATION = 253
EXIT_SERVICE = 254
EXIT_GENERAL = 255
EXIT_INTERRUPTED = 130


class CommandFailedError(GlueTriggerError):
    """The command failed; ``str(error)`` is the message, :attr:`exit_code` the status (255: other)."""

    exit_code = EXIT_GENERAL


class UsageError(CommandFailedError):
    """The command line cannot be parsed, or a value breaks a rule: nothing was sent."""

    exit_code = EXIT_USAGE


class ConfigurationError(CommandFailedError):
    """No region, no credentials, an unknown profile: the environment cannot make the call."""

    exit_code = EXIT_CONFIGURATION


class ServiceError(CommandFailedError):
    """The service answered with an error, worded as the AWS CLI words it."""

    exit_code = EXIT_SERVICE

    def __init__(self, code: str, message: str, operation: str = "StartJobRun") -> None:
        super().__init__(f"An error occurred ({code}) when calling the {operation} operation: {message}")
        self.code = code
