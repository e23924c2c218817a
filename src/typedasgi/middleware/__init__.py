"""Middleware declarations: ``Middleware(CORSMiddleware, allow_origins=["*"])``.

The arguments are checked against the middleware's own ``__init__`` by the
type checker (a ``ParamSpec``), and the app builds the stack once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from typing_extensions import ParamSpec

from typedasgi.types import ForeignMiddlewareFactory, MiddlewareFactory

P = ParamSpec("P")

_MiddlewareFactory = MiddlewareFactory
"""Starlette's (private) name for the factory protocol: its own test suite imports it from here."""

__all__ = ["Middleware"]


class Middleware:
    """A middleware factory plus the arguments to build it with, around the app it wraps."""

    def __init__(
        self, cls: MiddlewareFactory[P] | ForeignMiddlewareFactory[P], *args: P.args, **kwargs: P.kwargs
    ) -> None:
        self.cls = cls
        self.args = args
        self.kwargs = kwargs

    # Arguments are whatever the factory takes; already checked through P above.
    def __iter__(self) -> Iterator[Any]:
        return iter((self.cls, self.args, self.kwargs))

    def __repr__(self) -> str:
        name = getattr(self.cls, "__name__", repr(self.cls))
        parts = [name, *map(repr, self.args), *(f"{k}={v!r}" for k, v in self.kwargs.items())]
        return f"Middleware({', '.join(parts)})"
