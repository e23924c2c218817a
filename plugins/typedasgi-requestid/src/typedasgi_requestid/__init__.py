"""typedasgi-requestid: every request gets an id, sent back in a header and readable while it runs.

Installed, it adds itself to every typedasgi app (entry point ``requestid``).
The id is the client's ``X-Request-ID`` when that looks like an id (1-128
characters of letters, digits and ``-_.:``), else a new random one; the
response carries it back in the same header. While the request runs,
:data:`request_id` holds it, so log lines can carry it::

    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter("%(request_id)s %(levelname)s %(message)s"))

To configure it, give your own instance: ``TypedASGI(plugins=[RequestIdPlugin(header="x-correlation-id")])``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Sequence
from contextvars import ContextVar

from typedasgi.hooks import PluginApp, PluginMiddleware, hookimpl
from typedasgi.middleware import Middleware
from typedasgi.types import AnyASGIApp, Receive, Scope, Send, SendEvent, as_asgi_app

__all__ = ["RequestIdFilter", "RequestIdMiddleware", "RequestIdPlugin", "plugin", "request_id"]

request_id: ContextVar[str | None] = ContextVar("typedasgi_request_id", default=None)
"""The current request's id while it is handled (also in its background tasks); None outside requests."""

_VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def new_request_id() -> str:
    """32 random hex digits."""
    return os.urandom(16).hex()


class RequestIdMiddleware:
    """Pure ASGI: picks the request's id, sets :data:`request_id`, adds the id to the response head."""

    def __init__(
        self,
        app: AnyASGIApp,
        header: str = "x-request-id",
        trust_incoming: bool = True,
        generate: Callable[[], str] = new_request_id,
    ) -> None:
        self.app = as_asgi_app(app)
        self.header = header.lower().encode("latin-1")
        self.trust_incoming = trust_incoming
        self.generate = generate

    def _incoming(self, scope: Scope) -> str | None:
        if not self.trust_incoming or scope["type"] == "lifespan":
            return None
        for key, value in scope.get("headers", ()):
            if key == self.header:
                text = value.decode("latin-1")
                return text if _VALID.fullmatch(text) else None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        current = self._incoming(scope) or self.generate()
        header = (self.header, current.encode("latin-1"))

        async def send_with_id(message: SendEvent) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if all(key.lower() != self.header for key, _ in headers):
                    headers.append(header)
                message["headers"] = headers
            await send(message)

        token = request_id.set(current)
        try:
            await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)
        finally:
            request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """A logging filter that sets ``record.request_id`` ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


class RequestIdPlugin:
    """The plugin: adds :class:`RequestIdMiddleware` outermost among plugin middleware."""

    plugin_name = "requestid"

    def __init__(self, header: str = "x-request-id", trust_incoming: bool = True) -> None:
        self.header = header
        self.trust_incoming = trust_incoming

    @hookimpl.middleware
    def middleware(self, app: PluginApp) -> Sequence[PluginMiddleware]:
        # order -100: outside other plugins' middleware, so their log lines carry the id too
        entry = Middleware(RequestIdMiddleware, header=self.header, trust_incoming=self.trust_incoming)
        return [PluginMiddleware(entry, position="outer", order=-100)]


plugin = RequestIdPlugin()
"""The instance the entry point loads."""
