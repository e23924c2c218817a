"""A trailer value as str."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "trailers": True})
    await send({"type": "http.response.body"})
    await send({"type": "http.response.trailers", "headers": [(b"x-checksum", "abc")]})  # E: arg-type: Argument 1 to "__call__" of "Send" ## reportArgumentType: list[tuple[bytes, str]]
