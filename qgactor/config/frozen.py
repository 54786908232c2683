"""Read-only ``list`` and ``dict`` for config snapshots.

A loaded config is shared by every subscriber, so its containers must not change under them.
:class:`FrozenList` and :class:`FrozenDict` subclass ``list`` and ``dict`` (``isinstance`` checks,
equality with plain lists/dicts and JSON encoding keep working) but every mutating method raises
``TypeError``. Sets become ``frozenset``; ``tuple`` fields stay tuples.
"""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = ["FrozenDict", "FrozenList", "thaw"]


def _readonly(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
    raise TypeError(
        f"this {type(self).__name__} is part of a config snapshot and cannot be changed; "
        "build a new config with attrs.evolve() and save it instead"
    )


class FrozenList(list):  # type: ignore[type-arg]
    """A ``list`` whose mutating methods raise ``TypeError``. Hashable."""

    __slots__ = ()
    append = extend = insert = remove = pop = clear = sort = reverse = _readonly
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _readonly

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (list(self),))

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenList:
        return self


class FrozenDict(dict):  # type: ignore[type-arg]
    """A ``dict`` whose mutating methods raise ``TypeError``. Hashable if its values are."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _readonly
    pop = popitem = clear = update = setdefault = _readonly

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self


def thaw(value: Any) -> Any:
    """Return a plain, mutable deep copy of a (possibly frozen) container tree of TOML values."""
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [thaw(v) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    return value
