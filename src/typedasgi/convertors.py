"""Path parameter convertors: ``{name:int}`` in a route path picks ``IntegerConvertor``."""

from __future__ import annotations

import math
import uuid
from typing import Any, ClassVar, Generic, TypeVar

T = TypeVar("T")


class UnfitPathValue(ValueError, AssertionError):
    """A value ``to_string`` cannot put into a URL (``"a/b"`` for ``{name}``, a negative ``{id:int}``).

    A ``ValueError``; also an ``AssertionError``, which is what Starlette's convertors raise
    (with ``assert``, gone under ``python -O``), so code catching either keeps working.
    """


class Convertor(Generic[T]):
    """Turns one path segment (matched by ``regex``) into a ``T`` and back."""

    regex: ClassVar[str] = ""

    def convert(self, value: str) -> T:
        raise NotImplementedError()

    def to_string(self, value: T) -> str:
        raise NotImplementedError()


class StringConvertor(Convertor[str]):
    regex = "[^/]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        value = str(value)
        if "/" in value:
            raise UnfitPathValue("May not contain path separators")
        if not value:
            raise UnfitPathValue("Must not be empty")
        return value


class PathConvertor(Convertor[str]):
    regex = ".*"

    def convert(self, value: str) -> str:
        return str(value)

    def to_string(self, value: str) -> str:
        return str(value)


class IntegerConvertor(Convertor[int]):
    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        value = int(value)
        if value < 0:
            raise UnfitPathValue("Negative integers are not supported")
        return str(value)


class FloatConvertor(Convertor[float]):
    regex = r"[0-9]+(\.[0-9]+)?"

    def convert(self, value: str) -> float:
        return float(value)

    def to_string(self, value: float) -> str:
        value = float(value)
        if value < 0.0:
            raise UnfitPathValue("Negative floats are not supported")
        if math.isnan(value) or math.isinf(value):
            raise UnfitPathValue("NaN and infinity are not supported")
        return ("%0.20f" % value).rstrip("0").rstrip(".")


class UUIDConvertor(Convertor[uuid.UUID]):
    regex = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"

    def convert(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_string(self, value: uuid.UUID) -> str:
        return str(value)


CONVERTOR_TYPES: dict[str, Convertor[Any]] = {
    "str": StringConvertor(),
    "path": PathConvertor(),
    "int": IntegerConvertor(),
    "float": FloatConvertor(),
    "uuid": UUIDConvertor(),
}
"""The registry ``compile_path`` reads; values are any ``Convertor``, hence ``Any``."""


def register_url_convertor(key: str, convertor: Convertor[Any]) -> None:
    """Make ``{name:key}`` available in route paths (register before the routes that use it)."""
    CONVERTOR_TYPES[key] = convertor
