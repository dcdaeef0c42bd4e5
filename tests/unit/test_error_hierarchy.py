"""Every exception gluetrigger raises on purpose shares one base class, whatever package raises it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import gluetrigger
from gluetrigger.core.errors import GlueTriggerError

# Modules whose import needs more than the runtime (the CDK) are checked by the infra suite.
SKIPPED_PREFIXES = ("gluetrigger.__main__",)


def own_exception_classes() -> list[type[BaseException]]:
    found: list[type[BaseException]] = []
    for info in pkgutil.walk_packages(gluetrigger.__path__, prefix="gluetrigger."):
        if info.name.startswith(SKIPPED_PREFIXES):
            continue
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == info.name:
                found.append(value)
    return found


def test_every_gluetrigger_exception_derives_from_the_common_base() -> None:
    classes = own_exception_classes()
    assert len(classes) >= 10
    assert [c.__qualname__ for c in classes if not issubclass(c, GlueTriggerError)] == []


def test_infra_exceptions_derive_from_the_common_base() -> None:
    import infra.deploy_settings

    own = [
        value
        for _, value in inspect.getmembers(infra.deploy_settings, inspect.isclass)
        if issubclass(value, BaseException) and value.__module__ == "infra.deploy_settings"
    ]
    assert own
    assert all(issubclass(c, GlueTriggerError) for c in own)
