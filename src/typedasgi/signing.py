"""Timestamped signatures in the format of itsdangerous' ``TimestampSigner``, with the standard library only.

Why this format: Starlette signs its session cookies this way, so a site moved to typedasgi keeps
reading the cookies its users already hold (nobody is logged out) and the old app can still read
ours during a rolling migration.

A signed value is ``<value>.<timestamp>.<signature>``: the timestamp is the Unix time in seconds
as big-endian bytes without leading zeros, and the signature the HMAC-SHA1 of ``<value>.<timestamp>``,
both in URL-safe base64 without padding. The HMAC key is ``sha1(salt + b"signer" + secret)``
(itsdangerous calls this key derivation "django-concat"; the default salt is ``itsdangerous.Signer``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time

__all__ = ["DEFAULT_SALT", "TimestampSigner"]

DEFAULT_SALT = b"itsdangerous.Signer"
_SEP = b"."
_MAX_TIMESTAMP_BYTES = 8  # a 64-bit number of seconds


def _b64encode(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _b64decode(data: bytes) -> bytes:
    return base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))


class TimestampSigner:
    """Signs values with the time of signing; :meth:`unsign` checks both the signature and the age."""

    __slots__ = ("_key",)

    def __init__(self, secret_key: str | bytes, salt: bytes = DEFAULT_SALT) -> None:
        secret = secret_key.encode("utf-8") if isinstance(secret_key, str) else secret_key
        self._key = hashlib.sha1(salt + b"signer" + secret).digest()

    def signature(self, value: bytes) -> bytes:
        """The signature of ``value`` (already including its timestamp)."""
        return _b64encode(hmac.new(self._key, value, hashlib.sha1).digest())

    def sign(self, value: bytes, now: int | None = None) -> bytes:
        """``value.timestamp.signature``, signed at ``now`` (the current time unless given)."""
        seconds = int(time.time()) if now is None else now
        stamp = _b64encode(seconds.to_bytes(_MAX_TIMESTAMP_BYTES, "big").lstrip(b"\0"))
        signed = value + _SEP + stamp
        return signed + _SEP + self.signature(signed)

    def unsign(self, signed: bytes, max_age: int | None = None) -> bytes | None:
        """The value, or None when the signature is wrong, the value malformed, or older than ``max_age`` s."""
        timestamped, sep, signature = signed.rpartition(_SEP)
        if not sep or not hmac.compare_digest(self.signature(timestamped), signature):
            return None
        value, sep, stamp = timestamped.rpartition(_SEP)
        if not sep:
            return None
        try:
            raw = _b64decode(stamp)
        except (binascii.Error, ValueError):
            return None
        if len(raw) > _MAX_TIMESTAMP_BYTES:
            return None
        if max_age is not None:
            age = int(time.time()) - int.from_bytes(raw, "big")
            if age > max_age or age < 0:
                return None
        return value
