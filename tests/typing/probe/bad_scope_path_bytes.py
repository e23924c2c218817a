"""Rewriting the path with bytes: ``path`` is str (``raw_path`` is the bytes one)."""

from typedasgi.types import ASGIApp, Receive, Scope, Send


class Rewrite:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["path"] = b"/v2" + scope.get("raw_path", b"")  # E: typeddict-item: Value of "path" has incompatible type "bytes"; expected "str" ## reportGeneralTypeIssues: "bytes" is not assignable to "str"
        await self.app(scope, receive, send)
