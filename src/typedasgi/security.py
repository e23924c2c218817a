"""Security schemes: declared once, used as dependencies, documented in OpenAPI by themselves.

``bearer = HTTPBearer()`` then ``token: Annotated[HTTPCredentials, Depends(bearer)]``
in any handler or router dependency: the scheme reads its credentials from the
request (401 with ``WWW-Authenticate`` when they are missing or malformed) and the
OpenAPI document lists it under ``components.securitySchemes`` and in the
``security`` of every operation that depends on it. Checking the credentials is
the application's: wrap the scheme in a dependency of your own.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import Any, Literal

from typedasgi.exceptions import HTTPException
from typedasgi.requests import HTTPConnection

__all__ = [
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPCredentials",
    "SecurityScheme",
]


@dataclasses.dataclass(frozen=True, slots=True)
class HTTPCredentials:
    """``Authorization: <scheme> <credentials>``, as sent."""

    scheme: str
    credentials: str


@dataclasses.dataclass(frozen=True, slots=True)
class HTTPBasicCredentials:
    username: str
    password: str


class SecurityScheme:
    """A way of sending credentials; ``scheme_name`` is its key in ``components.securitySchemes``."""

    def __init__(self, *, scheme_name: str | None = None, description: str | None = None) -> None:
        self.scheme_name: str = scheme_name or type(self).__name__
        self.description: str | None = description

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI Security Scheme Object."""
        document = self._scheme()
        if self.description:
            document["description"] = self.description
        return document

    def _scheme(self) -> dict[str, Any]:
        raise NotImplementedError

    async def __call__(self, connection: HTTPConnection[Any]) -> object:
        """The credentials, read from the request (a dependency's value)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(scheme_name={self.scheme_name!r})"


def _authorization(connection: HTTPConnection[Any]) -> tuple[str, str] | None:
    scheme, _, credentials = connection.headers.get("authorization", "").strip().partition(" ")
    return (scheme, credentials.strip()) if scheme and credentials.strip() else None


class HTTPBearer(SecurityScheme):
    """``Authorization: Bearer <token>``; ``auto_error=False`` gives None instead of a 401."""

    def __init__(
        self, *, bearer_format: str | None = None, auto_error: bool = True, scheme_name: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description)
        self.bearer_format: str | None = bearer_format
        self.auto_error: bool = auto_error

    def _scheme(self) -> dict[str, Any]:
        scheme: dict[str, Any] = {"type": "http", "scheme": "bearer"}
        if self.bearer_format:
            scheme["bearerFormat"] = self.bearer_format
        return scheme

    async def __call__(self, connection: HTTPConnection[Any]) -> HTTPCredentials | None:
        found = _authorization(connection)
        if found is None or found[0].lower() != "bearer":
            if self.auto_error:
                raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
            return None
        return HTTPCredentials("Bearer", found[1])


class HTTPBasic(SecurityScheme):
    """``Authorization: Basic base64(user:password)``; ``realm`` goes into the 401's challenge."""

    def __init__(
        self, *, realm: str | None = None, auto_error: bool = True, scheme_name: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description)
        self.auto_error: bool = auto_error
        self.challenge: str = f'Basic realm="{realm}"' if realm else "Basic"

    def _scheme(self) -> dict[str, Any]:
        return {"type": "http", "scheme": "basic"}

    async def __call__(self, connection: HTTPConnection[Any]) -> HTTPBasicCredentials | None:
        found = _authorization(connection)
        if found is not None and found[0].lower() == "basic":
            try:
                decoded = base64.b64decode(found[1], validate=True).decode()
            except ValueError:  # not base64 (binascii.Error), not ASCII text, not UTF-8 once decoded: no credentials
                decoded = ""
            username, colon, password = decoded.partition(":")
            if colon:
                return HTTPBasicCredentials(username, password)
        if self.auto_error:
            raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": self.challenge})
        return None


class _APIKey(SecurityScheme):
    location: Literal["header", "cookie", "query"]

    def __init__(
        self, name: str, *, auto_error: bool = True, scheme_name: str | None = None, description: str | None = None
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description)
        self.name: str = name
        self.auto_error: bool = auto_error

    def _scheme(self) -> dict[str, Any]:
        return {"type": "apiKey", "name": self.name, "in": self.location}

    def _read(self, connection: HTTPConnection[Any]) -> str | None:
        raise NotImplementedError

    async def __call__(self, connection: HTTPConnection[Any]) -> str | None:
        key = self._read(connection)
        if not key:
            if self.auto_error:
                raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "APIKey"})
            return None
        return key


class APIKeyHeader(_APIKey):
    """An API key in the header ``name`` (e.g. ``X-API-Key``)."""

    location: Literal["header", "cookie", "query"] = "header"

    def _read(self, connection: HTTPConnection[Any]) -> str | None:
        return connection.headers.get(self.name)


class APIKeyCookie(_APIKey):
    """An API key in the cookie ``name``."""

    location: Literal["header", "cookie", "query"] = "cookie"

    def _read(self, connection: HTTPConnection[Any]) -> str | None:
        return connection.cookies.get(self.name)


class APIKeyQuery(_APIKey):
    """An API key in the query parameter ``name`` (it ends up in logs: prefer a header)."""

    location: Literal["header", "cookie", "query"] = "query"

    def _read(self, connection: HTTPConnection[Any]) -> str | None:
        return connection.query_params.get(self.name)
