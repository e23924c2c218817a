"""The framework's own redirects to the request's URL (slash redirects), safe whatever the client sent.

The target is built from the request's URL, so its authority is the validated
``Host`` (a bad one is a 400, never a ``Location``); a request without any host
gets a path that starts with exactly one ``/``. Either way a browser reads the
``Location`` as this origin, never as ``//other.host``.
"""

from __future__ import annotations

from typedasgi.datastructures import URL
from typedasgi.exceptions import InvalidHostHeader, raises_to_app
from typedasgi.responses import PlainTextResponse, RedirectResponse
from typedasgi.types import Receive, Send, WWWScope

__all__ = ["send_slash_redirect"]


async def send_slash_redirect(scope: WWWScope, receive: Receive, send: Send) -> None:
    """Redirect to the request's URL with its trailing slash added, or removed if it has one."""
    try:
        url = URL(scope=scope)
    except InvalidHostHeader as error:
        if raises_to_app(scope):
            raise  # inside an app: its exception handlers answer the 400
        await PlainTextResponse(error.detail, status_code=error.status_code)(scope, receive, send)
        return
    path = url.path[:-1] if url.path.endswith("/") else url.path + "/"
    await RedirectResponse(url.replace(path=path))(scope, receive, send)
