"""``SessionMiddleware``: a session dict kept client-side in a signed cookie.

The cookie is ``<payload>.<timestamp>.<signature>``: the payload is the session
as msgspec JSON in URL-safe base64, the timestamp (Unix seconds) is when it was
issued, and the signature is HMAC-SHA256 over both, so neither can be changed
without the secret. The session is *readable* by the client (it is only
base64): keep secrets out of it. Only the standard library signs - no
itsdangerous.

A cookie that is tampered with, forged, malformed, too large
(``max_cookie_size``, 4 KiB by default) or older than ``max_age`` is ignored:
the request gets an empty session, never an error. ``Set-Cookie`` is sent while
the session holds data (which also renews its expiry) and once more to clear it
when it is emptied; an untouched empty session sends nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import time
from typing import Any, Literal

import msgspec

from typedasgi.jsoncodec import encode_json
from typedasgi.datastructures import Headers, Secret
from typedasgi.middleware.pure import start_headers
from typedasgi.requests import cookie_parser
from typedasgi.types import ASGIApp, Receive, Scope, Send, SendEvent, framework_keys

__all__ = ["SessionMiddleware"]

logger = logging.getLogger("typedasgi.sessions")

_decoder = msgspec.json.Decoder(dict[str, Any])  # values: whatever JSON holds
_KEY_CONTEXT = b"typedasgi.sessions.v1"
MAX_COOKIE_SIZE = 4096
"""Browsers keep cookies up to about 4 KiB; a larger one is ignored (and warned about when set)."""


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        secret_key: str | Secret,
        session_cookie: str = "session",
        max_age: int | None = 14 * 24 * 60 * 60,
        path: str = "/",
        same_site: Literal["lax", "strict", "none"] = "lax",
        https_only: bool = False,
        domain: str | None = None,
        *,
        max_cookie_size: int = MAX_COOKIE_SIZE,
    ) -> None:
        secret = str(secret_key).encode("utf-8")
        if not secret:
            raise ValueError("SessionMiddleware needs a non-empty secret_key")
        if same_site not in ("lax", "strict", "none"):
            raise ValueError(f"same_site must be 'lax', 'strict' or 'none', got {same_site!r}")
        self.app = app
        # A key of our own, derived once: the raw secret may be shared with other uses.
        self._key = hmac.new(secret, _KEY_CONTEXT, hashlib.sha256).digest()
        self.session_cookie = session_cookie
        self.max_age = max_age
        self.max_cookie_size = max_cookie_size
        flags = f"; path={path}"
        if domain is not None:
            flags += f"; domain={domain}"
        flags += f"; httponly; samesite={same_site}"
        if https_only:
            flags += "; secure"
        self._set_suffix = (f"; Max-Age={max_age}" if max_age is not None else "") + flags
        self._clear_header = f"{session_cookie}=null; Max-Age=0; expires=Thu, 01 Jan 1970 00:00:00 GMT{flags}"

    # ------------------------------------------------------------------ the cookie value

    def sign(self, message: str) -> str:
        """The signature of ``message`` (URL-safe base64 of its HMAC-SHA256)."""
        return _b64encode(hmac.new(self._key, message.encode("ascii"), hashlib.sha256).digest())

    def encode(self, session: dict[str, Any]) -> str:
        """The cookie value for ``session``, issued now."""
        signed = f"{_b64encode(encode_json(session))}.{int(time.time())}"
        return f"{signed}.{self.sign(signed)}"

    def decode(self, value: str) -> dict[str, Any] | None:
        """The session in a cookie value, or None when it is not one we issued and still valid."""
        if len(value) > self.max_cookie_size:
            return None
        signed, _, signature = value.rpartition(".")
        payload, _, issued = signed.partition(".")
        if not payload or not issued.isdigit() or len(issued) > 12 or not issued.isascii():
            return None
        expected = self.sign(signed) if signed.isascii() else ""
        if not expected or not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            return None
        if self.max_age is not None and time.time() - int(issued) > self.max_age:
            return None
        try:
            return _decoder.decode(_b64decode(payload))
        except (binascii.Error, ValueError, msgspec.MsgspecError):
            return None  # signed by us but unreadable: e.g. written by another version

    # ------------------------------------------------------------------------ the app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        keys = framework_keys(scope)
        value: str | None = None
        header = Headers(scope=scope).get("cookie")
        if header is not None and self.session_cookie in header:
            value = cookie_parser(header).get(self.session_cookie)
        session = self.decode(value) if value is not None else None
        keys["session"] = session if session is not None else {}
        if scope["type"] != "http":
            await self.app(scope, receive, send)  # a WebSocket reads the session; it cannot set cookies
            return
        # An emptied session, or a cookie we could not use, is cleared (so the client stops sending it).
        clear_when_empty = value is not None

        async def send_with_cookie(message: SendEvent) -> None:
            if message["type"] == "http.response.start":
                current = keys.get("session")
                if current:
                    cookie = f"{self.session_cookie}={self.encode(current)}{self._set_suffix}"
                    if len(cookie) > self.max_cookie_size:
                        logger.warning(
                            "The session cookie is %d bytes, over the %d-byte limit: browsers may drop it "
                            "and this middleware will ignore it; keep less in the session",
                            len(cookie),
                            self.max_cookie_size,
                        )
                    start_headers(message).append("set-cookie", cookie)
                elif clear_when_empty:
                    start_headers(message).append("set-cookie", self._clear_header)
            await send(message)

        await self.app(scope, receive, send_with_cookie)
