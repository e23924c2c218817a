"""HTTP responses answering a WebSocket handshake (the ``websocket.http.response`` extension).

A response class speaks ``http.response.*``; called with a WebSocket scope, as a
denial response, it must speak ``websocket.http.response.*`` instead. The
translation lives here so that responses and ``WebSocket.send_denial_response``
share it.
"""

from __future__ import annotations

from typedasgi.types import SendEvent, Send, WWWScope, WebSocketResponseBodyEvent, WebSocketResponseStartEvent

__all__ = ["denial_message", "denial_send", "offers_denial"]

_EXTENSION = "websocket.http.response"


def offers_denial(scope: WWWScope) -> bool:
    """Whether the server can refuse this handshake with an HTTP response; without it, only a close (HTTP 403)."""
    return _EXTENSION in (scope.get("extensions") or {})


def denial_message(message: SendEvent) -> WebSocketResponseStartEvent | WebSocketResponseBodyEvent | None:
    """``message`` as the denial extension's message; ``None`` if it has no such counterpart."""
    if message["type"] == "http.response.start":
        return {"type": "websocket.http.response.start", "status": message["status"], "headers": message.get("headers", [])}
    if message["type"] == "http.response.body":
        body = message.get("body", b"")
        return {"type": "websocket.http.response.body", "body": body, "more_body": message.get("more_body", False)}
    if message["type"] == "websocket.http.response.start" or message["type"] == "websocket.http.response.body":
        return message
    return None


def denial_send(send: Send) -> Send:
    """``send`` for a response given a WebSocket scope: its HTTP messages go out as the denial extension's."""

    async def send_as_denial(message: SendEvent, /) -> None:
        translated = denial_message(message)
        await send(message if translated is None else translated)

    return send_as_denial
