"""A WebSocket echo service: text, bytes and JSON, plus a count of live sessions.

    typedasgi run examples.echo:app
"""

from __future__ import annotations

import msgspec

from typedasgi.applications import TypedASGI
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse
from typedasgi.status import WS_1003_UNSUPPORTED_DATA
from typedasgi.websockets import WebSocket, WebSocketDisconnect

app = TypedASGI()
live_sessions = 0


@app.websocket_route("/echo")
async def echo(websocket: WebSocket) -> None:
    """Echo every message in the mode it came in; ``?mode=json`` decodes and re-encodes JSON (else: close 1003)."""
    global live_sessions
    live_sessions += 1
    try:
        await websocket.accept()
        json_mode = websocket.query_params.get("mode") == "json"
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message["type"] != "websocket.receive":
                continue
            # Servers may leave out the key that is None, so read with .get (see typedasgi.types).
            text, data = message.get("text"), message.get("bytes")
            if json_mode:
                try:
                    value = msgspec.json.decode(text or "null")
                except (msgspec.DecodeError, RecursionError):  # the client's mistake (too deep: RecursionError)
                    await websocket.close(WS_1003_UNSUPPORTED_DATA, "not JSON")
                    return
                await websocket.send_json({"echo": value})
            elif text is not None:
                await websocket.send_text(text)
            elif data is not None:
                await websocket.send_bytes(data)
    except WebSocketDisconnect:
        return
    finally:
        live_sessions -= 1


@app.route("/stats")
async def stats(request: Request) -> JSONResponse:
    return JSONResponse({"live_sessions": live_sessions})
