"""Expected errors: each marked line must be a mypy error with the marked code and text."""

from typedasgi.types import HTTPScope, Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        scope["methd"]  # E: typeddict-item: "methd"
    await send({"type": "http.response.begin", "status": 200, "headers": [], "trailers": False})  # E: typeddict-item: 'http.response.begin'
    await send({"type": "http.response.start", "status": "200", "headers": [], "trailers": False})  # E: typeddict-item: item "status" has type "int"
    message = await receive()
    message["body"]  # E: typeddict-item: "body"


def wrong_scope(scope: HTTPScope) -> None:
    scope["path"] = b"/raw"  # E: typeddict-item: "path"
