"""One repr, eq and hash for the runtime's frozen dataclasses, instead of one compiled per class.

``@dataclass(frozen=True)`` compiles six methods for each class, one ``exec`` apiece (about
0.2 ms each on Python 3.11 and 3.12, and a cold start loads some 40 such classes of the runtime):
__init__, __setattr__ and __delattr__, which differ by class, and __repr__, __eq__ and __hash__,
which only read the fields. A class declared ``@dataclass(frozen=True, eq=False, repr=False)``
on :class:`FrozenValue` gets those three from here instead, and they answer as the generated
ones do: the same text, equal only to an instance of the same class with equal fields, the
same hash. They run slower than the generated ones (each reads the class's fields), so they
suit values that are compared and printed by tests and logs of failures, not on every event.
"""

from __future__ import annotations

from dataclasses import Field, fields
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["FrozenValue"]


class FrozenValue:
    """The base of a ``@dataclass(frozen=True, eq=False, repr=False)``: its repr, eq and hash."""

    __slots__ = ()

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in _fields(self) if f.repr)
        return f"{type(self).__qualname__}({shown})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _compared(self) == _compared(other)

    def __hash__(self) -> int:
        # As a frozen dataclass hashes: the fields that compare, unless a field says otherwise.
        return hash(tuple(getattr(self, f.name) for f in _fields(self) if (f.compare if f.hash is None else f.hash)))


def _fields(value: FrozenValue) -> tuple[Field[Any], ...]:
    return fields(cast("DataclassInstance", value))


def _compared(value: FrozenValue) -> tuple[object, ...]:
    return tuple(getattr(value, f.name) for f in _fields(value) if f.compare)
