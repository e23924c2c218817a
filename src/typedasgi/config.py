"""Settings from the environment and a ``.env`` file, cast to the types the code wants.

Precedence: the environment, then the file, then the default. ``config(key, cast=int)``
is typed ``int`` by its overloads, so a settings module is checked like any other code.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from enum import Enum
from typing import Final, Literal, TypeVar, overload

__all__ = ["Config", "Environ", "EnvironError", "environ", "undefined"]

T = TypeVar("T")
D = TypeVar("D")


class EnvironError(Exception):
    """An environment variable was changed after the configuration had read it."""


class Environ(MutableMapping[str, str]):
    """``os.environ`` that refuses changes to keys already read.

    Settings are read once, at import; a test that sets a variable afterwards
    would silently have no effect, so it fails loudly instead.
    """

    def __init__(self, environ: MutableMapping[str, str] = os.environ) -> None:
        self._environ = environ
        self._has_been_read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self._has_been_read.add(key)  # also on a miss: the config has decided "absent"
        return self._environ[key]

    def __setitem__(self, key: str, value: str) -> None:
        if key in self._has_been_read:
            raise EnvironError(f"Cannot set environ[{key!r}]: the configuration has already read it")
        self._environ[key] = value

    def __delitem__(self, key: str) -> None:
        if key in self._has_been_read:
            raise EnvironError(f"Cannot delete environ[{key!r}]: the configuration has already read it")
        del self._environ[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)


environ: Final = Environ()
"""The process environment, guarded: what :class:`Config` reads by default."""


class _Undefined(Enum):
    UNDEFINED = "undefined"


_UNDEFINED: Final = _Undefined.UNDEFINED
undefined: Final = _UNDEFINED
"""``default=undefined`` is the same as giving no default: a missing key raises ``KeyError``."""
_BOOLS: Final = {"true": True, "1": True, "false": False, "0": False}


def _read_env_file(path: str | os.PathLike[str], encoding: str) -> dict[str, str]:
    """``KEY=VALUE`` lines; blank lines, ``# comments`` and lines without ``=`` are skipped."""
    values: dict[str, str] = {}
    with open(path, encoding=encoding) as file:
        for line in file:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, _, value = line.partition("=")
            key = key.strip()
            if key.startswith("export "):
                key = key[len("export ") :].strip()
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            values[key] = value
    return values


class Config:
    """Read settings: ``config = Config(".env")``, then ``DEBUG = config("DEBUG", cast=bool, default=False)``.

    A missing ``env_file`` is a warning, not an error, so the same code runs
    where the settings come from the real environment only.
    """

    def __init__(
        self,
        env_file: str | os.PathLike[str] | None = None,
        environ: Mapping[str, str] = environ,
        env_prefix: str = "",
        encoding: str = "utf-8",
    ) -> None:
        self.environ = environ
        self.env_prefix = env_prefix
        self.file_values: dict[str, str] = {}
        if env_file is not None:
            if os.path.isfile(env_file):
                self.file_values = _read_env_file(env_file, encoding)
            else:
                warnings.warn(f"Config file '{os.fspath(env_file)}' not found.", stacklevel=2)

    @overload
    def __call__(self, key: str, cast: None = None) -> str: ...
    @overload
    def __call__(self, key: str, cast: None = None, *, default: Literal[_Undefined.UNDEFINED]) -> str: ...
    @overload
    def __call__(self, key: str, cast: Callable[[str], T], default: Literal[_Undefined.UNDEFINED]) -> T: ...
    @overload
    def __call__(self, key: str, cast: None = None, *, default: D) -> str | D: ...
    @overload
    def __call__(self, key: str, cast: None, default: D) -> str | D: ...
    @overload
    def __call__(self, key: str, cast: Callable[[str], T]) -> T: ...
    @overload
    def __call__(self, key: str, cast: Callable[[str], T], default: None) -> T | None: ...
    @overload
    def __call__(self, key: str, cast: Callable[[str], T], default: object) -> T: ...
    def __call__(
        self, key: str, cast: Callable[[str], object] | None = None, default: object = _UNDEFINED
    ) -> object:
        return self.get(key, cast, default)

    @overload
    def get(self, key: str, cast: None = None) -> str: ...
    @overload
    def get(self, key: str, cast: None = None, *, default: Literal[_Undefined.UNDEFINED]) -> str: ...
    @overload
    def get(self, key: str, cast: Callable[[str], T], default: Literal[_Undefined.UNDEFINED]) -> T: ...
    @overload
    def get(self, key: str, cast: None = None, *, default: D) -> str | D: ...
    @overload
    def get(self, key: str, cast: None, default: D) -> str | D: ...
    @overload
    def get(self, key: str, cast: Callable[[str], T]) -> T: ...
    @overload
    def get(self, key: str, cast: Callable[[str], T], default: None) -> T | None: ...
    @overload
    def get(self, key: str, cast: Callable[[str], T], default: object) -> T: ...
    def get(self, key: str, cast: Callable[[str], object] | None = None, default: object = _UNDEFINED) -> object:
        """The value of ``env_prefix + key``, cast; so is a default other than None (as Starlette casts it)."""
        key = self.env_prefix + key
        if key in self.environ:
            return self._cast(key, self.environ[key], cast)
        if key in self.file_values:
            return self._cast(key, self.file_values[key], cast)
        if default is _UNDEFINED:
            raise KeyError(f"Config '{key}' is missing, and has no default.")
        if default is None:
            return None
        return self._cast(key, default, cast)  # cast=float, default=1: 1.0, as from the environment

    @staticmethod
    def _cast(key: str, value: object, cast: Callable[[str], object] | None) -> object:
        if cast is None:
            return value
        if cast is bool and isinstance(value, str):
            try:
                return _BOOLS[value.lower()]
            except KeyError:
                raise ValueError(
                    f"Config '{key}' has value '{value}'. Not a valid bool (use true/false/1/0)."
                ) from None
        try:
            return cast(value)  # type: ignore[arg-type]  # a default may be of any type the cast accepts
        except (TypeError, ValueError) as exc:
            name = getattr(cast, "__name__", repr(cast))
            raise ValueError(f"Config '{key}' has value '{value}'. Not a valid {name}.") from exc

