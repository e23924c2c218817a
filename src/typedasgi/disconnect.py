"""Sending a long response while watching for the client to leave.

Below ASGI spec 2.4 a server's ``send`` keeps succeeding (or waits) after the
client is gone; only ``receive`` says so, with ``http.disconnect``. So streamed
and file bodies are sent beside a listener on ``receive``, and stop the moment
the client leaves: no more chunks produced, no more disk reads. From 2.4,
``send`` raises ``OSError`` as well; the senders handle that themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine

from typedasgi.types import Receive

__all__ = ["send_until_disconnect", "wait_for_disconnect"]


async def wait_for_disconnect(receive: Receive) -> None:
    """Return once the client is gone; request body the endpoint did not read is dropped.

    A denial response (a WebSocket scope) ends on the WebSocket's disconnect.
    """
    while (await receive())["type"] not in ("http.disconnect", "websocket.disconnect"):
        pass


async def send_until_disconnect(sending: Coroutine[object, object, bool], receive: Receive) -> bool:
    """Run ``sending`` until it ends or the client leaves; whether it sent everything.

    ``sending`` returns False itself when ``send`` said the client is gone
    (ASGI 2.4). If the client leaves first, ``sending`` is cancelled and waited
    for, so its ``finally`` blocks (closing a file) are done when this returns.
    Errors of ``sending`` propagate; a failing ``receive`` says nothing about the
    client, so ``sending`` then runs to its end.
    """
    sender = asyncio.ensure_future(sending)
    listener = asyncio.ensure_future(wait_for_disconnect(receive))
    try:
        await asyncio.wait((sender, listener), return_when=asyncio.FIRST_COMPLETED)
        if not sender.done() and listener.exception() is not None:
            await sender
    finally:
        for task in (sender, listener):
            if not task.done():
                task.cancel()
        await asyncio.gather(sender, listener, return_exceptions=True)
    return not sender.cancelled() and sender.result()  # result() raises the sender's own error
