"""The framework's own redirects to the request's URL (slash redirects), safe whatever the client sent.

The target is built from the request's URL, so its authority is the validated
``Host`` (or the server's address when the Host is malformed); a request without
any host gets a path whose first segment cannot be read as an authority. Either
way a browser reads the ``Location`` as this origin, never as ``//other.host``.
"""

from __future__ import annotations

from typedasgi.datastructures import URL
from typedasgi.responses import RedirectResponse
from typedasgi.types import Receive, Send, WWWScope

__all__ = ["send_slash_redirect"]


async def send_slash_redirect(scope: WWWScope, receive: Receive, send: Send) -> None:
    """Redirect to the request's URL with its trailing slash added, or removed if it has one."""
    url = URL(scope=scope)
    path = url.path[:-1] if url.path.endswith("/") else url.path + "/"
    await RedirectResponse(url.replace(path=path))(scope, receive, send)
