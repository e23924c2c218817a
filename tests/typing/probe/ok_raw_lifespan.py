"""The lifespan protocol by hand: startup and shutdown, with and without a failure message."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "lifespan":
        return
    state = scope.get("state")
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if state is None:
                await send({"type": "lifespan.startup.failed"})
                return
            state["ready"] = True
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
