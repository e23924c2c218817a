"""The hostile-input suite's download app, for a real uvicorn: what each download sent, whether it finished.

``/big?id=NAME`` serves the file named by the ``TYPEDASGI_TEST_BIG_FILE``
environment variable; a plain ASGI wrapper counts the body bytes the app hands
to the server per download. ``/_file_stats?id=NAME`` waits (at most 10 s) for
that download's response to finish, then reports it, with how many descriptors
of this process point at the file (``/proc/self/fd``).
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict

from typedasgi.applications import TypedASGI
from typedasgi.background import BackgroundTask
from typedasgi.requests import Request
from typedasgi.responses import FileResponse, JSONResponse, Response
from typedasgi.routing import Route
from typedasgi.types import ASGIApp, Receive, Scope, Send, SendEvent

from tests.support import handles_to

BIG_FILE_ENV = "TYPEDASGI_TEST_BIG_FILE"

sent: defaultdict[str, int] = defaultdict(int)
finished: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)


async def big(request: Request) -> Response:
    download = request.query_params.get("id", "")
    return FileResponse(os.environ[BIG_FILE_ENV], background=BackgroundTask(finished[download].set))


async def file_stats(request: Request) -> Response:
    download = request.query_params.get("id", "")
    try:
        await asyncio.wait_for(finished[download].wait(), timeout=10)
    except TimeoutError:
        pass
    done, still_open = int(finished[download].is_set()), handles_to(os.environ[BIG_FILE_ENV])
    return JSONResponse({"finished": done, "open": still_open, "sent": sent[download]})


def count_sent_bytes(app: ASGIApp) -> ASGIApp:
    """Count, per download id, the body bytes the app sends (whether or not the client still reads them)."""

    async def counting(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/big":
            await app(scope, receive, send)
            return
        download = Request(scope).query_params.get("id", "")

        async def counting_send(message: SendEvent) -> None:
            if message["type"] == "http.response.body":
                sent[download] += len(message["body"])
            await send(message)

        await app(scope, receive, counting_send)

    return counting


app = count_sent_bytes(TypedASGI(routes=[Route("/big", big), Route("/_file_stats", file_stats)]))
