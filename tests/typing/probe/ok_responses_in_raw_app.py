"""typedasgi's responses used as plain ASGI apps inside a raw app."""

from collections.abc import AsyncIterator

from typedasgi.responses import JSONResponse, StreamingResponse
from typedasgi.types import Receive, Scope, Send


async def numbers() -> AsyncIterator[bytes]:
    for number in range(3):
        yield str(number).encode()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] == "/stream":
        await StreamingResponse(numbers(), media_type="text/plain")(scope, receive, send)
    else:
        await JSONResponse({"path": scope["path"]})(scope, receive, send)
