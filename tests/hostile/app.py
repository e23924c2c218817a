"""The app the hostile-input suite attacks: served by a real uvicorn, or driven by the TestClient.

``/_stats`` reports the serving process's own open file descriptors, resident
memory and temporary files, so a test can check that an attack leaked nothing.
"""

from __future__ import annotations

import enum
import os
import tempfile
from pathlib import Path

import msgspec

from typedasgi.applications import TypedASGI
from typedasgi.datastructures import UploadFile
from typedasgi.endpoints import WebSocketEndpoint
from typedasgi.middleware.httpsredirect import HTTPSRedirectMiddleware
from typedasgi.middleware.sessions import SessionMiddleware
from typedasgi.middleware.trustedhost import TrustedHostMiddleware
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse, PlainTextResponse, Response
from typedasgi.routing import Mount, Route
from typedasgi.staticfiles import StaticFiles
from typedasgi.websockets import WebSocket, WebSocketDisconnect

SITE = Path(__file__).parent / "site"


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def resident_kib() -> int:
    """This process's resident set size now (VmRSS), in KiB."""
    return _status_kib("VmRSS")


def peak_resident_kib() -> int:
    """The most this process has ever had resident (VmHWM), in KiB."""
    return _status_kib("VmHWM")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def temp_files() -> int:
    return len(os.listdir(tempfile.gettempdir()))


async def ok(request: Request) -> Response:
    return PlainTextResponse("ok")


async def urls(request: Request) -> Response:
    return PlainTextResponse(f"{request.url}|{request.base_url}|{request.url_for('urls')}")


async def boom(request: Request) -> Response:
    raise RuntimeError("boom")


async def echo_json(request: Request) -> Response:
    return JSONResponse(await request.json())


class Document(msgspec.Struct):
    data: object


async def typed_json(document: Document) -> Document:
    return document


async def upload(request: Request) -> Response:
    """Default limits; ``/upload/small`` has tight ones (1 MiB a file, 4 MiB in all, 3 files)."""
    if request.path_params.get("small"):
        form = await request.form(max_file_size=2**20, max_upload_size=2**22, max_files=3)
    else:
        form = await request.form()
    sizes = {name: value.size for name, value in form.multi_items() if isinstance(value, UploadFile)}
    return JSONResponse({"sizes": sizes, "peak_rss_kib": peak_resident_kib()})


async def stats(request: Request) -> Response:
    return JSONResponse(
        {"fds": open_fds(), "rss_kib": resident_kib(), "peak_rss_kib": peak_resident_kib(), "temp_files": temp_files()}
    )


async def ws_text(websocket: WebSocket) -> None:
    """Text only: receive_text() refuses a binary frame."""
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text)


async def ws_fails_after_accept(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.receive_text()
    raise RuntimeError("handler failed after accept")


async def ws_fails_after_client_left(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        await websocket.receive_text()
    except WebSocketDisconnect:
        raise RuntimeError("clean-up failed after the client left") from None


async def ws_fails_before_accept(websocket: WebSocket) -> None:
    raise RuntimeError("handler failed before accept")


class Choice(enum.Enum):
    ROCK = "rock"
    PAPER = "paper"


async def ws_choice(websocket: WebSocket) -> None:
    """Typed JSON: a value that is not a choice is a decode error whose message quotes it."""
    await websocket.accept()
    await websocket.send_json(await websocket.receive_json(type=Choice))


class JSONOnly(WebSocketEndpoint):
    encoding = "json"

    async def on_receive(self, websocket: WebSocket, data: object) -> None:
        await websocket.send_json({"echo": data})


async def cookies(request: Request) -> Response:
    return JSONResponse(request.cookies)


async def session_view(request: Request) -> Response:
    """The session as it was read; ``?set=v`` stores ``v`` in it."""
    seen = dict(request.session)
    if "set" in request.query_params:
        request.session["value"] = request.query_params["set"]
    return JSONResponse(seen)


async def inner(request: Request) -> Response:
    return PlainTextResponse(f"inner {request.url}")


app = TypedASGI(
    routes=[
        Route("/ok", ok),
        Route("/url", urls, name="urls"),
        Route("/dir/", ok),
        Route("/boom", boom),
        Route("/json", echo_json, methods=["POST"]),
        Route("/typed", typed_json, methods=["POST"]),
        Route("/upload", upload, methods=["POST"]),
        Route("/upload/{small}", upload, methods=["POST"]),
        Route("/items/{id:int}", ok),
        Route("/items/{id:int}/parts", ok),
        Route("/_stats", stats),
        Route("/cookies", cookies),
        Mount("/session", app=SessionMiddleware(Route("/", session_view), secret_key="hostile-suite")),
        Mount("/static", app=StaticFiles(directory=SITE, html=True)),
        Mount("/secure", app=HTTPSRedirectMiddleware(Route("/{rest:path}", inner))),
        Mount(
            "/trusted",
            app=TrustedHostMiddleware(Route("/{rest:path}", inner), allowed_hosts=["example.com", "*.example.com"]),
        ),
        Route("/{rest:path}/", ok),  # any path with a trailing slash: so "//evil.com" gets a slash redirect
    ]
)
app.add_websocket_route("/ws/text", ws_text)
app.add_websocket_route("/ws/fails-after-accept", ws_fails_after_accept)
app.add_websocket_route("/ws/fails-before-accept", ws_fails_before_accept)
app.add_websocket_route("/ws/fails-after-client-left", ws_fails_after_client_left)
app.add_websocket_route("/ws/json", JSONOnly)
app.add_websocket_route("/ws/choice", ws_choice)
