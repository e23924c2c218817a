"""Multi-dicts: mappings where a key may repeat (query strings, form fields).

``QueryParams`` built from the raw query string stores the bytes and parses on first access.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from functools import cached_property
from typing import Any, TypeVar, Union, cast, overload
from urllib.parse import parse_qsl, urlencode

from typing_extensions import TypeAlias, TypeIs

__all__ = ["ImmutableMultiDict", "MultiDict", "MultiDictInput", "QueryParams"]

K = TypeVar("K")
V = TypeVar("V")
V_co = TypeVar("V_co", covariant=True)
T = TypeVar("T")

MultiDictInput: TypeAlias = Union["ImmutableMultiDict[K, V]", Mapping[K, V], Iterable[tuple[K, V]]]
"""What a multi-dict is built or updated from: another multi-dict, a mapping or ``(key, value)`` pairs."""


def _is_mapping(arg: MultiDictInput[K, V]) -> TypeIs[Mapping[K, V]]:
    # isinstance() alone would also narrow the pairs branch to Mapping[tuple[K, V], Unknown] under pyright
    return isinstance(arg, Mapping)


def _as_pairs(arg: MultiDictInput[K, V]) -> list[tuple[K, V]]:
    if _is_mapping(arg):
        if isinstance(arg, ImmutableMultiDict):
            return arg.multi_items()
        return list(arg.items())
    return list(arg)


def _grouped(pairs: list[tuple[object, object]]) -> dict[object, list[object]]:
    groups: dict[object, list[object]] = {}
    for key, value in pairs:
        groups.setdefault(key, []).append(value)
    return groups


class ImmutableMultiDict(Mapping[K, V_co]):
    """A mapping where a key may repeat: ``d[k]`` is the last value, ``getlist(k)`` all of them."""

    _list: list[tuple[K, V_co]]
    _dict: dict[K, V_co]

    @overload
    def __init__(self, /) -> None: ...
    @overload
    def __init__(self, arg: MultiDictInput[K, V_co], /) -> None: ...
    @overload
    def __init__(
        self: ImmutableMultiDict[str, V_co],  # pyright: ignore[reportInvalidTypeVarUse]  # keyword values make the keys str, as typeshed's dict.__init__
        arg: MultiDictInput[str, V_co] = ...,
        /,
        **kwargs: V_co,
    ) -> None: ...
    def __init__(self, arg: MultiDictInput[Any, V_co] = (), /, **kwargs: V_co) -> None:
        items = _as_pairs(arg)
        if kwargs:
            items += kwargs.items()
        self._list = items
        self._dict = dict(items)

    def getlist(self, key: K) -> list[V_co]:
        """Every value of ``key`` in order (``[]`` when absent)."""
        return [v for k, v in self._list if k == key]

    def multi_items(self) -> list[tuple[K, V_co]]:
        """Every ``(key, value)`` pair in order, repeats included."""
        return list(self._list)

    def keys(self) -> KeysView[K]:
        return self._dict.keys()

    def values(self) -> ValuesView[V_co]:
        return self._dict.values()

    def items(self) -> ItemsView[K, V_co]:
        return self._dict.items()

    def __getitem__(self, key: K) -> V_co:
        return self._dict[key]

    @overload
    def get(self, key: K, /) -> V_co | None: ...
    @overload
    def get(self, key: K, /, default: V_co) -> V_co: ...  # type: ignore[misc]  # pyright: ignore[reportGeneralTypeIssues]  # covariant type as a parameter, as Mapping.get
    @overload
    def get(self, key: K, /, default: T) -> V_co | T: ...
    def get(self, key: K, /, default: object = None) -> object:  # default by keyword too, as Mapping.get
        return self._dict.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __iter__(self) -> Iterator[K]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def __eq__(self, other: object) -> bool:
        """Equal when both hold the same keys, each with the same values in the same order (keys in any order)."""
        if not isinstance(other, ImmutableMultiDict):
            return NotImplemented
        other_pairs = cast("ImmutableMultiDict[object, object]", other)  # isinstance() leaves the type arguments unknown
        return _grouped(list(self._list)) == _grouped(list(other_pairs._list))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.multi_items()!r})"


class MultiDict(ImmutableMultiDict[K, V]):
    """The mutable multi-dict."""

    def __setitem__(self, key: K, value: V) -> None:
        self.setlist(key, [value])

    def __delitem__(self, key: K) -> None:
        del self._dict[key]
        self._list = [(k, v) for k, v in self._list if k != key]

    @overload
    def pop(self, key: K) -> V | None: ...
    @overload
    def pop(self, key: K, default: V | T) -> V | T: ...
    def pop(self, key: K, default: object = None) -> object:
        """The key's last value, removed with all its others; ``default`` (None) when missing, as Starlette's."""
        value = self._dict.pop(key, default)
        self._list = [(k, v) for k, v in self._list if k != key]
        return value

    def popitem(self) -> tuple[K, V]:
        key, value = self._dict.popitem()
        self._list = [(k, v) for k, v in self._list if k != key]
        return key, value

    def poplist(self, key: K) -> list[V]:
        values = self.getlist(key)
        if values:
            del self[key]
        return values

    def clear(self) -> None:
        self._dict.clear()
        self._list.clear()

    def setdefault(self, key: K, default: V) -> V:
        if key not in self._dict:
            self.append(key, default)
            return default
        return self._dict[key]

    def setlist(self, key: K, values: list[V]) -> None:
        """Replace all values of ``key`` with ``values`` (an empty list removes the key)."""
        if not values:
            self.pop(key, None)
            return
        self._list = [(k, v) for k, v in self._list if k != key]
        self._list += [(key, v) for v in values]
        self._dict[key] = values[-1]

    def append(self, key: K, value: V) -> None:
        self._list.append((key, value))
        self._dict[key] = value

    @overload
    def update(self, arg: MultiDictInput[K, V] = ..., /) -> None: ...
    @overload
    def update(self: MultiDict[str, V], arg: MultiDictInput[str, V] = ..., /, **kwargs: V) -> None: ...
    def update(self, arg: MultiDictInput[Any, V] = (), /, **kwargs: V) -> None:
        """Replace the keys present in the arguments (keeping their repeats), leave the others."""
        new = _as_pairs(arg)
        if kwargs:
            new += kwargs.items()
        replaced = {k for k, _ in new}
        self._list = [(k, v) for k, v in self._list if k not in replaced] + new
        self._dict.update(new)


class QueryParams(ImmutableMultiDict[str, str]):
    """Query-string parameters, parsed on first access.

    ``QueryParams(scope["query_string"])`` only stores the bytes. Parsing is
    linear in the length of the string and keeps every parameter, so a hostile
    query with thousands of parameters costs time in proportion to its size,
    never more; the server's own request-line limit bounds that size.
    """

    def __init__(
        self,
        arg: ImmutableMultiDict[str, str] | Mapping[str, str] | Iterable[tuple[str, str]] | str | bytes = "",
        /,
        **kwargs: str,
    ) -> None:
        if isinstance(arg, (str, bytes)):
            self._raw = arg
            if kwargs:  # rare: parse now and append
                super().__init__(self._list, **kwargs)
        else:
            super().__init__([(str(k), str(v)) for k, v in _as_pairs(arg)], **kwargs)

    @cached_property
    def _list(self) -> list[tuple[str, str]]:  # type: ignore[override]  # a non-data descriptor: the base's assignment still lands in __dict__
        raw = self._raw
        return parse_qsl(raw.decode("latin-1") if isinstance(raw, bytes) else raw, keep_blank_values=True)

    @cached_property
    def _dict(self) -> dict[str, str]:  # type: ignore[override]  # same: computed once, then a plain attribute
        return dict(self._list)

    def __str__(self) -> str:
        return urlencode(self._list)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"
