"""Announced trailers, and extension messages sent once the scope offers them."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    extensions = scope.get("extensions", {})
    if "http.response.pathsend" in extensions:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.pathsend", "path": "/srv/file.txt"})
        return
    trailers = "http.response.trailers" in extensions
    await send({"type": "http.response.start", "status": 200, "trailers": trailers})
    await send({"type": "http.response.body", "body": b"part", "more_body": True})
    await send({"type": "http.response.body"})
    if trailers:
        await send({"type": "http.response.trailers", "headers": [(b"x-checksum", b"abc")]})
