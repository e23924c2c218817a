"""WebSockets through the TestClient: the handshake, message exchange and close, driven from a test."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Literal, Self, TypeVar, cast

import msgspec

try:
    import httpx2
except ImportError as _missing:  # pragma: no cover - exercised only without the extra
    raise ImportError("The TestClient needs httpx2: pip install 'typedasgi[testclient]'") from _missing

from typedasgi import status
from typedasgi.contract_rules import carries_one_payload
from typedasgi.jsoncodec import encode_json
from typedasgi.testclient_app import AppConfig, TestClientTimeout, app_failure, server_address, wait_within
from typedasgi.testclient_loop import LoopProvider
from typedasgi.types import (
    SendEvent,
    WebSocketAcceptEvent,
    WebSocketCloseEvent,
    WebSocketReceiveEvent,
    WebSocketReceiveMessage,
    WebSocketScope,
    WebSocketSendEvent,
    WebSocketSendMessage,
)
from typedasgi.websockets import WebSocketDisconnect

__all__ = ["WebSocketDenialResponse", "WebSocketTestSession", "websocket_scope"]

T = TypeVar("T")

_WEBSOCKET_KEY = b"dGhlIHNhbXBsZSBub25jZQ=="  # any base64 of 16 bytes will do: nothing checks it in-process


# The ignore: httpx2.Response and Exception define __setstate__ differently (it matters for pickling only).
class WebSocketDenialResponse(httpx2.Response, WebSocketDisconnect):  # type: ignore[misc]
    """The app refused the handshake with an HTTP response (the WebSocket denial response extension).

    Raised by ``websocket_connect``; it is also the response: ``.status_code .headers .content .text .json()``.
    A :class:`WebSocketDisconnect` too, as in Starlette, so ``except WebSocketDisconnect`` sees every refused
    handshake; its ``code`` is 1006, what a browser reports when the handshake fails.
    """

    def __str__(self) -> str:
        return f"WebSocket handshake denied with HTTP {self.status_code}: {self.text[:200]!r}"


def _denial(status_code: int, headers: list[tuple[bytes, bytes]], body: bytes) -> WebSocketDenialResponse:
    denial = WebSocketDenialResponse(status_code, headers=headers, stream=httpx2.ByteStream(body))
    denial.code, denial.reason = status.WS_1006_ABNORMAL_CLOSURE, ""  # httpx2's __init__ ran, not WebSocketDisconnect's
    denial.read()
    return denial


def websocket_scope(config: AppConfig, request: httpx2.Request, subprotocols: list[str]) -> WebSocketScope:
    url = request.url
    headers = [(name.lower(), value) for name, value in request.headers.raw if name.lower() != b"connection"]
    headers += [
        (b"connection", b"upgrade"),
        (b"upgrade", b"websocket"),
        (b"sec-websocket-version", b"13"),
        (b"sec-websocket-key", _WEBSOCKET_KEY),
    ]
    if subprotocols:
        headers.append((b"sec-websocket-protocol", ", ".join(subprotocols).encode()))
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": {"http": "ws", "https": "wss"}.get(url.scheme, url.scheme),
        "path": url.path,
        "raw_path": url.raw_path.split(b"?", 1)[0],
        "query_string": url.query,
        "root_path": config.root_path,
        "headers": headers,
        "client": config.client,
        "server": server_address(url),
        "subprotocols": subprotocols,
        "extensions": {"websocket.http.response": {}, **config.raise_extension()},
        "state": dict(config.state),
    }


class _ClientGone(OSError):
    """What the app's send() raises once the test closed the connection (ASGI 2.4: an OSError)."""


class _WebSocketChannel:
    """The server side of one websocket connection: the app runs as a task, messages go through queues."""

    def __init__(self, config: AppConfig, scope: WebSocketScope) -> None:
        self._config = config
        self._scope = scope
        self._to_app: asyncio.Queue[WebSocketReceiveMessage] = asyncio.Queue()
        self._from_app: asyncio.Queue[WebSocketSendMessage | None] = asyncio.Queue()  # None: the app returned
        self._task: asyncio.Task[None] | None = None
        self._disconnect: WebSocketReceiveMessage | None = None  # once the client left: what receive() repeats
        self._closed: WebSocketDisconnect | None = None  # once the app closed: what the client sees again
        self._state: Literal["connecting", "connected", "denying", "closed"] = "connecting"
        self._error: BaseException | None = None
        self._error_reported = False
        self._listening = 0  # the app's receive() calls waiting for the client
        self._disconnect_taken = False  # the app's receive() returned the disconnect
        self.hung = False

    # -- the app's side

    async def _run(self) -> None:
        try:
            await self._config.app(self._scope, self._app_receive, self._app_send)
        except BaseException as error:
            if not app_failure(error):
                raise
            self._error = error
        finally:
            self._from_app.put_nowait(None)

    async def _app_receive(self) -> WebSocketReceiveMessage:
        if self._disconnect is not None and self._to_app.empty():
            message = self._disconnect
        else:
            self._listening += 1
            try:
                message = await self._to_app.get()
            finally:
                self._listening -= 1
        if message["type"] == "websocket.disconnect":
            self._disconnect_taken = True
        return message

    async def _app_send(self, message: SendEvent) -> None:
        kind = message["type"]
        allowed = {
            "connecting": ("websocket.accept", "websocket.close", "websocket.http.response.start"),
            "connected": ("websocket.send", "websocket.close"),
            "denying": ("websocket.http.response.body",),
            "closed": (),
        }[self._state]
        if kind not in allowed:
            raise RuntimeError(f"The app sent {kind!r} while the websocket was {self._state}")
        if kind == "websocket.send":
            if self._disconnect is not None:
                raise _ClientGone("The test client has closed the websocket")
            if not carries_one_payload(message):  # a server cannot send it either
                raise TypeError("websocket.send must carry exactly one of 'bytes' and 'text' (the other missing or None)")
        if kind == "websocket.accept":
            self._state = "connected"
        elif kind == "websocket.close":
            self._state = "closed"
        elif kind == "websocket.http.response.start":
            self._state = "denying"
        elif kind == "websocket.http.response.body" and not message.get("more_body", False):
            self._state = "closed"
        self._from_app.put_nowait(cast(WebSocketSendMessage, message))

    # -- the test's side

    def take_error(self) -> BaseException | None:
        """The app's exception, once, when the client re-raises them (a reaction to the client leaving is not one)."""
        error = self._error
        if error is None or self._error_reported or not self._config.raise_server_exceptions:
            return None
        if self._disconnect is not None and isinstance(error, (WebSocketDisconnect, _ClientGone)):
            return None
        self._error_reported = True
        return error

    async def _next(self, what: str) -> WebSocketSendMessage | None:
        return await wait_within(self._from_app.get(), self._config.timeout, what)

    async def handshake(self) -> WebSocketAcceptEvent:
        self._to_app.put_nowait({"type": "websocket.connect"})
        self._task = asyncio.create_task(self._run())
        message = await self._next("The websocket handshake")
        if message is None:  # the app returned without answering: what a server answers then
            error = self.take_error()
            if error is not None:
                raise error
            raise _denial(500 if self._error is not None else 403, [], b"")
        if message["type"] == "websocket.accept":
            return message
        if message["type"] == "websocket.close":
            await self.finish()
            error = self.take_error()
            if error is not None:
                raise error
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        if message["type"] == "websocket.http.response.start":
            status_code, headers = message["status"], list(message.get("headers", []))
            body: list[bytes] = []
            while (part := await self._next("The websocket denial response")) is not None:
                if part["type"] == "websocket.http.response.body":
                    body.append(part.get("body", b""))
                    if not part.get("more_body", False):
                        break
            await self.finish()
            error = self.take_error()
            if error is not None:
                raise error
            raise _denial(status_code, headers, b"".join(body))
        raise RuntimeError(f"The app sent {message['type']!r} during the websocket handshake")  # pragma: no cover

    async def send(self, message: WebSocketReceiveMessage) -> None:
        if message["type"] == "websocket.disconnect":
            self._disconnect = message
        self._to_app.put_nowait(message)

    async def receive(self) -> WebSocketSendEvent | WebSocketCloseEvent:
        """The app's next message: a send, or (once) its close; after that, :class:`WebSocketDisconnect`."""
        if self._closed is not None:
            raise self._closed
        message = await self._next("The websocket app's next message")
        if message is None:  # the app returned: a server closes the connection for it
            self._from_app.put_nowait(None)  # so the next receive() sees the same
            error = self.take_error()
            if error is not None:
                raise error
            raise WebSocketDisconnect(1011 if self._error is not None else 1000)
        if message["type"] == "websocket.close":
            self._closed = WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
            return message
        if message["type"] == "websocket.send":
            return message
        raise RuntimeError(f"The app sent {message['type']!r} after the handshake")  # pragma: no cover

    async def finish(self) -> None:
        """Tell the app the client left (unless it knows), and give it the timeout to return.

        An app that is listening (waiting in ``receive()``, or already told) gets to run its clean-up. One
        that neither listens nor has closed would never learn the client left: it is cancelled, as
        Starlette's client does, rather than blocking the test.
        """
        task = self._task
        if task is None or task.done():
            return
        if self._disconnect is None:
            await self.send({"type": "websocket.disconnect", "code": 1000, "reason": None})
        if not self._listening and not self._disconnect_taken and self._state != "closed":
            task.cancel()
        await asyncio.wait({task}, timeout=self._config.timeout)
        if not task.done():
            self.hung = True
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)


class WebSocketTestSession:
    """A websocket connection to the app, used as a context manager (``client.websocket_connect(url)``).

    Entering performs the handshake: it raises :class:`WebSocketDisconnect` when the app closes instead
    of accepting, :class:`WebSocketDenialResponse` when it answers with HTTP. ``receive_text/bytes/json()``
    raise :class:`WebSocketDisconnect` (with the app's code and reason) once the app closes; ``receive()``
    returns the close message itself, then raises. Leaving
    disconnects with code 1000 and waits for the app to return (an app that is not listening for the client
    is cancelled); its exception, if any, is raised then.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, config: AppConfig, scope: WebSocketScope, loop: LoopProvider) -> None:
        self.scope = scope
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] = []
        self._config = config
        self._loop = loop  # held: keeps the loop thread alive even if the client is dropped
        self._channel = _WebSocketChannel(config, scope)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self._loop.get().run(coroutine)

    def __enter__(self) -> Self:
        accept = self._run(self._channel.handshake())
        self.accepted_subprotocol = accept.get("subprotocol")
        self.extra_headers = list(accept.get("headers", []))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._run(self._channel.finish())
        error = self._channel.take_error()
        if error is not None:
            raise error
        hung, self._channel.hung = self._channel.hung, False
        if hung and exc_type is None:
            raise TestClientTimeout(
                f"The websocket app did not return within {self._config.timeout} s after the client disconnected"
            )

    def send(self, message: WebSocketReceiveMessage) -> None:
        """Send a raw ASGI message to the app."""
        self._run(self._channel.send(message))

    def send_text(self, data: str) -> None:
        # As servers send it: the key that would be None is left out (apps must read with .get).
        self.send(cast(WebSocketReceiveEvent, {"type": "websocket.receive", "text": data}))

    def send_bytes(self, data: bytes) -> None:
        self.send(cast(WebSocketReceiveEvent, {"type": "websocket.receive", "bytes": data}))

    def send_json(self, data: object, mode: Literal["text", "binary"] = "text") -> None:
        encoded = encode_json(data)
        if mode == "text":
            self.send_text(encoded.decode())
        elif mode == "binary":
            self.send_bytes(encoded)
        else:
            raise ValueError(f'mode must be "text" or "binary", got {mode!r}')

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close from the client's side: the app receives ``websocket.disconnect`` with ``code``."""
        self.send({"type": "websocket.disconnect", "code": code, "reason": reason})

    def receive(self) -> WebSocketSendEvent | WebSocketCloseEvent:
        """The app's next message as sent: a ``websocket.send``, or its ``websocket.close`` (as Starlette's
        client returns it); receiving again after the close raises :class:`WebSocketDisconnect`."""
        return self._run(self._channel.receive())

    def _receive_data(self) -> WebSocketSendEvent:
        message = self.receive()
        if message["type"] == "websocket.close":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        return message

    def receive_text(self) -> str:
        text = self._receive_data().get("text")
        if text is None:
            raise TypeError("Expected a text message, the app sent bytes")
        return text

    def receive_bytes(self) -> bytes:
        data = self._receive_data().get("bytes")
        if data is None:
            raise TypeError("Expected a bytes message, the app sent text")
        return data

    def receive_json(self, mode: Literal["text", "binary"] = "text") -> object:
        if mode == "text":
            return msgspec.json.decode(self.receive_text())
        if mode == "binary":
            return msgspec.json.decode(self.receive_bytes())
        raise ValueError(f'mode must be "text" or "binary", got {mode!r}')
