"""typedasgi's own helpers for pure middleware: edit the response head, answer early."""

from typedasgi.datastructures import MutableHeaders
from typedasgi.middleware.pure import PureASGIMiddleware, on_response_start, respond_early
from typedasgi.responses import PlainTextResponse
from typedasgi.types import HTTPResponseStartEvent, HTTPScope, Receive, Send


class Guard(PureASGIMiddleware):
    async def handle_http(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        if scope["path"].startswith("/admin"):
            await respond_early(scope, receive, send, PlainTextResponse("no", status_code=403))
            return

        def stamp(message: HTTPResponseStartEvent, headers: MutableHeaders) -> None:
            headers["x-guarded"] = "1"

        await self.app(scope, receive, on_response_start(send, stamp))
