"""``RequestBodyLimitMiddleware``: refuse request bodies over a size, whoever reads them.

typedasgi apps and routes already bound bodies read through ``Request``
(``max_body_size=``). This middleware bounds the raw ``receive()`` of anything
below it - a foreign app, a middleware reading messages itself - and answers
413 ``Content Too Large``: at once when ``Content-Length`` says so, else as soon
as the bytes received pass the limit. The limit it enforces is the scope's
``max_body_size`` at each read, so a route below that sets its own limit wins,
and ``Request`` sees the same one.
"""

from __future__ import annotations

from typedasgi.exceptions import BodyTooLarge, HTTPException
from typedasgi.headers import declared_length, first_raw_value
from typedasgi.responses import PlainTextResponse
from typedasgi.types import ASGIApp, FrameworkKeys, HTTPScope, ReceiveEvent, Receive, Scope, Send, SendEvent, framework_keys

__all__ = ["MAX_BODY_SIZE_SCOPE_KEY", "RequestBodyLimitMiddleware", "RequestBodyLimitResponder"]

MAX_BODY_SIZE_SCOPE_KEY = "max_body_size"
"""The scope key holding the limit in force (typedasgi's own: ``Request`` enforces it too)."""

_TOO_LARGE = "Content Too Large"


class _BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(413, _TOO_LARGE)


class _AnsweredTooLarge(Exception):
    """The 413 went out in place of the app's response: nothing more to do."""


class RequestBodyLimitMiddleware:
    """Limit the total size of every HTTP request body to ``max_body_size`` bytes."""

    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await RequestBodyLimitResponder(self.app, self.max_body_size)(scope, receive, send)


def _content_length(scope: HTTPScope) -> int | None:
    value = first_raw_value(scope, b"content-length")
    return None if value is None else declared_length(value)


class RequestBodyLimitResponder:
    """One request under the limit."""

    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app = app
        self.max_body_size = max_body_size
        self.total_size = 0
        self.response_started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        keys: FrameworkKeys = framework_keys(scope)
        had_limit = "max_body_size" in keys
        previous = keys.get("max_body_size")
        keys["max_body_size"] = self.max_body_size
        declared = _content_length(scope)

        def limit() -> int | None:
            return keys.get("max_body_size", self.max_body_size)

        async def receive_with_limit() -> ReceiveEvent:
            bound = limit()
            if declared is not None and bound is not None and declared > bound:
                raise _BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                self.total_size += len(message.get("body", b""))
                if bound is not None and self.total_size > bound:
                    raise _BodyTooLarge()
            return message

        async def send_with_limit(message: SendEvent) -> None:
            if message["type"] == "http.response.start":
                self.response_started = True
                bound = limit()
                if declared is not None and bound is not None and declared > bound:  # the app never read it
                    await PlainTextResponse(_TOO_LARGE, status_code=413)(scope, receive, send)
                    raise _AnsweredTooLarge()
            await send(message)

        try:
            await self.app(scope, receive_with_limit, send_with_limit)
        except (_BodyTooLarge, BodyTooLarge):  # the latter from a Request below reading under the same limit
            if self.response_started:
                raise
            await PlainTextResponse(_TOO_LARGE, status_code=413)(scope, receive, send)
        except _AnsweredTooLarge:
            pass
        finally:
            if had_limit:
                keys["max_body_size"] = previous
            else:
                keys.pop("max_body_size", None)
