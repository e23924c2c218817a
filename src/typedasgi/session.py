"""``Session``: the session dict, remembering whether the request read or changed it.

Why: the session middleware sends ``Vary: Cookie`` only when the session was read and a new
``Set-Cookie`` only when it changed, so cacheable pages stay cacheable and an unchanged session
costs no signing. ``request.session`` marks it read; every mutating dict method marks it changed.
A value changed in place (``session["cart"].append(item)``) is not seen: assign it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from typing_extensions import Self

__all__ = ["Session"]

_MISSING: Any = object()


class Session(dict[str, Any]):
    """A ``dict`` (values are whatever the app stores) with ``accessed`` and ``modified`` flags."""

    accessed: bool = False
    modified: bool = False

    def mark_accessed(self) -> None:
        self.accessed = True

    def mark_modified(self) -> None:
        self.accessed = True
        self.modified = True

    def __setitem__(self, key: str, value: Any) -> None:
        self.mark_modified()
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.mark_modified()
        super().__delitem__(key)

    def clear(self) -> None:
        self.mark_modified()
        super().clear()

    def pop(self, key: str, default: Any = _MISSING, /) -> Any:
        if key in self:
            self.mark_modified()
        return super().pop(key) if default is _MISSING else super().pop(key, default)

    def popitem(self) -> tuple[str, Any]:
        item = super().popitem()
        self.mark_modified()
        return item

    def setdefault(self, key: str, default: Any = None, /) -> Any:
        if key not in self:
            self.mark_modified()
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:  # dict.update's own forms, checked by dict
        self.mark_modified()
        super().update(*args, **kwargs)

    def __ior__(self, other: Mapping[str, Any] | Iterable[tuple[str, Any]], /) -> Self:  # type: ignore[override,misc]  # dict's overloads, written as one union
        self.mark_modified()
        super().update(other)
        return self
