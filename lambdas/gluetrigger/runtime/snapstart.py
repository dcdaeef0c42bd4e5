"""Lambda SnapStart: what init leaves in the snapshot, and what is made again after each restore.

With SnapStart (Python 3.12+), Lambda runs the init phase once per published version, snapshots
the memory, and starts every new execution environment from that snapshot. Init therefore does
the expensive work: the handler's import, the compiled config, the clients and their service
models (:mod:`gluetrigger.handler` builds the service at init), and, just before the snapshot,
every inbound schema. Three things must not be shared between environments restored from one
snapshot, and :func:`after_restore` makes them again, before the first event:

- credentials: with SnapStart, Lambda hands functions their role's credentials through the
  container credential provider (``AWS_CONTAINER_CREDENTIALS_FULL_URI``), not as access keys in the
  environment, and those in the snapshot may have expired or be the snapshotting environment's;
- connections: sockets open when the snapshot was taken are dead in a restored environment;
- randomness: ``random``'s state (botocore's retry jitter draws from it) would repeat in every
  restored environment.

So the hook drops the process's boto3 session and clients (:func:`gluetrigger.runtime.aws_clients.reset`;
the parsed service models are kept), reseeds ``random`` from the OS, and rebuilds the service
on new clients. ``uuid4`` and ``secrets`` read the OS's entropy on every call and need nothing.

The hooks come from ``snapshot_restore_py``, which Lambda's Python runtimes ship; elsewhere it is
absent and :func:`register` does nothing.
"""

from __future__ import annotations

import importlib
import random
from typing import TYPE_CHECKING

from gluetrigger.runtime import aws_clients
from gluetrigger.runtime.inbound import InboundValidator

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["after_restore", "before_snapshot", "register"]


def register(rebuild: Callable[[], object]) -> bool:
    """Register the hooks with Lambda's runtime; False (nothing registered) outside SnapStart's runtimes.

    ``rebuild`` builds the handler's service again (on clients made after the restore).
    """
    try:
        hooks = importlib.import_module("snapshot_restore_py")
    except ModuleNotFoundError:
        return False
    hooks.register_before_snapshot(before_snapshot)
    hooks.register_after_restore(after_restore, rebuild)
    return True


def before_snapshot() -> None:
    """Compile what the first events would otherwise compile: in the snapshot, no restore pays for it."""
    InboundValidator.warm()


def after_restore(rebuild: Callable[[], object]) -> None:
    """New credentials, connections and random state for this environment, then the service again."""
    aws_clients.reset()
    random.seed()  # from os.urandom
    rebuild()
