"""``ServerErrorMiddleware``: the outermost layer, so any uncaught error still gets a proper ending.

HTTP: one complete 500, then the error is logged (logger ``typedasgi.error``) and
*not* re-raised, so the server keeps the keep-alive connection for the next
request (uvicorn closes it when an app raises). A server that wants the error
itself says so with the ``typedasgi.raise_exceptions`` scope extension (the
TestClient does, to raise it in the test). An error after the response started
goes to the app's 500 handler (for reporting; its response is dropped) and is
re-raised: the server must cut the half-sent response. The traceback page
(``typedasgi.middleware.debug_page``, whose templates this module also names, as
Starlette's does) is shown only with ``debug=True``; otherwise the client sees
"Internal Server Error". An ``HTTPException`` that reaches this layer unanswered
(raised in a middleware above the app's handlers: a body over the limit read in
``dispatch``, a malformed form) is still answered with its own status, in the
default handler's shape, and not logged: it is the client's error, not the server's.
A ``ClientDisconnect`` (the client left while its body was read) gets no answer and
no log: there is no one to answer, and a client must not fill the error log at will.

WebSockets: the client always gets a close frame. An error after ``accept`` closes
with 1011, a message of the wrong kind or shape (:class:`WebSocketDecodeError`)
with 1003 and no error log (the client's mistake); before ``accept`` the handshake
is refused (the client sees HTTP 403, or the status of an ``HTTPException`` where
the server offers denial responses).
"""

from __future__ import annotations

import logging
import traceback

from typedasgi import status
from typedasgi.error_responses import error_response as shaped_error_response
from typedasgi.exceptions import ClientDisconnect, HTTPException
from typedasgi.log_names import request_line
from typedasgi.middleware.debug_page import CENTER_LINE, FRAME_TEMPLATE, JS, LINE, STYLES, TEMPLATE, html_traceback
from typedasgi.middleware.exceptions import ExceptionHandler, ExceptionMiddleware, call_handler
from typedasgi.requests import Request, request_for_handler
from typedasgi.responses import HTMLResponse, PlainTextResponse, Response
from typedasgi.middleware.pure import WrapsApp
from typedasgi.middleware.tracking import TrackingSend, WebSocketTracking
from typedasgi.types import AnyASGIApp, Receive, Scope, Send, WWWScope, WebSocketScope, as_asgi_app
from typedasgi.websockets import WebSocket, WebSocketDecodeError, WebSocketDisconnect, fit_close_reason

__all__ = [
    "CENTER_LINE",
    "FRAME_TEMPLATE",
    "JS",
    "LINE",
    "RAISE_EXCEPTIONS",
    "STYLES",
    "TEMPLATE",
    "ServerErrorMiddleware",
    "request_line",
    "wants_exceptions",
]

RAISE_EXCEPTIONS = "typedasgi.raise_exceptions"
"""The scope extension a server (the TestClient) offers to be handed the app's errors after their answer."""

logger: logging.Logger = logging.getLogger("typedasgi.error")


def wants_exceptions(scope: WWWScope) -> bool:
    """Whether the server asked to be handed the app's errors (``RAISE_EXCEPTIONS``; the TestClient does)."""
    return RAISE_EXCEPTIONS in (scope.get("extensions") or {})


def _log(scope: WWWScope, exc: BaseException, answer: str) -> None:
    logger.error("Exception in %s, answered %s", request_line(scope), answer, exc_info=exc)


def debug_response(request: Request, exc: BaseException) -> Response:
    """The traceback, as an HTML page for browsers and as text for everything else."""
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(html_traceback(exc), status_code=500)
    return PlainTextResponse("".join(traceback.format_exception(exc)), status_code=500)


def error_response(request: Request, exc: BaseException) -> Response:
    return PlainTextResponse("Internal Server Error", status_code=500)


class ServerErrorMiddleware(WrapsApp):
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
        if scope_type == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        tracked = TrackingSend(send)
        try:
            await self._call_app(scope, receive, tracked.__call__)  # bound: called without an instance's slot lookup
        except Exception as exc:
            if not await self.answer(exc, scope, receive, send, started=tracked.started):
                raise

    async def answer(self, exc: Exception, scope: Scope, receive: Receive, send: Send, *, started: bool) -> bool:
        """Answer ``exc``: True when it is dealt with (a handler took it, or a complete 500 went out and was
        logged); False when the caller must re-raise it (the response had started, or the server wants it)."""
        exceptions = self.exceptions
        if exceptions is not None and await exceptions.handle(exc, scope, receive, send, started=started):
            return True
        if scope["type"] == "http" and not started:
            if isinstance(exc, ClientDisconnect) and not wants_exceptions(scope):
                return True  # the client left mid-body: nobody to answer, and nothing went wrong here
            if isinstance(exc, HTTPException):
                # Raised where no handler sees it (a middleware reading a body past the limit, or a malformed
                # form): it is still the client's answer, shaped as the default handler shapes it, not a 500.
                await shaped_error_response(scope, exc.status_code, exc.detail, exc.headers)(scope, receive, send)
                return True
            request = request_for_handler(scope, receive, send)
            if self.debug:
                response: Response = debug_response(request, exc)
            elif self.handler is not None:
                response = await call_handler(self.handler, request, exc)
            else:
                response = error_response(request, exc)
            await response(scope, receive, send)
            if not wants_exceptions(scope):
                _log(scope, exc, "500")
                return True
        elif scope["type"] == "http" and self.handler is not None and not self.debug:
            # Too late to answer, but the app's 500 handler still hears of it (error reporting relies on
            # this, as in Starlette); its response is dropped and the error re-raised so the server cuts it.
            await call_handler(self.handler, request_for_handler(scope, receive, send), exc)
        return False

    async def _websocket(self, scope: WebSocketScope, receive: Receive, send: Send) -> None:
        tracked = WebSocketTracking(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            exceptions = self.exceptions
            if exceptions is not None:
                try:
                    if await exceptions.handle(exc, scope, receive, tracked, started=tracked.started):
                        return
                except Exception as handler_error:  # the handler failed too: its error is answered and logged
                    exc = handler_error
            if isinstance(exc, WebSocketDisconnect):  # the client left: nobody to answer, nothing went wrong
                if wants_exceptions(scope):
                    raise exc
                return
            answer = await self._close(exc, scope, receive, tracked)
            if wants_exceptions(scope):
                raise exc
            if not isinstance(exc, WebSocketDecodeError):  # that one is the client's mistake, answered with 1003
                _log(scope, exc, answer)

    @staticmethod
    async def _close(exc: Exception, scope: WebSocketScope, receive: Receive, tracked: WebSocketTracking) -> str:
        """Send the client its close frame (or refuse the handshake); returns what it got, for the log."""
        if tracked.closed:
            return "with the close the app had sent"
        try:
            if tracked.accepted:
                decode_error = isinstance(exc, WebSocketDecodeError)
                code = status.WS_1003_UNSUPPORTED_DATA if decode_error else status.WS_1011_INTERNAL_ERROR
                reason = fit_close_reason(str(exc)) if decode_error else ""  # it may quote the client's message
                await tracked({"type": "websocket.close", "code": code, "reason": reason})
                return f"close {code}"
            if isinstance(exc, HTTPException):
                denial = shaped_error_response(scope, exc.status_code, exc.detail, exc.headers)
                await WebSocket(scope, receive, tracked).send_denial_response(denial)
                return f"a {exc.status_code} denial"
            await tracked({"type": "websocket.close", "code": status.WS_1011_INTERNAL_ERROR, "reason": ""})
        except OSError:  # ASGI 2.4: the client is already gone
            return "nothing (the client had left)"
        return "a refused handshake"
