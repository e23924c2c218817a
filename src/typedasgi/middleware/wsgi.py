"""``WSGIMiddleware``: serve a WSGI app (Flask, Django's WSGI handler, ...) as an ASGI app. Deprecated.

Kept so Starlette code that mounts a WSGI app keeps working after the rename,
with the same deprecation warning on import. A dedicated adapter such as
``a2wsgi`` streams request bodies and is the better choice for new code.

The WSGI app runs in typedasgi's thread pool. Every message it produces is
sent from that thread through the event loop and the thread waits until the
server took it, so a slow client slows the app down instead of filling memory.
The request body is read whole first (WSGI's ``wsgi.input`` is a file), within
the app's request body limit (413 beyond it).
"""

from __future__ import annotations

import asyncio
import io
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, TypeAlias

from typedasgi.concurrency import run_in_threadpool
from typedasgi.error_responses import error_response
from typedasgi.exceptions import BodyTooLarge, ClientDisconnect, TypedASGIDeprecationWarning
from typedasgi.requests import Request
from typedasgi.types import HTTPScope, Receive, Scope, Send, SendEvent

__all__ = ["WSGIApp", "WSGIMiddleware", "WSGIResponder", "build_environ"]

warnings.warn(
    "typedasgi.middleware.wsgi is deprecated and will be removed in a future release. "
    "Serve WSGI apps with a dedicated adapter such as a2wsgi.",
    TypedASGIDeprecationWarning,
    stacklevel=2,
)

ExcInfo: TypeAlias = tuple[type[BaseException], BaseException, TracebackType | None]
# PEP 3333's environ values and start_response arguments are open ("Any").
StartResponse: TypeAlias = Callable[..., Any]
WSGIApp: TypeAlias = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _latin1(text: str) -> str:
    """PEP 3333 "native strings": the UTF-8 bytes of the path, seen as latin-1."""
    return text.encode("utf-8").decode("latin-1")


def build_environ(scope: Mapping[str, Any], body: bytes) -> dict[str, Any]:
    """The WSGI environ for an HTTP ``scope`` (any mapping: the spec's dict) and its whole request ``body``.

    Keys the ASGI spec makes optional are read with the spec's defaults.
    """
    get = scope.get
    script_name = _latin1(get("root_path", ""))
    path_info = _latin1(get("path", "/"))
    if path_info == script_name or path_info.startswith(script_name.rstrip("/") + "/"):
        path_info = path_info[len(script_name) :]
    server = get("server") or ("localhost", 80)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": get("method", "GET"),
        "SCRIPT_NAME": script_name,
        "PATH_INFO": path_info,
        "QUERY_STRING": get("query_string", b"").decode("latin-1"),  # PEP 3333: bytes as latin-1, any byte
        "SERVER_PROTOCOL": f"HTTP/{get('http_version', '1.1')}",
        "SERVER_NAME": server[0],
        "SERVER_PORT": server[1],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stdout,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    client = get("client")
    if client:
        environ["REMOTE_ADDR"] = client[0]
    for raw_name, raw_value in get("headers", ()):
        name = raw_name.decode("latin-1")
        if "_" in name:  # X_Remote_User and X-Remote-User share one CGI key: a client's would pass for a proxy's
            continue
        if name in ("content-length", "content-type"):
            key = name.upper().replace("-", "_")
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        environ[key] = f"{environ[key]},{value}" if key in environ else value  # repeated headers joined, as CGI does
    return environ


async def _deliver(send: Send, message: SendEvent) -> None:
    await send(message)


class WSGIMiddleware:
    """An ASGI app that answers HTTP requests with the WSGI ``app``."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise RuntimeError(f"WSGIMiddleware serves HTTP only, not {scope['type']!r}")
        await WSGIResponder(self.app, scope)(receive, send)


class WSGIResponder:
    """One request through the WSGI app."""

    def __init__(self, app: WSGIApp, scope: HTTPScope) -> None:
        self.app = app
        self.scope = scope
        self.response_started: bool = False
        self.exc_info: ExcInfo | None = None
        self._send: Send | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, receive: Receive, send: Send) -> None:
        try:
            body = await Request(self.scope, receive).body()
        except BodyTooLarge as exc:
            await error_response(self.scope, 413, exc.detail, None)(self.scope, receive, send)
            return
        except ClientDisconnect:
            return
        self._send, self._loop = send, asyncio.get_running_loop()
        await run_in_threadpool(self.wsgi, build_environ(self.scope, body), self.start_response)
        if self.exc_info is not None:
            raise self.exc_info[1].with_traceback(self.exc_info[2])

    def _send_from_thread(self, message: SendEvent) -> None:
        """Send through the loop and wait until the server took the message."""
        assert self._send is not None and self._loop is not None
        asyncio.run_coroutine_threadsafe(_deliver(self._send, message), self._loop).result()

    def start_response(
        self, status: str, response_headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
    ) -> None:
        if exc_info is not None:
            self.exc_info = exc_info
            if self.response_started:  # PEP 3333: too late to change the answer, re-raise now
                raise exc_info[1].with_traceback(exc_info[2])
        if self.response_started:
            return
        self.response_started = True
        headers = [
            (name.strip().encode("ascii").lower(), value.strip().encode("ascii")) for name, value in response_headers
        ]
        status_code = int(status.split(" ", 1)[0])
        self._send_from_thread({"type": "http.response.start", "status": status_code, "headers": headers})

    def wsgi(self, environ: dict[str, Any], start_response: StartResponse) -> None:
        """Run the WSGI app in a worker thread, sending its body as it is produced."""
        chunks = self.app(environ, start_response)
        try:
            for chunk in chunks:
                if chunk:
                    self._send_from_thread({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            close = getattr(chunks, "close", None)
            if callable(close):
                close()
        self._send_from_thread({"type": "http.response.body", "body": b"", "more_body": False})
