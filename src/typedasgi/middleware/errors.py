"""``ServerErrorMiddleware``: the outermost layer, so any uncaught error still gets one 500.

The error is re-raised after the 500 is sent, so the server logs it once and the
TestClient can raise it in the test. The traceback page is shown only with
``debug=True``; otherwise the client sees a bare "Internal Server Error".
"""

from __future__ import annotations

import html
import traceback

from typedasgi.middleware.exceptions import ExceptionHandler, ExceptionMiddleware, call_handler
from typedasgi.requests import Request
from typedasgi.responses import HTMLResponse, PlainTextResponse, Response
from typedasgi.middleware.tracking import TrackingSend
from typedasgi.types import AnyASGIApp, Receive, Scope, Send, as_asgi_app

__all__ = ["ServerErrorMiddleware"]

_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem}}pre{{background:#f6f6f6;padding:1rem;overflow:auto}}</style>
</head><body><h1>500 Internal Server Error</h1><h2>{title}</h2><pre>{trace}</pre></body></html>"""


def debug_response(request: Request, exc: BaseException) -> Response:
    """The traceback, as HTML for browsers and as text for everything else."""
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    title = f"{type(exc).__name__}: {exc}"
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(_PAGE.format(title=html.escape(title), trace=html.escape(trace)), status_code=500)
    return PlainTextResponse(trace, status_code=500)


def error_response(request: Request, exc: BaseException) -> Response:
    return PlainTextResponse("Internal Server Error", status_code=500)


class ServerErrorMiddleware:
    """Outermost: one 500 for any error nothing else answered.

    ``exceptions`` lets it also do the ``ExceptionMiddleware``'s job when no user
    middleware sits between the two (the app's usual case): one layer, one
    ``send`` wrapper and one coroutine less per request.
    """

    def __init__(
        self,
        app: AnyASGIApp,
        handler: ExceptionHandler | None = None,
        debug: bool = False,
        *,
        exceptions: ExceptionMiddleware | None = None,
    ) -> None:
        self.app = as_asgi_app(app)
        self.handler = handler
        self.debug = debug
        self.exceptions = exceptions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type == "lifespan" or (scope_type != "http" and self.exceptions is None):
            await self.app(scope, receive, send)
            return
        tracked = TrackingSend(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if not await self.answer(exc, scope, receive, send, started=tracked.started):
                raise

    async def answer(self, exc: Exception, scope: Scope, receive: Receive, send: Send, *, started: bool) -> bool:
        """Answer ``exc``: True when a handler took it; else the 500 is sent (unless started), re-raise it."""
        exceptions = self.exceptions
        if exceptions is not None and await exceptions.handle(exc, scope, receive, send, started=started):
            return True
        if scope["type"] == "http" and not started:
            request = Request(scope, receive, send)
            if self.debug:
                response: Response = debug_response(request, exc)
            elif self.handler is not None:
                response = await call_handler(self.handler, request, exc)
            else:
                response = error_response(request, exc)
            await response(scope, receive, send)
        return False
