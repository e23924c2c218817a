"""The status as a string."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": "200"})  # E: arg-type: incompatible type "dict[str, str]" ## reportArgumentType: parameter "message"
    await send({"type": "http.response.body"})
