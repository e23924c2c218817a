"""The limits ``typedasgi run`` puts on what a client sends before the app sees it (see typedasgi.server_protocol).

Kept apart from the protocols themselves, which need uvicorn (the ``standard`` extra), so the
CLI can show the defaults and tests can read them without it.
"""

from __future__ import annotations

__all__ = ["BODY_TIMEOUT_ENV", "DEFAULT_BODY_TIMEOUT", "DEFAULT_HEAD_TIMEOUT", "DEFAULT_MAX_HEAD_SIZE", "HEAD_TIMEOUT_ENV"]

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
