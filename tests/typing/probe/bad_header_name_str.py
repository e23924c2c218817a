"""A header name as str."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [("content-type", b"text/plain")]})  # E: arg-type: Argument 1 to "__call__" of "Send" ## reportArgumentType: list[tuple[str, bytes]]
    await send({"type": "http.response.body"})
