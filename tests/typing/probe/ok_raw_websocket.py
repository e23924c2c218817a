"""A raw WebSocket echo app with the minimal accept and close messages."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "websocket":
        return
    protocols = list(scope.get("subprotocols", []))
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            if protocols:
                await send({"type": "websocket.accept", "subprotocol": protocols[0]})
            else:
                await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            text = message.get("text")
            if text is not None:
                await send({"type": "websocket.send", "text": text})
            else:
                await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})
            if text == "bye":
                await send({"type": "websocket.close"})
                return
        elif message["type"] == "websocket.disconnect":
            reason = message.get("reason") or ""
            print(message["code"], reason)
            return
