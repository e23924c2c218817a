"""The values a request is made of: URLs, headers, query strings, forms, uploads — and app odds and ends.

The value types live in one module per concept (:mod:`typedasgi.urls`, :mod:`typedasgi.headers`,
:mod:`typedasgi.multidict`, :mod:`typedasgi.uploads`) and are re-exported here, the Starlette-compatible
import path. This module itself holds the small helpers: :class:`State`, :class:`CommaSeparatedStrings`,
:class:`Secret`.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, MutableMapping, Sequence
from typing import Any, overload

from typedasgi.headers import HeaderCarrier, Headers, MutableHeaders, RawHeaders
from typedasgi.multidict import ImmutableMultiDict, MultiDict, QueryParams
from typedasgi.uploads import FormData, UploadFile
from typedasgi.urls import URL, Address, URLComponents, URLPath

__all__ = [
    "URL",
    "StateKeyError",
    "Address",
    "CommaSeparatedStrings",
    "FormData",
    "HeaderCarrier",
    "Headers",
    "ImmutableMultiDict",
    "MultiDict",
    "MutableHeaders",
    "QueryParams",
    "RawHeaders",
    "Secret",
    "State",
    "URLComponents",
    "URLPath",
    "UploadFile",
]


class StateKeyError(KeyError, AttributeError):
    """A state value nothing stored; both kinds, so ``getattr(state, name, default)`` and ``state.get`` work."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class State(MutableMapping[str, Any]):
    """An attribute bag over a dict: ``state.db = ...``, ``state.db``; also a mapping, ``state["db"]``.

    Being both lets a typed app describe its state either as a class of
    attributes or as a ``TypedDict`` (``Request[MyState]``); at run time it is
    this one object over the lifespan's state dict. Values are whatever the
    application stores, hence ``Any``.
    """

    _state: dict[str, Any]

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_state", {} if state is None else state)

    def __setattr__(self, name: str, value: Any) -> None:
        self._state[name] = value

    def __getattr__(self, name: str) -> Any:
        try:
            # Through __dict__: copy/pickle probe attributes before __init__ has run.
            return self.__dict__["_state"][name]
        except KeyError:
            if "_state" not in self.__dict__ or name.startswith("__"):
                raise AttributeError(name) from None
            raise self._missing(name) from None

    def _missing(self, name: str) -> Exception:
        """The error for reading ``name`` that nothing stored (a subclass may explain why)."""
        return StateKeyError(f"'{type(self).__name__}' object has no attribute '{name}' (nothing stored it yet)")

    def __delattr__(self, name: str) -> None:
        try:
            del self._state[name]
        except KeyError:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'") from None

    def __getitem__(self, key: str) -> Any:
        try:
            return self._state[key]
        except KeyError:
            raise self._missing(key) from None

    def __setitem__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def __delitem__(self, key: str) -> None:
        del self._state[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._state)

    def __len__(self) -> int:
        return len(self._state)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._state!r})"


class _StoredValueFirst:
    """A mapping method of ``State`` that gives way to a value stored under its name.

    Starlette's ``State`` has no methods: there ``state.items = []`` then ``state.items``
    is the list, and a lifespan state with an ``items`` key reads the same way here.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.method: Any = getattr(MutableMapping, name)

    def __get__(self, instance: State | None, owner: type[State] | None = None) -> Any:
        if instance is None:
            return self.method
        stored: dict[str, Any] | None = instance.__dict__.get("_state")
        if stored is not None and self.name in stored:
            return stored[self.name]
        return self.method.__get__(instance, owner)


for _name in ("keys", "items", "values", "get", "pop", "popitem", "clear", "update", "setdefault"):
    setattr(State, _name, _StoredValueFirst(_name))


class CommaSeparatedStrings(Sequence[str]):
    """``"a, b, 'c d'"`` as a sequence of strings (shell-style quotes group)."""

    def __init__(self, value: str | Sequence[str]) -> None:
        if isinstance(value, str):
            lexer = shlex.shlex(value, posix=True)
            lexer.whitespace = ","
            lexer.whitespace_split = True
            self._items = [item.strip() for item in lexer]
        else:
            self._items = list(value)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"

    def __str__(self) -> str:
        return ", ".join(repr(item) for item in self._items)


class Secret:
    """A string that keeps out of reprs and tracebacks; ``str(secret)`` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}('**********')"

    def __str__(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)
