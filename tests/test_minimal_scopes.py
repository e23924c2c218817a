"""Liberal in what we accept: scopes and messages with only the keys the ASGI spec requires.

Each case hands a public component a scope without ``root_path``, ``client``,
``server``, ``scheme``, ``query_string``, ``raw_path``, ``http_version``,
``state`` - and, as hand-built scopes in tests do, without ``headers`` and
``method`` - and messages without their optional keys (``body``/``more_body``
of ``http.request``, ``headers`` of ``http.response.start``, ``more_body`` of
``http.response.body``). None may crash: each answers as the spec's defaults say.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from typedasgi.middleware.cors import CORSMiddleware
from typedasgi.middleware.errors import ServerErrorMiddleware
from typedasgi.middleware.gzip import GZipMiddleware
from typedasgi.middleware.httpsredirect import HTTPSRedirectMiddleware
from typedasgi.middleware.sessions import SessionMiddleware
from typedasgi.middleware.trustedhost import TrustedHostMiddleware
from typedasgi.requests import Request
from typedasgi.responses import FileResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from typedasgi.routing import Mount, Route, Router
from typedasgi.staticfiles import StaticFiles
from typedasgi.types import ASGIApp, Receive, Scope, Send
from typedasgi.websockets import WebSocket

Plain = dict[str, Any]  # a hand-built scope or message: the spec's dict, values of any kind


def minimal_http(path: str = "/", **keys: Any) -> Scope:
    return cast(Scope, {"type": "http", "path": path, **keys})


async def minimal_receive() -> Any:  # an http.request with no optional key, then nothing more to read
    return {"type": "http.request"}


def run(app: ASGIApp, scope: Scope) -> list[Plain]:
    """Drive ``app`` once with minimal messages; return what it sent (bounded in time)."""
    sent: list[Plain] = []
    requests = [{"type": "http.request"}]

    async def receive() -> Any:
        if requests:
            return requests.pop()
        await asyncio.sleep(3600)  # the client stays until the app is done

    async def send(message: Any) -> None:
        sent.append(dict(message))

    asyncio.run(asyncio.wait_for(app(scope, cast(Receive, receive), cast(Send, send)), 5))
    return sent


def status_and_body(sent: list[Plain]) -> tuple[int, bytes]:
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return start["status"], body


async def describe(request: Request) -> Response:
    return JSONResponse(
        {
            "method": request.method,
            "url": str(request.url),
            "base_url": str(request.base_url),
            "client": request.client,
            "headers": dict(request.headers),
            "query": dict(request.query_params),
            "cookies": request.cookies,
            "body": (await request.body()).decode(),
            "state": len(request.state._state),
            "named": str(request.url_for("describe")),
        }
    )


def test_a_routed_request_reads_every_optional_key_with_its_default() -> None:
    app = TypedASGI(routes=[Route("/d", describe, name="describe")])
    status, body = status_and_body(run(app, minimal_http("/d")))
    assert status == 200, body
    # Neither Host nor server: the URLs have no authority to be absolute against, so they are paths.
    assert body == (
        b'{"method":"GET","url":"/d","base_url":"/","client":null,'
        b'"headers":{},"query":{},"cookies":{},"body":"","state":0,"named":"/d"}'
    )
    status, body = status_and_body(run(app, minimal_http("/d", server=("example.org", 8000))))
    assert b'"url":"http://example.org:8000/d"' in body
    assert b'"named":"http://example.org:8000/d"' in body


async def minimal_app(scope: Scope, receive: Receive, send: Send) -> None:
    """An app that sends the least the spec allows: no headers, no more_body."""
    await cast(Any, send)({"type": "http.response.start", "status": 200})
    await cast(Any, send)({"type": "http.response.body", "body": b"x" * 600})


class PassThrough(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        return await call_next(request)


def typed(name: str = "anon") -> dict[str, str]:
    return {"name": name}


COMPONENTS: dict[str, Callable[[Path], ASGIApp]] = {
    "Router": lambda _: Router(routes=[Mount("/", app=minimal_app)]),
    "typed handler": lambda _: TypedASGI(routes=[Route("/", typed)]),
    "GZipMiddleware": lambda _: GZipMiddleware(minimal_app, minimum_size=10),
    "BaseHTTPMiddleware": lambda _: PassThrough(minimal_app),
    "CORSMiddleware": lambda _: CORSMiddleware(minimal_app, allow_origins=["*"]),
    "SessionMiddleware": lambda _: SessionMiddleware(minimal_app, secret_key="k"),
    "ServerErrorMiddleware": lambda _: ServerErrorMiddleware(minimal_app),
    "TrustedHostMiddleware": lambda _: TrustedHostMiddleware(minimal_app, allowed_hosts=["*"]),
    "Response": lambda _: PlainTextResponse("x"),
    "StreamingResponse": lambda _: StreamingResponse(iter([b"x"])),
    "FileResponse": lambda tmp: FileResponse(tmp / "f.txt"),
    "StaticFiles": lambda tmp: StaticFiles(directory=tmp),
    "app with middleware": lambda _: TypedASGI(
        routes=[Mount("/", app=minimal_app)],
        middleware=[],
    ),
}


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_components_answer_a_scope_without_headers_or_method(name: str, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_bytes(b"x")
    path = "/f.txt" if name == "StaticFiles" else "/"
    status, body = status_and_body(run(COMPONENTS[name](tmp_path), minimal_http(path)))
    assert status == 200
    assert body


def test_https_redirect_of_a_minimal_scope_goes_to_https_on_the_server_name() -> None:
    sent = run(HTTPSRedirectMiddleware(minimal_app), minimal_http("/p", server=("example.org", 80)))
    assert sent[0]["status"] == 307
    assert (b"location", b"https://example.org/p") in [tuple(pair) for pair in sent[0]["headers"]]
    # With no Host and no server there is nowhere to redirect to: a clear 400, not a crash.
    assert status_and_body(run(HTTPSRedirectMiddleware(minimal_app), minimal_http("/p")))[0] == 400


def test_a_head_request_without_headers_gets_no_body() -> None:
    status, body = status_and_body(run(PlainTextResponse("abc"), minimal_http(method="HEAD")))
    assert (status, body) == (200, b"")


def test_a_minimal_websocket_scope_and_messages() -> None:
    received: list[str] = []

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        received.append(await websocket.receive_text())
        received.append(websocket.url.path + str(websocket.client) + repr(dict(websocket.headers)))
        await websocket.close()

    app = TypedASGI(routes=[])
    app.add_websocket_route("/ws", endpoint)
    inbox: list[Plain] = [{"type": "websocket.connect"}, {"type": "websocket.receive", "text": "hi"}]
    sent: list[Plain] = []

    async def receive() -> Any:
        if inbox:
            return inbox.pop(0)
        return {"type": "websocket.disconnect"}  # no code: the spec's default 1005

    async def send(message: Any) -> None:
        sent.append(dict(message))

    scope = cast(Scope, {"type": "websocket", "path": "/ws"})
    asyncio.run(asyncio.wait_for(app(scope, cast(Receive, receive), cast(Send, send)), 5))
    assert received == ["hi", "/wsNone{}"]
    assert [message["type"] for message in sent] == ["websocket.accept", "websocket.close"]
