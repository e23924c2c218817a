"""Test support: plain-ASGI scopes and a tiny server-side driver; a real uvicorn on 127.0.0.1, plain HTTP helpers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeAlias, cast

import urllib.error
import urllib.parse

from typedasgi.types import (
    ASGIApp,
    ExtensionSendEvent,
    HTTPRequestEvent,
    HTTPScope,
    Receive,
    ReceiveEvent,
    Scope,
    Send,
    SendEvent,
    WebSocketScope,
)

ROOT = Path(__file__).resolve().parent.parent
ServerFactory = Callable[..., "contextlib.AbstractContextManager[ServerURL]"]


# ------------------------------------------------------------------ a middleware that marks responses


class TagResponses:
    """A pure ASGI middleware adding ``<header>: <name>`` to every response, to see which layers it passed."""

    def __init__(self, app: ASGIApp, name: str, header: str = "x-tag") -> None:
        self.app = app
        self.name = name
        self.line = (header.encode("latin-1"), name.encode("latin-1"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def tagged(message: SendEvent) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.line]
            await send(message)

        await self.app(scope, receive, tagged)


# ------------------------------------------------------------------ plain-ASGI scopes and driver

Message: TypeAlias = SendEvent | ExtensionSendEvent
"""Anything an app may send, extension messages included."""
Extensions: TypeAlias = dict[str, dict[object, object]]
RawHeaders: TypeAlias = list[tuple[bytes, bytes]]


def raw_headers(headers: Mapping[str, str] | RawHeaders | None) -> RawHeaders:
    """A list of pairs is used as is (tests check it is shared, not copied); a mapping is lower-cased and encoded."""
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    return headers


def http_scope(
    method: str = "GET",
    path: str = "/",
    *,
    headers: Mapping[str, str] | RawHeaders | None = None,
    query_string: bytes = b"",
    scheme: str = "http",
    root_path: str = "",
    raw_path: bytes | None = None,
    client: tuple[str, int] | None = None,
    server: tuple[str, int | None] | None = None,
    extensions: Extensions | None = None,
    state: dict[str, Any] | None = None,
    **framework_keys: object,
) -> HTTPScope:
    """An ``http`` scope as a server would build it (with ``state`` only if given); ``framework_keys``
    (``app``, ``auth``...) are added beside the spec's, as the framework itself would."""
    scope: HTTPScope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode() if raw_path is None else raw_path,
        "query_string": query_string,
        "root_path": root_path,
        "headers": raw_headers(headers),
        "client": client,
        "server": server,
    }
    if extensions is not None:
        scope["extensions"] = extensions
    if state is not None:
        scope["state"] = state
    cast(dict[str, object], scope).update(framework_keys)
    return scope


def websocket_scope(
    path: str = "/",
    *,
    headers: Mapping[str, str] | RawHeaders | None = None,
    query_string: bytes = b"",
    scheme: str = "ws",
    subprotocols: list[str] | None = None,
    client: tuple[str, int] | None = None,
    server: tuple[str, int | None] | None = None,
    extensions: Extensions | None = None,
) -> WebSocketScope:
    """A ``websocket`` scope as a server would build it."""
    scope: WebSocketScope = {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query_string,
        "root_path": "",
        "headers": raw_headers(headers),
        "client": client,
        "server": server,
        "subprotocols": subprotocols if subprotocols is not None else [],
    }
    if extensions is not None:
        scope["extensions"] = extensions
    return scope


def body_receiver(*chunks: bytes, disconnect: asyncio.Event | None = None) -> Receive:
    """A server's ``receive``: the body as ``http.request`` events (``chunks``; one empty one if none given), then
    ``http.disconnect`` — at once, or only once ``disconnect`` is set (a never-set event: the client stays)."""
    events: list[HTTPRequestEvent] = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks or (b"",))
    ]

    async def receive() -> ReceiveEvent:
        if events:
            return events.pop(0)
        if disconnect is not None:
            await disconnect.wait()
        return {"type": "http.disconnect"}

    return receive


class MessageCollector:
    """A server's ``send``: keeps every message in order; sets ``complete`` once the response is sent in full."""

    def __init__(self, complete: asyncio.Event | None = None) -> None:
        self.messages: list[Message] = []
        self.complete = complete if complete is not None else asyncio.Event()

    async def __call__(self, message: Message) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.pathsend" or (
            message["type"] == "http.response.body" and not message.get("more_body", False)
        ):
            self.complete.set()


async def drive(
    app: ASGIApp,
    scope: Scope,
    *,
    body: bytes = b"",
    receive: Receive | None = None,
    disconnect: asyncio.Event | None = None,
    timeout: float = 5.0,
) -> list[Message]:
    """Run ``app`` once as a server would, bounded by ``timeout``; return what it sent.

    By default ``receive`` gives ``body``, then ``http.disconnect`` once the response is complete (or once
    ``disconnect`` is set, if given)."""
    send = MessageCollector(disconnect)
    if receive is None:
        receive = body_receiver(body, disconnect=send.complete)
    await asyncio.wait_for(app(scope, receive, send), timeout)
    return send.messages


def call_app(app: ASGIApp, scope: Scope, *, body: bytes = b"", receive: Receive | None = None) -> list[Message]:
    """:func:`drive` from synchronous code, in a fresh event loop."""
    return asyncio.run(drive(app, scope, body=body, receive=receive))


def handles_to(path: Path | str) -> int:
    """How many of this process's file descriptors are open on ``path`` (read from ``/proc/self/fd``)."""
    target = os.path.realpath(path)
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor, closed by now
            if os.readlink(f"/proc/self/fd/{fd}") == target:
                count += 1
    return count


# ------------------------------------------------------------------ a real server

class ServerURL(str):
    """The server's base URL; ``log()`` reads what the server printed so far."""

    log_path: Path
    pid: int  # the server's process (``typedasgi run`` serves in it)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def connect(base: str, timeout: float) -> socket.socket:
    """A connection to a server's base URL (``http://host:port``) or its unix socket's path."""
    if base.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(base)
        except OSError:
            sock.close()
            raise
        return sock
    address = urllib.parse.urlsplit(base)
    assert address.hostname is not None and address.port is not None
    return socket.create_connection((address.hostname, address.port), timeout=timeout)


@contextlib.contextmanager
def running_server(
    app: str,
    *,
    args: tuple[str, ...] = (),
    app_dir: Path = ROOT,
    timeout: float = 20.0,
    command: str = "cli",
    uds: Path | None = None,
) -> Iterator[ServerURL]:
    """Serve ``app`` (MODULE:ATTR) with ``typedasgi run`` (or plain uvicorn); yield its base URL.

    With ``uds`` (plain uvicorn only) the server listens on that unix socket instead, and the
    "base URL" yielded is the socket's path. The server runs in its own process group and is
    always stopped, within ``timeout``.
    """
    port = free_port()
    if command == "cli":
        assert uds is None, "typedasgi run serves TCP only: use command='uvicorn' for a unix socket"
        cmd = [sys.executable, "-m", "typedasgi", "run", app, "--port", str(port), "--app-dir", str(app_dir)]
    else:
        cmd = [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--app-dir", str(app_dir), "--host", "127.0.0.1"]
        if uds is not None:
            cmd += ["--uds", str(uds)]  # uvicorn binds the socket instead of the port
    cmd += list(args)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    log_file = tempfile.NamedTemporaryFile(prefix="typedasgi-server-", suffix=".log", delete=False)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    base = ServerURL(str(uds) if uds is not None else f"http://127.0.0.1:{port}")
    base.log_path = Path(log_file.name)
    base.pid = proc.pid
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited early ({proc.returncode}):\n{base.log()}")
            try:
                with connect(base, timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"server did not start within {timeout}s") from None
                time.sleep(0.05)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(timeout=5)
        log_file.close()
        os.unlink(log_file.name)



def http_get(url: str, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()
