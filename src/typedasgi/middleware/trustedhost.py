"""``TrustedHostMiddleware``: refuse requests whose ``Host`` header is not one of ours.

Guards against Host header attacks (poisoned password-reset links, cache
poisoning): anything built from ``request.url`` trusts the Host header, so it is
checked before the app runs. Patterns are exact names (``example.com``),
subdomain wildcards (``*.example.com``, which does not match ``example.com``
itself) or ``*`` for any host. The ``Host`` header is validated before it is
matched, even with ``*``: a malformed host (userinfo, a path, spaces, a port that
is not a number), a ``*`` sent literally, or more than one ``Host`` header is
refused. As in Starlette only the name is matched, so a port past 65535 passes
(``request.url`` then ignores that Host for the server's address). A refused host gets 400 "Invalid host header"; a WebSocket is
refused before the handshake completes (a 400 denial response where the server
supports it, otherwise a close, which the client sees as HTTP 403).

With ``www_redirect`` a request for ``example.com`` is redirected to
``www.example.com`` when only the latter is allowed (not with a port past 65535:
that Host is in no URL, so it gets the 400).
"""

from __future__ import annotations

from collections.abc import Sequence

from typedasgi.datastructures import URL
from typedasgi.responses import PlainTextResponse, RedirectResponse, Response
from typedasgi.middleware.pure import respond_early
from typedasgi.types import ASGIApp, AnyASGIApp, Receive, Scope, Send, WWWScope, as_asgi_app
from typedasgi.urls import parse_host

__all__ = ["ENFORCE_DOMAIN_WILDCARD", "TrustedHostMiddleware"]


def _hostname(scope: WWWScope) -> str | None:
    """The host without its port, lower-cased (an IPv6 literal keeps its brackets); ``""`` when the
    request has no Host; None when it is malformed, a literal wildcard, or given more than once."""
    values = [value for name, value in scope.get("headers", ()) if name == b"host"]
    if not values:
        return ""
    if len(values) > 1:
        return None
    parsed = parse_host(values[0].decode("latin-1"))
    if parsed is None or "*" in parsed[0]:
        return None
    return parsed[0].lower()


ENFORCE_DOMAIN_WILDCARD = "'*' may only start a pattern, as in '*.example.com'"
"""Why a wildcard host pattern was refused (the message of the ``ValueError``)."""


class TrustedHostMiddleware:
    def __init__(self, app: AnyASGIApp, allowed_hosts: Sequence[str] = ("*",), www_redirect: bool = True) -> None:
        if isinstance(allowed_hosts, str):
            raise TypeError("allowed_hosts must be a sequence of host names, not one string")
        exact: set[str] = set()
        suffixes: list[str] = []
        for pattern in allowed_hosts:
            if pattern == "*":
                continue
            if "*" in pattern[1:] or (pattern.startswith("*") and not pattern.startswith("*.")):
                raise ValueError(f"Invalid allowed host {pattern!r}: {ENFORCE_DOMAIN_WILDCARD}")
            if pattern.startswith("*."):
                suffixes.append(pattern[1:].lower())
            else:
                exact.add(pattern.lower())
        self.app: ASGIApp = as_asgi_app(app)
        self.allowed_hosts: list[str] = list(allowed_hosts)
        self.allow_any: bool = "*" in allowed_hosts
        self.exact_hosts: frozenset[str] = frozenset(exact)
        self.wildcard_suffixes: tuple[str, ...] = tuple(suffixes)
        self.www_redirect = www_redirect

    def is_allowed(self, host: str) -> bool:
        return host in self.exact_hosts or (bool(host) and host.endswith(self.wildcard_suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        host = _hostname(scope)
        if host is not None and (self.allow_any or self.is_allowed(host)):
            await self.app(scope, receive, send)
            return
        response: Response = PlainTextResponse("Invalid host header", status_code=400)
        if self.www_redirect and host and "www." + host in self.exact_hosts:
            url = URL(scope=scope)
            if url.hostname == host:  # not when the URL ignored this Host (a port past 65535) for the server's address
                response = RedirectResponse(url.replace(netloc="www." + url.netloc))
        await respond_early(scope, receive, send, response)

