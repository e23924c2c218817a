"""How log records name a request: ``GET /orders/7``, the client's bytes escaped.

One spelling for every record that follows a request (an error answered, a background task or a
dependency teardown failing after the response), so a log search for the path finds them all.
"""

from __future__ import annotations

from urllib.parse import quote

from typedasgi.types import WWWScope

__all__ = ["request_line"]

_PATH_AS_LOGGED = "/:@!$&'()*+,;=~"
_METHOD_AS_LOGGED = "!#$&'*+-.^_`|~"  # a token's characters but '%', which marks what was escaped


def request_line(scope: WWWScope) -> str:
    """The request as log records name it: ``GET /path``, or ``WebSocket /path``."""
    # Both client values percent-encoded (the path as uvicorn's access log has it), so neither a line break
    # nor a terminal escape reaches the log: an HTTP/2 ':method' may hold any byte but NUL, CR and LF.
    where = quote(scope.get("method", "GET"), safe=_METHOD_AS_LOGGED) if scope["type"] == "http" else "WebSocket"
    return f"{where} {quote(scope.get('path', ''), safe=_PATH_AS_LOGGED)}"  # required, but hand-built scopes leave it out
