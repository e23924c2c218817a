"""Headers as a dict: the spec wants an iterable of byte pairs."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": {b"content-type": b"text/plain"}})  # E: arg-type: Argument 1 to "__call__" of "Send" ## reportArgumentType: dict[bytes, bytes]
    await send({"type": "http.response.body"})
