"""An ASGI 2 style app where an ASGI 3 app is expected."""

from typedasgi.routing import Mount
from typedasgi.types import Receive, Scope, Send


def legacy(scope: Scope) -> object:
    async def instance(receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})

    return instance


mount = Mount("/legacy", app=legacy)  # E: arg-type: Argument "app" to "Mount" ## reportArgumentType: parameter "app"
