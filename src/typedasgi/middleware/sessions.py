"""``SessionMiddleware``: a session dict kept client-side in a signed cookie, in Starlette's cookie format.

The cookie value is the session as JSON in base64, signed with a timestamp the way itsdangerous'
``TimestampSigner`` signs (see :mod:`typedasgi.signing`; no itsdangerous needed), so cookies issued
by a Starlette app with the same ``secret_key`` keep working after the move, and the other way round.
The session is *readable* by the client (it is only base64): keep secrets out of it.

A cookie that is tampered with, forged, malformed, too large (``max_cookie_size``, 4 KiB by
default) or older than ``max_age`` is ignored: the request gets an empty session, never an error.

The response gets ``Vary: Cookie`` when the app read the session, and ``Set-Cookie`` only when it
changed it: the new session, or a clearing cookie once it was emptied. A session that was only read
sends no cookie, so its expiry is not renewed by reading (as in Starlette).
"""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any, Literal

import msgspec

from typedasgi.datastructures import Headers, Secret
from typedasgi.jsoncodec import encode_json
from typedasgi.middleware.pure import add_vary, start_headers
from typedasgi.requests import read_cookies
from typedasgi.session import Session
from typedasgi.signing import TimestampSigner
from typedasgi.types import ASGIApp, AnyASGIApp, Receive, Scope, Send, SendEvent, as_asgi_app, framework_keys

__all__ = ["MAX_COOKIE_SIZE", "Session", "SessionMiddleware"]

logger: logging.Logger = logging.getLogger("typedasgi.sessions")

_decoder = msgspec.json.Decoder(dict[str, Any])  # values: whatever JSON holds
MAX_COOKIE_SIZE = 4096
"""Browsers keep cookies up to about 4 KiB; a larger one is ignored (and warned about when set)."""


class SessionMiddleware:
    def __init__(
        self,
        app: AnyASGIApp,
        secret_key: str | Secret,
        session_cookie: str = "session",
        max_age: int | None = 14 * 24 * 60 * 60,
        path: str = "/",
        same_site: Literal["lax", "strict", "none"] = "lax",
        https_only: bool = False,
        domain: str | None = None,
        partitioned: bool = False,
        *,
        max_cookie_size: int = MAX_COOKIE_SIZE,
    ) -> None:
        if not str(secret_key):
            raise ValueError("SessionMiddleware needs a non-empty secret_key")
        if same_site not in ("lax", "strict", "none"):
            raise ValueError(f"same_site must be 'lax', 'strict' or 'none', got {same_site!r}")
        self.app: ASGIApp = as_asgi_app(app)
        self.signer: TimestampSigner = TimestampSigner(str(secret_key))
        self.session_cookie = session_cookie
        self.max_age = max_age
        self.path = path
        self.max_cookie_size = max_cookie_size
        flags = f"httponly; samesite={same_site}"
        if https_only:
            flags += "; secure"
        if domain is not None:
            flags += f"; domain={domain}"
        if partitioned:
            flags += "; partitioned"
        self.security_flags = flags
        max_age_flag = f"Max-Age={max_age}; " if max_age is not None else ""
        self._set_suffix = f"; path={path}; {max_age_flag}{flags}"
        self._clear_header = (
            f"{session_cookie}=null; path={path}; Max-Age=0; expires=Thu, 01 Jan 1970 00:00:00 GMT; {flags}"
        )

    # ------------------------------------------------------------------ the cookie value

    def encode(self, session: dict[str, Any]) -> str:
        """The cookie value for ``session``, signed now."""
        return self.signer.sign(base64.b64encode(encode_json(session))).decode("ascii")

    def decode(self, value: str) -> dict[str, Any] | None:
        """The session in a cookie value, or None when it is not one signed with our key and still valid."""
        if len(value) > self.max_cookie_size or not value.isascii():
            return None
        payload = self.signer.unsign(value.encode("ascii"), max_age=self.max_age)
        if payload is None:
            return None
        try:
            return _decoder.decode(base64.b64decode(payload))
        except (binascii.Error, ValueError, msgspec.MsgspecError, RecursionError):
            return None  # signed with our key but unreadable: written by something else, or nested too deeply

    # ------------------------------------------------------------------------ the app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" and scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        keys = framework_keys(scope)
        headers = Headers(scope=scope)
        data: dict[str, Any] | None = None
        if any(self.session_cookie in line for line in headers.getlist("cookie")):  # parse only when it may be there
            value = read_cookies(headers).get(self.session_cookie)
            data = self.decode(value) if value is not None else None
        keys["session"] = Session(data) if data is not None else Session()
        if scope["type"] != "http":
            await self.app(scope, receive, send)  # a WebSocket reads the session; it cannot set cookies
            return
        had_data = bool(data)

        async def send_with_cookie(message: SendEvent) -> None:
            if message["type"] == "http.response.start":
                session = keys.get("session")
                if isinstance(session, Session):
                    accessed, modified = session.accessed, session.modified
                else:  # the app put a plain dict in its place: take it as read and changed
                    accessed = modified = session is not None
                if accessed:
                    add_vary(start_headers(message), "Cookie")
                if modified and session:
                    self._set_cookie(message, session)
                elif modified and had_data:
                    start_headers(message).append("set-cookie", self._clear_header)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _set_cookie(self, message: SendEvent, session: dict[str, Any]) -> None:
        assert message["type"] == "http.response.start"
        cookie = f"{self.session_cookie}={self.encode(session)}{self._set_suffix}"
        if len(cookie) > self.max_cookie_size:
            logger.warning(
                "The session cookie is %d bytes, over the %d-byte limit: browsers may drop it "
                "and this middleware will ignore it; keep less in the session",
                len(cookie),
                self.max_cookie_size,
            )
        start_headers(message).append("set-cookie", cookie)
