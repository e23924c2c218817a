"""The WebSocket connection: the ASGI WebSocket spec as two checked state machines.

The application side (what the app sends) and the client side (what the server
delivers) each move CONNECTING -> CONNECTED -> DISCONNECTED (the application side
may go to RESPONSE instead, for a denial response). Every call checks its side, so
misuse - sending before ``accept()``, accepting twice, reading after the
disconnect - fails at once with a message naming the mistake, instead of hanging
or confusing the server.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping
from typing import Any, Literal, Protocol, TypeVar, overload

import msgspec
from typing_extensions import TypeIs

from typedasgi import status
from typedasgi.denial import denial_message, offers_denial
from typedasgi.headers import encode_header
from typedasgi.jsoncodec import decode_json, decoder_for, encode_json
from typedasgi.middleware.tracking import WebSocketTracking
from typedasgi.requests import HTTPConnection, StateT
from typedasgi.types import (
    Receive,
    ReceiveEvent,
    Scope,
    Send,
    SendEvent,
    WebSocketReceiveEvent,
    WebSocketReceiveMessage,
    WebSocketScope,
    WebSocketSendEvent,
    WebSocketSendMessage,
)

__all__ = [
    "WebSocket",
    "WebSocketClose",
    "WebSocketDecodeError",
    "WebSocketMessageKindError",
    "WebSocketDisconnect",
    "WebSocketDisconnected",
    "WebSocketState",
    "DenialResponse",
    "fit_close_reason",
]

T = TypeVar("T")


class WebSocketState(enum.Enum):
    """Where one side of the connection is in the ASGI WebSocket lifecycle."""

    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
    RESPONSE = 3


_CONNECTED = WebSocketState.CONNECTED  # a module global: cheaper to read than the enum attribute

MAX_CLOSE_REASON = 123
"""Bytes of UTF-8 a close frame's reason may have (RFC 6455 5.5: 125 for the payload, 2 of them the code)."""


def fit_close_reason(reason: str) -> str:
    """``reason`` cut to ``MAX_CLOSE_REASON`` bytes of UTF-8, at a character boundary.

    A longer reason is a protocol error for the server: uvicorn's default WebSocket
    implementation then drops the connection without a close frame and logs an error.
    Reasons may quote the client (a decode error naming its field), so they are fitted.
    """
    encoded = reason.encode("utf-8", "replace")
    return reason if len(encoded) <= MAX_CLOSE_REASON else encoded[:MAX_CLOSE_REASON].decode("utf-8", "ignore")


class WebSocketDisconnect(Exception):
    """The peer closed the connection (``code`` and ``reason`` are the close frame's)."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason: str = reason or ""
        super().__init__(code, self.reason)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, reason={self.reason!r})"


class WebSocketDisconnected(RuntimeError):
    """The app used a connection that is already over: received after the disconnect, or sent after the close.

    A ``RuntimeError`` (a bug in the app, not the peer's doing), unlike :class:`WebSocketDisconnect`.
    """


class WebSocketDecodeError(ValueError, RuntimeError):
    """A client message that is not what the app asked for (bad JSON, text where bytes were expected).

    It is the client's mistake: ``WebSocketEndpoint`` answers it with close code
    1003 (unsupported data), not with a server error. Also a ``RuntimeError``,
    which is what Starlette code catches for the same mistake.
    """


class WebSocketMessageKindError(WebSocketDecodeError, KeyError):
    """A binary message where the app asked for text, or the reverse.

    Also a ``KeyError``: Starlette's ``receive_text()``/``receive_bytes()`` raise one for it (the message has
    no such key), and code written for Starlette catches that (Strawberry's GraphQL over WebSocket does).
    """

    def __str__(self) -> str:
        return Exception.__str__(self)  # the message as given, not quoted as KeyError's own __str__ would


class DenialResponse(Protocol):
    """What :meth:`WebSocket.send_denial_response` sends: any response that is an ASGI app.

    It must answer with ``http.response.start`` and ``http.response.body``
    messages, as every ``typedasgi.responses.Response`` does.
    """

    def __call__(self, scope: WebSocketScope, receive: Receive, send: Send, /) -> Awaitable[None]: ...


class WebSocket(HTTPConnection[StateT]):
    """One WebSocket session: URL, headers, cookies and state like a request, plus messages."""

    def __init__(self, scope: WebSocketScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            raise ValueError(f"WebSocket needs a 'websocket' scope, got {scope['type']!r}")
        super().__init__(scope, receive)
        self.scope: WebSocketScope = scope
        self._receive = receive
        self._send = send
        # Data messages change no tracked state: they skip the error layer's tracker (one call less each).
        self._send_data: Send = send.send if type(send) is WebSocketTracking else send
        self.client_state: WebSocketState = WebSocketState.CONNECTING
        self.application_state: WebSocketState = WebSocketState.CONNECTING
        self._peer_gone = False  # the server said the client left (ASGI 2.4: send raised OSError)

    # ------------------------------------------------------------------ receiving

    async def receive(self) -> WebSocketReceiveMessage:
        """The next message from the server, checked against the client state machine."""
        state = self.client_state
        if state is WebSocketState.DISCONNECTED:
            raise WebSocketDisconnected("Cannot call receive() once a disconnect message has been received")
        if state is WebSocketState.CONNECTED and self.application_state is WebSocketState.CONNECTING:
            raise RuntimeError("Cannot receive messages before accept(): the handshake is not complete")
        message = await self._receive()
        kind = message["type"]
        if state is WebSocketState.CONNECTING:
            if message["type"] != "websocket.connect":
                raise RuntimeError(f'Expected a "websocket.connect" message, got {kind!r}')
            self.client_state = WebSocketState.CONNECTED
            return message
        if message["type"] == "websocket.receive":
            return message
        if message["type"] == "websocket.disconnect":
            self.client_state = WebSocketState.DISCONNECTED
            return message
        raise RuntimeError(f'Expected a "websocket.receive" or "websocket.disconnect" message, got {kind!r}')

    async def _receive_data(self) -> WebSocketReceiveEvent:
        """The next data message; the client's disconnect becomes :class:`WebSocketDisconnect`."""
        if self.application_state is not WebSocketState.CONNECTED:
            if self._peer_gone:  # another task's send learnt the client left: the peer's doing, not the app's
                raise self._gone()
            raise WebSocketDisconnected("WebSocket is not connected: call accept() first")
        message = await self.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code") or 1000, message.get("reason"))
        if message["type"] == "websocket.connect":  # only possible if accept() was bypassed
            raise RuntimeError('Unexpected "websocket.connect" message after accept()')
        return message

    def _data(self, message: ReceiveEvent) -> WebSocketReceiveEvent:
        """A message received while both sides are connected: data, or the disconnect raised."""
        if message["type"] == "websocket.receive":
            return message
        if message["type"] == "websocket.disconnect":
            self.client_state = WebSocketState.DISCONNECTED
            raise WebSocketDisconnect(message.get("code") or 1000, message.get("reason"))
        kind = message["type"]
        raise RuntimeError(f'Expected a "websocket.receive" or "websocket.disconnect" message, got {kind!r}')

    async def receive_text(self) -> str:
        """The next message as text; a binary message raises :class:`WebSocketDecodeError`."""
        if self.client_state is _CONNECTED and self.application_state is _CONNECTED:
            # The open session's common case: the state checks of receive() hold, no extra frame per message.
            message = await self._receive()
            text = (message if message["type"] == "websocket.receive" else self._data(message)).get("text")
        else:
            text = (await self._receive_data()).get("text")
        if text is None:
            raise WebSocketMessageKindError("Expected a text message, got a binary one")
        return text

    async def receive_bytes(self) -> bytes:
        """The next message as bytes; a text message raises :class:`WebSocketDecodeError`."""
        data = (await self._receive_data()).get("bytes")
        if data is None:
            raise WebSocketMessageKindError("Expected a binary message, got a text one")
        return data

    @overload
    async def receive_json(self, mode: Literal["text", "binary"] = "text") -> object: ...
    @overload
    async def receive_json(self, mode: Literal["text", "binary"] = "text", *, type: type[T]) -> T: ...
    async def receive_json(self, mode: Literal["text", "binary"] = "text", *, type: Any = object) -> Any:
        """The next message decoded as JSON with msgspec, optionally into ``type``.

        ``mode`` says which frame kind the client sends JSON in. Malformed JSON,
        a value that does not fit ``type`` or the wrong frame kind raise
        :class:`WebSocketDecodeError`.
        """
        if mode == "text":
            payload: str | bytes = await self.receive_text()
        elif mode == "binary":
            payload = await self.receive_bytes()
        else:
            raise RuntimeError(f'mode must be "text" or "binary", got {mode!r}')
        try:
            if type is object:
                return decode_json(payload)
            return decoder_for(type).decode(payload)  # a kept decoder: the type is not analysed per message
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
            raise WebSocketDecodeError(f"Malformed JSON message: {exc}") from None

    async def iter_text(self) -> AsyncIterator[str]:
        """Text messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            return

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Binary messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            return

    async def iter_json(self, mode: Literal["text", "binary"] = "text") -> AsyncIterator[object]:
        """JSON messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_json(mode)
        except WebSocketDisconnect:
            return

    # -------------------------------------------------------------------- sending

    async def send(self, message: WebSocketSendMessage) -> None:
        """Send one message, checked against the application state machine."""
        state = self.application_state
        kind = message["type"]
        if state is WebSocketState.CONNECTING:
            if message["type"] == "websocket.accept":
                self.application_state = WebSocketState.CONNECTED
            elif message["type"] == "websocket.close":
                self.application_state = WebSocketState.DISCONNECTED
            elif message["type"] == "websocket.http.response.start":
                if not offers_denial(self.scope):
                    raise RuntimeError("The server does not support the WebSocket denial response extension")
                self.application_state = WebSocketState.RESPONSE
            elif kind == "websocket.send":
                raise RuntimeError("Cannot call send() before accept()")
            else:
                raise RuntimeError(
                    'Expected "websocket.accept", "websocket.close" or "websocket.http.response.start", '
                    f"got {kind!r}"
                )
        elif state is WebSocketState.CONNECTED:
            if message["type"] == "websocket.close":
                self.application_state = WebSocketState.DISCONNECTED
            elif message["type"] == "websocket.accept":
                raise RuntimeError("Cannot call accept() twice: the connection is already accepted")
            elif message["type"] != "websocket.send":
                raise RuntimeError(f'Expected "websocket.send" or "websocket.close", got {kind!r}')
        elif state is WebSocketState.RESPONSE:
            if message["type"] != "websocket.http.response.body":
                raise RuntimeError(f'Expected ASGI message "websocket.http.response.body", but got {kind!r}')
            if not message.get("more_body", False):
                self.application_state = WebSocketState.DISCONNECTED
        elif self._peer_gone:  # the client left (a send found out): every later send says so, as the first did
            raise self._gone()
        else:
            raise WebSocketDisconnected(f"Cannot send {kind!r}: the connection is already closed")
        try:
            await self._send(message)
        except OSError:
            raise self._gone() from None

    def _gone(self) -> WebSocketDisconnect:
        """ASGI 2.4: the server raises OSError once the client is gone; the session is over."""
        self.application_state = WebSocketState.DISCONNECTED
        self._peer_gone = True
        return WebSocketDisconnect(status.WS_1006_ABNORMAL_CLOSURE)

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[bytes, bytes]] | None = None,
    ) -> None:
        """Complete the handshake, picking ``subprotocol`` (one the client offered) and adding ``headers``."""
        if self.application_state is not WebSocketState.CONNECTING:
            if self.application_state is WebSocketState.CONNECTED:
                raise RuntimeError("Cannot call accept() twice: the connection is already accepted")
            raise RuntimeError("Cannot call accept() once the connection is closed or denied")
        if subprotocol is not None and subprotocol not in self.scope.get("subprotocols", ()):
            raise ValueError(f"Subprotocol {subprotocol!r} was not offered by the client")
        await self._ensure_connect_received()
        await self.send({"type": "websocket.accept", "subprotocol": subprotocol, "headers": _raw_headers(headers)})

    async def _ensure_connect_received(self) -> None:
        if self.client_state is WebSocketState.CONNECTING:
            await self.receive()  # the "websocket.connect" the server sends first

    async def send_text(self, data: str) -> None:
        message: WebSocketSendEvent = {"type": "websocket.send", "text": data, "bytes": None}
        if self.application_state is not _CONNECTED:
            await self.send(message)
            return
        try:  # accepted and open: what send() checks holds, so send without the extra frame
            await self._send_data(message)
        except OSError:
            raise self._gone() from None

    async def send_bytes(self, data: bytes) -> None:
        await self.send({"type": "websocket.send", "bytes": data, "text": None})

    async def send_json(self, data: object, mode: Literal["text", "binary"] = "text") -> None:
        """Encode ``data`` with msgspec and send it as a text (default) or binary frame."""
        encoded = encode_json(data)
        if mode == "text":
            await self.send({"type": "websocket.send", "text": encoded.decode(), "bytes": None})
        elif mode == "binary":
            await self.send({"type": "websocket.send", "bytes": encoded, "text": None})
        else:
            raise RuntimeError(f'mode must be "text" or "binary", got {mode!r}')

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection; before ``accept()`` this rejects the handshake (HTTP 403).

        A ``reason`` over 123 bytes of UTF-8 is cut to fit the close frame (:func:`fit_close_reason`).
        """
        await self.send({"type": "websocket.close", "code": code, "reason": fit_close_reason(reason or "")})

    async def send_denial_response(self, response: DenialResponse) -> None:
        """Reject the handshake with a full HTTP response instead of accepting.

        Servers with the ``websocket.http.response`` extension send ``response``
        as is; on others the ASGI spec only allows closing before accept, which
        the server answers with HTTP 403, so that is what happens.
        """
        if self.application_state is not WebSocketState.CONNECTING:
            raise RuntimeError("send_denial_response() must be called before accept() or close()")
        await self._ensure_connect_received()
        if offers_denial(self.scope):
            await response(self.scope, self._receive, self._denial_send)
            if self.application_state in (WebSocketState.CONNECTING, WebSocketState.RESPONSE):
                raise RuntimeError("The denial response did not send a complete body")
        else:
            await self.close()  # before accept: the server answers HTTP 403 whatever the code

    async def _denial_send(self, message: SendEvent, /) -> None:
        """A response's ``http.response.*`` messages, sent as the denial extension's."""
        translated = denial_message(message)
        if translated is None:
            raise RuntimeError(f"A denial response cannot send {message['type']!r}")
        await self.send(translated)


def _is_str_mapping(headers: Mapping[str, str] | Iterable[tuple[bytes, bytes]]) -> TypeIs[Mapping[str, str]]:
    # isinstance() alone would also narrow the pairs to Mapping[tuple[bytes, bytes], Unknown] under pyright
    return isinstance(headers, Mapping)


def _raw_headers(headers: Mapping[str, str] | Iterable[tuple[bytes, bytes]] | None) -> list[tuple[bytes, bytes]]:
    if headers is None:
        return []
    if _is_str_mapping(headers):
        return [encode_header(key, value) for key, value in headers.items()]
    return list(headers)


class WebSocketClose:
    """An ASGI app that closes the WebSocket with ``code``: e.g. for unmatched WebSocket routes."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason: str = reason or ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send, /) -> None:
        if scope["type"] != "websocket":
            raise RuntimeError(f"WebSocketClose only serves 'websocket' scopes, got {scope['type']!r}")
        await send({"type": "websocket.close", "code": self.code, "reason": self.reason})
