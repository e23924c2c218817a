"""A startup failure message that is not a string."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": RuntimeError("no database")})  # E: arg-type: Argument 1 to "__call__" of "Send" ## reportArgumentType: RuntimeError
