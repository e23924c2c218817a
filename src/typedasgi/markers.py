"""What a typed handler's ``Annotated[T, marker]`` says about where a parameter comes from.

Markers are plain, frozen descriptions: ``typedasgi.params`` reads them once,
when the route is registered. They are only ever read inside ``Annotated``; a
marker written as a parameter's default is refused (see ``compile_signature``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import ClassVar

from typedasgi.extractors import Location

__all__ = ["MARKER_TYPES", "Body", "Cookie", "Depends", "File", "Form", "Header", "Marker", "Param", "Path", "Query"]


def _short_repr(marker: object) -> str:
    """``Query(alias='page-size')``: only the fields that differ from their defaults."""
    shown = [
        f"{field.name}={getattr(marker, field.name)!r}"
        for field in dataclasses.fields(marker)  # type: ignore[arg-type]  # only called with dataclass markers
        if getattr(marker, field.name) != field.default
    ]
    return f"{type(marker).__name__}({', '.join(shown)})"


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class Param:
    alias: str | None = None
    """The name on the wire, when it differs from the Python parameter name."""
    description: str | None = None
    deprecated: bool = False
    include_in_schema: bool = True

    location: ClassVar[Location]

    def __repr__(self) -> str:
        return _short_repr(self)


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class Query(Param):
    """``Annotated[int, Query(alias="page-size")]``: a query-string parameter (``list[T]`` for repeats)."""

    location: ClassVar[Location] = "query"


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class Header(Param):
    """A request header; by default ``user_agent`` reads ``user-agent`` (``convert_underscores``)."""

    convert_underscores: bool = True
    location: ClassVar[Location] = "header"


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class Cookie(Param):
    """A request cookie."""

    location: ClassVar[Location] = "cookie"


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class Path(Param):
    """A path parameter; needed only for an alias: a parameter named like one in the path is one."""

    location: ClassVar[Location] = "path"


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class Form(Param):
    """``Annotated[str, Form()]``: one field of an url-encoded or multipart form (``list[T]`` for repeats)."""

    location: ClassVar[Location] = "body"


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class File(Form):
    """``Annotated[UploadFile, File()]``: a file part of a multipart form (the ``forms`` extra).

    A parameter annotated ``UploadFile`` or ``list[UploadFile]`` is one without the marker.
    """


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class Body:
    """The request body, decoded from JSON or a form; needed only for a scalar body or a description."""

    description: str | None = None
    media_type: str = "application/json"
    """What the OpenAPI document lists; JSON and form bodies are both accepted whatever it says."""

    def __repr__(self) -> str:
        return _short_repr(self)


def _name_of(func: object) -> str:
    return str(getattr(func, "__name__", None) or type(func).__name__)


class Depends:
    """``Annotated[Session, Depends(get_session)]``: the value ``get_session`` returns or yields.

    ``Annotated[Settings, Depends()]`` means ``Depends(Settings)``: the annotated
    class, built from the request like any dependency. The dependency's own
    parameters are read like a handler's. Sync functions run in the thread pool
    unless ``sync_to_thread=False``; a generator's code after ``yield`` runs
    once the response is sent. With ``use_cache`` (the default) a dependency
    used several times in one request runs once.
    """

    __slots__ = ("dependency", "use_cache", "sync_to_thread")

    def __init__(
        self, dependency: Callable[..., object] | None = None, *, use_cache: bool = True, sync_to_thread: bool = True
    ) -> None:
        self.dependency: Callable[..., object] | None = dependency
        self.use_cache: bool = use_cache
        self.sync_to_thread: bool = sync_to_thread

    def __repr__(self) -> str:
        options = [] if self.dependency is None else [_name_of(self.dependency)]
        options += [] if self.use_cache else ["use_cache=False"]
        options += [] if self.sync_to_thread else ["sync_to_thread=False"]
        return f"Depends({', '.join(options)})"


Marker = Param | Body | Depends
"""Anything typedasgi reads from ``Annotated[T, ...]``."""
MARKER_TYPES = (Param, Body, Depends)
