"""A header value as str."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", "text/plain")]})  # E: arg-type: Argument 1 to "__call__" of "Send" ## reportArgumentType: list[tuple[bytes, str]]
    await send({"type": "http.response.body"})
