"""Errors that carry an HTTP or WebSocket answer."""

from __future__ import annotations

import http
import json
from collections.abc import Mapping


class HTTPException(Exception):
    """Raise to answer with ``status_code``; ``detail`` defaults to the reason phrase.

    ``detail`` may be any JSON-encodable value: the answer is ``{"detail": ...}`` in JSON
    for typed routes and JSON clients (always, for a detail that is not a string), else
    the text of ``detail`` (see ``typedasgi.error_responses``).
    """

    def __init__(
        self, status_code: int, detail: object = None, headers: Mapping[str, str] | None = None
    ) -> None:
        if detail is None:
            try:
                detail = http.HTTPStatus(status_code).phrase
            except ValueError:
                detail = ""
        self.status_code = status_code
        self.detail = detail
        self.headers = headers
        super().__init__(status_code, detail)

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class WebSocketException(Exception):
    """Raise inside a WebSocket endpoint to close the connection with ``code``."""

    def __init__(self, code: int, reason: str | None = None) -> None:
        self.code = code
        self.reason: str = reason or ""
        super().__init__(code, self.reason)

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, reason={self.reason!r})"


class ClientDisconnect(Exception):
    """The client went away while the app was still reading the request body."""


class MalformedBody(HTTPException, ValueError):
    """A request body that cannot be decoded (bad JSON, bad form): a 400, the client's mistake.

    Also a ``ValueError``, as the errors Starlette raises for a bad body are (``request.json()``
    raises :class:`MalformedJSON`, a ``json.JSONDecodeError`` too): code catching them keeps doing so.
    """

    def __init__(self, detail: str) -> None:
        super().__init__(400, detail)


class MalformedJSON(json.JSONDecodeError, MalformedBody):
    """A request body that is not JSON, or not JSON ``request.json()`` takes: a 400.

    Also a ``json.JSONDecodeError``, which Starlette's ``request.json()`` raises: code written for it
    catches that to answer with its own error. Its position is not the document's (msgspec's
    message names the byte): ``doc`` is empty and ``pos`` 0.
    """

    msg: str
    doc: str
    pos: int
    lineno: int
    colno: int

    def __init__(self, detail: str) -> None:
        MalformedBody.__init__(self, detail)  # not JSONDecodeError's: it needs the document
        self.msg, self.doc, self.pos, self.lineno, self.colno = detail, "", 0, 1, 1


class BodyTooLarge(HTTPException):
    """The request body is over the configured limit: 413."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(413, f"Request body is larger than the limit of {limit} bytes")


def raises_to_app(scope: Mapping[str, object]) -> bool:
    """True when a typedasgi app above this component turns our HTTPExceptions into responses.

    Components (routes, static files, endpoints) then raise, so the app's handlers
    shape the answer; alone, or inside another framework (whose ``scope["app"]``
    knows nothing of our exception class), they answer the status themselves.
    """
    return getattr(scope.get("app"), "handles_typedasgi_exceptions", False) is True


class TypedASGIDeprecationWarning(UserWarning):
    """Something typedasgi will remove; a ``UserWarning`` so that it shows without ``-W``."""


StarletteDeprecationWarning = TypedASGIDeprecationWarning
"""The name Starlette code catches and filters on; the same class."""
