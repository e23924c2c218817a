"""One shape for the framework's error answers: ``{"detail": ...}`` in JSON, or plain text.

JSON when the route is a typed handler's (its clients speak JSON), when the
client's ``Accept`` ranks ``application/json`` above ``text/plain``, or when
the detail is not a string; plain text otherwise, as Starlette answers, so a
Starlette app moved over answers its clients byte for byte the same. Decided
only when an error is answered: nothing here runs for a successful request.
"""

from __future__ import annotations

from collections.abc import Mapping

from typedasgi.accept import prefers
from typedasgi.responses import JSONResponse, PlainTextResponse, Response
from typedasgi.types import Scope, WWWScope, framework_keys

__all__ = ["error_response", "mark_json_errors", "wants_json"]


def mark_json_errors(scope: Scope) -> None:
    """Called by typed handlers (and typed routes' 405) as an error leaves them: answer it in JSON."""
    framework_keys(scope)["json_errors"] = True


def wants_json(scope: Scope) -> bool:
    """A typed route's error, or a client that prefers JSON to plain text."""
    if framework_keys(scope).get("json_errors"):
        return True
    www: WWWScope = scope  # type: ignore[assignment]  # errors are answered on http and websocket scopes only
    for key, value in www["headers"]:
        if key == b"accept":
            return prefers(value.decode("latin-1"), "application/json", "text/plain")
    return False


def error_response(scope: Scope, status_code: int, detail: object, headers: Mapping[str, str] | None) -> Response:
    """The answer for an error: no body for 204/304, else JSON ``{"detail": detail}`` or the detail as text."""
    if status_code in (204, 304):
        return Response(status_code=status_code, headers=headers)
    if not isinstance(detail, str) or wants_json(scope):
        return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)
    return PlainTextResponse(detail, status_code=status_code, headers=headers)
