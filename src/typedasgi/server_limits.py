"""The limits ``typedasgi run`` puts on what a client sends before the app sees it (see typedasgi.server_protocol),
and on the app's own shut-down (typedasgi.server_lifespan).

Kept apart from the protocols themselves, which need uvicorn (the ``standard`` extra), so the
CLI can show the defaults and tests can read them without it.
"""

from __future__ import annotations

import os

__all__ = [
    "BODY_TIMEOUT_ENV",
    "DEFAULT_BODY_TIMEOUT",
    "DEFAULT_HEAD_TIMEOUT",
    "DEFAULT_LIFESPAN_SHUTDOWN_TIMEOUT",
    "DEFAULT_MAX_HEAD_SIZE",
    "HEAD_TIMEOUT_ENV",
    "LIFESPAN_SHUTDOWN_TIMEOUT_ENV",
    "SHUTDOWN_TIMED_OUT",
    "seconds_from_env",
]

DEFAULT_MAX_HEAD_SIZE = 64 * 1024
"""Bytes a request's head (request line and header lines) may take under ``typedasgi run`` (431 past it).

Servers bound the head before an app sees it; uvicorn with httptools does not, so
``typedasgi run`` serves with :mod:`typedasgi.server_protocol`. Big cookies fit.
"""

DEFAULT_HEAD_TIMEOUT = 20.0
"""Seconds a request head may take to arrive under ``typedasgi run`` (408 past it), as Apache's default."""

HEAD_TIMEOUT_ENV = "TYPEDASGI_HEAD_TIMEOUT"
"""The environment variable :mod:`typedasgi.server_protocol` reads it from (``typedasgi run --timeout-head``)."""

DEFAULT_BODY_TIMEOUT = 60.0
"""Seconds between two reads of a request body under ``typedasgi run`` (408 past it), as nginx's default."""

BODY_TIMEOUT_ENV = "TYPEDASGI_BODY_TIMEOUT"
"""The environment variable :mod:`typedasgi.server_protocol` reads it from (``typedasgi run --timeout-body``)."""


DEFAULT_LIFESPAN_SHUTDOWN_TIMEOUT = 30.0
"""Seconds an app's lifespan shut-down may take under ``typedasgi run`` before the server gives up on it and exits
(within Kubernetes' default 30 s grace and systemd's 90 s stop timeout, which would SIGKILL it silently)."""

LIFESPAN_SHUTDOWN_TIMEOUT_ENV = "TYPEDASGI_LIFESPAN_SHUTDOWN_TIMEOUT"
"""The environment variable ``typedasgi run`` reads it from when ``--timeout-lifespan-shutdown`` is not given."""

SHUTDOWN_TIMED_OUT = 124
"""``typedasgi run``'s exit status after a shut-down past its bound (coreutils' ``timeout`` uses it for a command it stopped)."""


def seconds_from_env(variable: str, default: float) -> float:
    """A timeout from the environment (``typedasgi run`` sets it; worker processes inherit it), else ``default``.

    A value that is not a number above 0 raises ``ValueError`` naming the variable: a typo must not
    turn a bound off, nor make it zero.
    """
    text = os.environ.get(variable)
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:  # NaN too
        raise ValueError(f"{variable}={text!r}: expected a number of seconds above 0")
    return seconds
