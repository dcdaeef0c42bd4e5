"""The ``gluetrigger local``, ``gluetrigger local fire`` and ``gluetrigger runs`` commands.

Registered by :mod:`gluetrigger.tooling.cli`, and imported only when the parser is built, so that the
other commands never load boto3 or moto. Exit codes extend the CLI's contract: 0 success
(with ``--once``: every outcome as the example expects); 1 an invalid config, outcomes that
differ from the expected ones, or an endpoint that could not do what was asked (unreachable, no
such queue or job); 2 a usage error (port in use or out of range, an endpoint URL without a
scheme, unknown trigger, no endpoint to talk to: no --endpoint-url, no $AWS_ENDPOINT_URL and no
`gluetrigger local` of this user serving the config, see :mod:`gluetrigger.tooling.local.session_file`);
130 stopped by Ctrl-C (SIGINT) or SIGTERM, after a clean shutdown.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

from gluetrigger.core.errors import GlueTriggerError
from gluetrigger.core.retry import RETRY_STATES
from gluetrigger.tooling.local.endpoint import MAX_PORT, EndpointError

if TYPE_CHECKING:
    from pathlib import Path

    from gluetrigger.core.model import Config, Trigger
    from gluetrigger.tooling.local.bursts import Bursts
    from gluetrigger.tooling.local.console import Console
    from gluetrigger.tooling.local.demo import Demo
    from gluetrigger.tooling.local.endpoint import Endpoint
    from gluetrigger.tooling.local.service import LocalService

__all__ = ["CommandError", "endpoint_for", "guarded", "reaching", "register_local_commands"]

DEFAULT_CONFIG = "triggers.yaml"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

Subparsers = argparse._SubParsersAction  # the type argparse gives add_subparsers() no public name


class _CommandError(GlueTriggerError):
    """Stop the command with one line on stderr and this exit code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def register_local_commands(sub: Subparsers[argparse.ArgumentParser]) -> None:
    """Add ``local`` (with its ``fire`` and ``fail`` actions) and ``runs`` to the ``gluetrigger`` parser."""
    local = sub.add_parser(
        "local",
        help="run the service on an AWS emulator: no AWS account, no Docker",
        description="Start an AWS emulator (moto, embedded) or use one that runs (--endpoint-url), "
        "provision what the config needs and run the real handler on it until Ctrl-C. "
        "With an ACTION (optional), act on a `gluetrigger local` that is already running instead.",
    )
    _config_option(local)
    where = local.add_mutually_exclusive_group()
    where.add_argument("--port", type=int, default=0, help="port of the embedded emulator (default: a free one)")
    where.add_argument("--endpoint-url", metavar="URL", help="use this running emulator (e.g. LocalStack) instead")
    local.add_argument(
        "--once",
        action="store_true",
        help="play the example scenario, print a summary and exit 0 only if every outcome is as expected",
    )
    _run_options(local)
    local.set_defaults(command=_guarded(_local))
    _register_actions(local)
    _register_runs(sub)


def _register_runs(sub: Subparsers[argparse.ArgumentParser]) -> None:
    runs = sub.add_parser("runs", help="list the Glue job runs on an emulator or AWS (state, arguments, started)")
    which = runs.add_mutually_exclusive_group()
    which.add_argument("--job", metavar="NAME", help="only this job's runs")
    which.add_argument("--trigger", metavar="NAME", help="only the runs this trigger started (its job, its run key)")
    _config_option(runs, help_text="ask the `gluetrigger local` serving this config (default: ./triggers.yaml)")
    _endpoint_option(runs)
    runs.add_argument("--aws", action="store_true", help="list the config's jobs' runs on AWS (your shell's account)")
    runs.add_argument("--json", action="store_true", help="print JSON instead of a table")
    runs.set_defaults(command=_guarded(_runs))


def _register_actions(local: argparse.ArgumentParser) -> None:
    """``local fire`` and ``local fail``: actions against a running `gluetrigger local`."""
    actions = local.add_subparsers(metavar="ACTION", title="actions (against a running `gluetrigger local`)")
    _action(
        actions.add_parser(
            "fire",
            help="fire a schedule trigger now",
            description="Deliver a schedule "
            "trigger's Scheduled Event, timed now, to its queue on a running `gluetrigger local`.",
        ),
        "a schedule trigger of the config",
        _fire,
    )
    fail = actions.add_parser(
        "fail",
        help="end a job run as failed, as Glue would tell it (to rehearse retries)",
        description="Put the Glue Job State Change event of a run of the trigger's job (the newest, "
        "unless --run) on the default bus of a running `gluetrigger local`: a trigger with `retry` retries it.",
    )
    fail.add_argument("--run", metavar="JOB_RUN_ID", help="the run that fails (default: the job's newest)")
    fail.add_argument("--state", choices=RETRY_STATES, default="FAILED", help="the state it ends in (default: FAILED)")
    _action(fail, "a trigger of the config (its job's run fails)", _fail)


def _action(parser: argparse.ArgumentParser, trigger_help: str, command: Callable[[argparse.Namespace], int]) -> None:
    """An action's TRIGGER argument, its --config and --endpoint-url, and what it runs."""
    parser.add_argument("trigger", metavar="TRIGGER", help=trigger_help)
    # Given before or after the action (`local --config X fire T`, `local fire T --config X`): a
    # subparser's own default would overwrite the value `local` parsed, so it has none.
    _config_option(parser, default=argparse.SUPPRESS)
    _endpoint_option(parser, default=argparse.SUPPRESS)
    parser.set_defaults(command=_guarded(command))


def _run_options(local: argparse.ArgumentParser) -> None:
    """``--verbose``, and ``--run-seconds`` and ``--max-concurrent-runs`` to rehearse bursts."""
    local.add_argument("--verbose", action="store_true", help="also write the handler's JSON log lines to stderr")
    local.add_argument(
        "--run-seconds",
        type=float,
        metavar="N",
        help="job runs stay RUNNING for at least N seconds (default: they succeed at once); needs moto's server",
    )
    local.add_argument(
        "--max-concurrent-runs",
        type=int,
        metavar="N",
        help="placeholder jobs allow N runs at once, unless their triggers set max_concurrent_runs (default: Glue's 1)",
    )


def _config_option(
    parser: argparse.ArgumentParser, default: str = DEFAULT_CONFIG, help_text: str = "default: ./triggers.yaml"
) -> None:
    parser.add_argument("--config", default=default, metavar="PATH", help=help_text)


def _endpoint_option(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    parser.add_argument(
        "--endpoint-url",
        default=default,
        metavar="URL",
        help="the emulator `gluetrigger local` printed (default: $AWS_ENDPOINT_URL, "
        "else the `gluetrigger local` of this user that serves --config)",
    )


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """``command`` with :class:`_CommandError` turned into its message on stderr and its exit code.

    A URL that is no URL (``--endpoint-url``, ``$AWS_ENDPOINT_URL``) is a usage error.
    """

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except _CommandError as exc:
            print(f"gluetrigger: {exc}", file=sys.stderr)
            return exc.code
        except EndpointError as exc:
            print(f"gluetrigger: {exc}", file=sys.stderr)
            return EXIT_USAGE

    return run


def _load(path: str) -> Config:
    from gluetrigger.tooling.config_file import load_config

    config = load_config(path)  # ConfigError: gluetrigger.tooling.cli prints each problem, exit 1
    for warning in config.warnings:
        print(warning, file=sys.stderr)
    return config


def _local(args: argparse.Namespace) -> int:
    from gluetrigger.tooling.local.bursts import BurstsError
    from gluetrigger.tooling.local.console import Console, program
    from gluetrigger.tooling.local.emulator import EmulatorError

    began = time.monotonic()
    bursts = _options(args)
    config = _load(args.config)
    demo = _demo(config, args.config) if args.once else None
    console = Console(config, program=program(sys.argv[0], shutil.which("gluetrigger"), sys.executable))
    service = _service(config, args, console, demo, bursts)
    _stop_on_signals()
    try:
        with _reaching(args.endpoint_url or "the embedded emulator"):
            service.start()
        console.banner(args.config, service.endpoint.url, embedded=service.embedded)
        console.bursts(bursts)
        if demo is None:
            _serve(args.config, service.endpoint.url, console)
        console.ready()  # the demo's instance is not recorded: it ends by itself, nothing else acts on it
        with _reaching(service.endpoint.url):
            problems = demo.run(service, console)
    except EmulatorError as exc:
        raise _CommandError(EXIT_USAGE, str(exc)) from None
    except BurstsError as exc:
        raise _CommandError(EXIT_FAILED, str(exc)) from None
    except KeyboardInterrupt:
        console.line("interrupted: stopping")
        return EXIT_INTERRUPTED
    finally:
        service.stop()
        if service.started:
            console.line("stopped: pollers and scheduler joined" + (", emulator shut down" if service.embedded else ""))
    return _verdict(console, problems, time.monotonic() - began)


def _demo(config: Config, config_path: str) -> Demo:
    """The ``--once`` scenario; a config it was not written for is a usage error."""
    from gluetrigger.tooling.local.demo import Demo, DemoConfigError

    try:
        return Demo(config, config_path)
    except DemoConfigError as exc:
        raise _CommandError(EXIT_USAGE, str(exc)) from None


def _options(args: argparse.Namespace) -> Bursts:
    """``--run-seconds`` and ``--max-concurrent-runs``; a usage error naming every option refused."""
    from gluetrigger.tooling.local.bursts import Bursts, problems

    bursts = Bursts(args.run_seconds, args.max_concurrent_runs)
    refused = problems(bursts)
    if not 0 <= args.port <= MAX_PORT:
        refused.insert(0, f"--port {args.port}: must be 1..{MAX_PORT}, or 0 for a free one")
    if args.once and bursts != Bursts():
        # The scenario's expected outcomes are those of runs that end at once, on jobs of Glue's default limit.
        refused.append(
            "--once plays the example as written: --run-seconds and --max-concurrent-runs are for "
            "`gluetrigger local` without --once"
        )
    if refused:
        raise _CommandError(EXIT_USAGE, "; ".join(refused))
    return bursts


def _service(
    config: Config, args: argparse.Namespace, console: Console, demo: Demo | None, bursts: Bursts
) -> LocalService:
    """The local service on the embedded emulator or on ``--endpoint-url``, its outcomes shown on ``console``."""
    from gluetrigger.tooling.local.emulator import EmulatorProcess
    from gluetrigger.tooling.local.endpoint import Endpoint
    from gluetrigger.tooling.local.outcomes import OutcomeLog
    from gluetrigger.tooling.local.service import LocalService, ServiceOptions

    outcomes = OutcomeLog()
    outcomes.watch(console.outcome)
    options = ServiceOptions(
        log_stream=sys.stderr if args.verbose else None, observe=demo.observe if demo else None, bursts=bursts
    )
    return LocalService(
        config,
        outcomes,
        emulator=Endpoint(args.endpoint_url) if args.endpoint_url else EmulatorProcess(args.port),
        options=options,
    )


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM (a supervisor, `kill`) both stop cleanly, as KeyboardInterrupt.

    Also when the process was started with SIGINT ignored (as a shell without job control starts
    background commands).
    """
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)


def _verdict(console: Console, problems: list[str], took: float) -> int:
    """Print whether the demo's outcomes were the expected ones; its exit code."""
    if problems:
        console.line(f"demo FAILED after {took:.1f} s; what differed from the example's expectations:")
        for problem in problems:
            console.line(f"  {problem}")
        return EXIT_FAILED
    console.line(f"demo passed in {took:.1f} s: every outcome is what the example expects")
    return EXIT_OK


def _serve(config_path: str, url: str, console: Console) -> NoReturn:
    """Note that this instance serves ``config_path`` (for `local fire` and `runs`), say ready, run until stopped."""
    from gluetrigger.tooling.local import session_file

    recorded = _record(config_path, url, console)
    try:
        console.ready()
        _until_interrupted()
    finally:
        if recorded is not None:
            session_file.forget(recorded)


def _record(config_path: str, url: str, console: Console) -> Path | None:
    """The record of this instance; None, after a line saying so, when there is no private place for it."""
    from gluetrigger.tooling.local import session_file

    try:
        older = session_file.find(config_path).serving
        recorded = session_file.record(config_path, url)
    except (session_file.SessionDirError, OSError) as exc:
        reach = f"`local fire` and `runs` reach this instance only with --endpoint-url {url}"
        print(f"gluetrigger: {exc}; {reach}", file=sys.stderr)
        return None
    if older is not None:
        console.line(
            f"note: another `gluetrigger local` (pid {older.pid}) serves this config at {older.endpoint}; "
            "`local fire` and `runs` reach this one, the newest, while it runs"
        )
    return recorded


def _until_interrupted() -> NoReturn:
    while True:
        time.sleep(3600)  # Ctrl-C or SIGTERM raises KeyboardInterrupt here


def _config_trigger(args: argparse.Namespace) -> Trigger:
    """The trigger ``args.trigger`` names in ``args.config``; a usage error naming the known ones if none."""
    config = _load(args.config)
    try:
        return config.trigger(args.trigger)
    except KeyError:
        known = ", ".join(t.name for t in config.triggers)
        raise _CommandError(EXIT_USAGE, f"{args.trigger!r} is not in {args.config} (triggers: {known})") from None


def _fire(args: argparse.Namespace) -> int:
    from gluetrigger.core.model import ScheduleSource
    from gluetrigger.tooling.local.endpoint import activate
    from gluetrigger.tooling.local.provision import queue_name
    from gluetrigger.tooling.local.scheduler import scheduled_event, send_scheduled_event

    trigger = _config_trigger(args)
    if not isinstance(trigger.source, ScheduleSource):
        raise _CommandError(
            EXIT_USAGE, f"{trigger.name} is a {trigger.source.type} trigger; only schedule triggers fire"
        )
    endpoint = _action_endpoint(args)
    activate(endpoint)
    with _reaching(endpoint.url):
        sqs = endpoint.client("sqs")
        try:
            url = sqs.get_queue_url(QueueName=queue_name(trigger.name))["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            raise _CommandError(
                EXIT_FAILED, f"{endpoint.url} has no queue for {trigger.name}: is `gluetrigger local` running there?"
            ) from None
        account = endpoint.client("sts").get_caller_identity()["Account"]
        event = scheduled_event(trigger, datetime.now(UTC), account, endpoint.region)
        send_scheduled_event(sqs, url, event)
    print(f"fired {trigger.name}: Scheduled Event {event['id']} at {event['time']}")
    return EXIT_OK


def _fail(args: argparse.Namespace) -> int:
    from gluetrigger.tooling.local.endpoint import activate
    from gluetrigger.tooling.local.runs import list_runs, put_state_change

    trigger = _config_trigger(args)
    job = trigger.job.name
    endpoint = _action_endpoint(args)
    activate(endpoint)
    with _reaching(endpoint.url):
        runs = list_runs(endpoint.client("glue"), job)
        chosen = [run for run in runs if run.run_id == args.run] if args.run else runs[-1:]
        if not chosen:
            which = f"no run {args.run} of job {job}" if args.run else f"no run of job {job} yet"
            raise _CommandError(EXIT_FAILED, f"{endpoint.url} has {which}")
        try:
            event_id = put_state_change(endpoint.client("events"), chosen[0], args.state)
        except GlueTriggerError as exc:
            raise _CommandError(EXIT_FAILED, f"{endpoint.url}: {exc}") from None
    retried = "" if trigger.retry is not None else f" ({trigger.name} has no retry: it will ignore it)"
    print(f"failed {chosen[0].run_id} of {job}: Glue Job State Change {event_id} ({args.state}){retried}")
    return EXIT_OK


def _runs(args: argparse.Namespace) -> int:
    from gluetrigger.tooling.local.console import table
    from gluetrigger.tooling.local.runs import format_runs, list_runs

    job, among, carrying = _runs_wanted(args)
    where, glue = _glue(args)
    with _reaching(where):
        try:
            runs = list_runs(glue, job, among=among, carrying=carrying)
        except glue.exceptions.EntityNotFoundException:
            raise _CommandError(EXIT_FAILED, f"{where} has no Glue job named {job!r}") from None
    if args.json:
        json.dump([run.to_json() for run in runs], sys.stdout, indent=2)
        print()
    elif runs:
        print(table(format_runs(runs)))
    else:
        print("no job runs")
    return EXIT_OK


def _runs_wanted(args: argparse.Namespace) -> tuple[str | None, list[str] | None, str | None]:
    """The job (or jobs) to list, and the run-key argument runs must carry.

    --job's; --trigger's job, and only the runs that carry its run-key argument; else with --aws the config's jobs.
    """
    if args.aws and args.endpoint_url:
        raise _CommandError(EXIT_USAGE, "--aws and --endpoint-url name two places; give one")
    if args.trigger is None:
        among = sorted({t.job.name for t in _load(args.config).triggers}) if args.aws and not args.job else None
        return args.job, among, None
    from gluetrigger.tooling.operations import unknown_trigger

    config = _load(args.config)
    if (unknown := unknown_trigger(config, args.trigger, args.config)) is not None:
        raise _CommandError(EXIT_USAGE, unknown)
    trigger = config.trigger(args.trigger)
    if trigger.job.run_key_argument is None:
        raise _CommandError(EXIT_USAGE, f"{trigger.name} sets run_key_argument: false; its runs carry no run key")
    return trigger.job.name, None, trigger.job.run_key_argument


def _glue(args: argparse.Namespace) -> tuple[str, Any]:
    """Where the runs are (for messages) and a Glue client there: AWS with --aws, else the emulator."""
    from gluetrigger.tooling.local.endpoint import activate

    if args.aws:
        import boto3

        session = boto3.session.Session()
        return f"AWS ({session.region_name or 'no region'})", session.client("glue")
    endpoint = _endpoint(args.endpoint_url, args.config)
    activate(endpoint)
    return endpoint.url, endpoint.client("glue")


def _action_endpoint(args: argparse.Namespace) -> Endpoint:
    """The emulator an action reaches (``local --port N ACTION``: the embedded one of `gluetrigger local --port N`)."""
    return _endpoint(args.endpoint_url or (f"http://127.0.0.1:{args.port}" if args.port else None), args.config)


def _endpoint(url: str | None, config_path: str) -> Endpoint:
    """``url``, else $AWS_ENDPOINT_URL, else the endpoint of this user's `gluetrigger local` serving ``config_path``."""
    from gluetrigger.tooling.local.endpoint import Endpoint

    return Endpoint(url or os.environ.get("AWS_ENDPOINT_URL") or _running(config_path))


def _running(config_path: str) -> str:
    """The endpoint of the `gluetrigger local` serving ``config_path``; a usage error, naming what runs, if none."""
    from gluetrigger.tooling.local import session_file

    try:
        found = session_file.find(config_path)
    except (session_file.SessionDirError, OSError) as exc:
        raise _CommandError(EXIT_USAGE, f"{exc}; or pass --endpoint-url") from None
    if found.serving is not None:
        return found.serving.endpoint
    config = os.path.realpath(config_path)
    elsewhere = "; ".join(f"one runs for {other.config} at {other.endpoint}" for other in found.others)
    raise _CommandError(
        EXIT_USAGE,
        f"no `gluetrigger local` is running for {config}{f' ({elsewhere})' if elsewhere else ''}: "
        f"start it with `gluetrigger local --config {shlex.quote(config)}`, or pass --endpoint-url",
    )


@contextmanager
def _reaching(url: str) -> Iterator[None]:
    """Turn an unreachable endpoint or an AWS error into one line and exit code 1."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    try:
        yield
    except EndpointConnectionError:
        raise _CommandError(EXIT_FAILED, f"cannot reach {url}: is the emulator running?") from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise _CommandError(EXIT_FAILED, f"{url}: {error.get('Code')}: {error.get('Message')}") from None
    except BotoCoreError as exc:
        raise _CommandError(EXIT_FAILED, f"{url}: {exc}") from None


# Shared with the operators' commands (gluetrigger.tooling.operations): one way to fail, find an emulator, reach it.
CommandError, guarded, endpoint_for, reaching = _CommandError, _guarded, _endpoint, _reaching
