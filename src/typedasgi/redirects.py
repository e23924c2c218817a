"""Redirects that stay on this site, whatever the client sent.

The framework's own (slash redirects) are built from the request's URL, so their
authority is the validated ``Host`` (or the server's address when the Host is
malformed); a request without any host gets a path whose first segment cannot be
read as an authority. Either way a browser reads the ``Location`` as this origin,
never as ``//other.host``.

``RedirectResponse(url)`` sends the URL the app gives: another origin may be the
point. Where the client chose the target (``?next=`` after a login), ``local_url``
keeps it on this site, read as a browser reads a ``Location``.
"""

from __future__ import annotations

from typedasgi.datastructures import URL
from typedasgi.responses import RedirectResponse
from typedasgi.types import Receive, Send, WWWScope

__all__ = ["local_url", "send_slash_redirect"]

_IGNORED_BY_BROWSERS = str.maketrans("", "", "\t\n\r")
"""Browsers drop tabs and line breaks anywhere in a URL (the WHATWG URL parser): ``/\t/evil.com`` is ``//evil.com``."""
_LEADING_STRIPPED = "".join(map(chr, range(0x21)))
"""And C0 controls and spaces before it."""


def local_url(target: str | None, fallback: str = "/") -> str:
    """``target`` if a browser reads it as a path on this site, else ``fallback``: for a redirect the client chose.

    Kept: ``/account``, ``/search?q=a#top``. Refused: anything with a scheme or an authority
    (``https://evil.com``, ``//evil.com``, ``/\\evil.com``, ``/\t/evil.com``, ``javascript:...``), a relative
    path (``evil.com``, ``../x``: relative to what the client asked), an empty or missing target.
    What is kept is returned as a browser reads it (without tabs, line breaks or leading controls).
    """
    if not target:
        return fallback
    read = target.translate(_IGNORED_BY_BROWSERS).lstrip(_LEADING_STRIPPED)
    if not read.startswith("/") or read[1:2] in ("/", "\\"):
        return fallback
    return read


async def send_slash_redirect(scope: WWWScope, receive: Receive, send: Send) -> None:
    """Redirect to the request's URL with its trailing slash added, or removed if it has one."""
    url = URL(scope=scope)
    path = url.path[:-1] if url.path.endswith("/") else url.path + "/"
    await RedirectResponse(url.replace(path=path))(scope, receive, send)
