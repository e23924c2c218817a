"""The synchronous TestClient streams like a server: chunks as produced, backpressure, early close cancels."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator

import pytest

from typedasgi.testclient import TestClient
from typedasgi.testclient_app import AppProtocolError
from typedasgi.responses import StreamingResponse
from typedasgi.types import Receive, Scope, Send


def test_a_stream_is_readable_before_the_app_finishes_and_each_chunk_waits_for_the_reader() -> None:
    second_started = threading.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield b"one"
        second_started.set()
        yield b"two"

    client = TestClient(StreamingResponse(chunks()))
    with client.stream("GET", "/") as response:
        raw = response.iter_raw()
        assert not second_started.is_set()  # the app waits until the test reads
        assert next(raw) == b"one"
        assert second_started.wait(5)
        assert list(raw) == [b"two"]


def test_closing_an_unfinished_response_cancels_the_app() -> None:
    cancelled = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": False})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with TestClient(app).stream("GET", "/") as response:
        assert next(response.iter_raw()) == b"first"
    assert cancelled.is_set()


def test_trailers_land_in_the_response_extensions() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http" and "http.response.trailers" in (scope.get("extensions") or {})
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": True})
        await send({"type": "http.response.body", "body": b"data", "more_body": False})
        await send({"type": "http.response.trailers", "headers": [(b"x-sum", b"1")], "more_trailers": True})
        await send({"type": "http.response.trailers", "headers": [(b"x-sum", b"2")], "more_trailers": False})

    response = TestClient(app).get("/")
    assert response.content == b"data"
    assert response.extensions["http.response.trailers"] == [(b"x-sum", b"1"), (b"x-sum", b"2")]


def test_trailers_before_the_body_is_complete_are_a_protocol_error() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": True})
        await send({"type": "http.response.trailers", "headers": [], "more_trailers": False})

    with pytest.raises(AppProtocolError, match="before body completed"):
        TestClient(app, check_asgi=False).get("/")  # the client's own check, without the contract checker


def test_an_app_that_sends_its_last_body_while_cancelled_does_not_hang_the_close() -> None:
    """A streaming app's clean-up often ends the body (Ariadne's SSE response does, shielded): the reader has
    left, so that send is dropped, as a server drops it, instead of waiting for a read that never comes."""
    cleaned_up = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": False})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        try:
            await asyncio.sleep(30)
        finally:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            cleaned_up.set()

    def read_one_chunk_and_leave() -> None:
        with TestClient(app).stream("GET", "/") as response:
            assert next(response.iter_raw()) == b"first"

    reader = threading.Thread(target=read_one_chunk_and_leave, daemon=True)  # a daemon: a hang fails, not blocks
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "closing the response waited for ever on the app's last send"
    assert cleaned_up.is_set()


def test_a_streamed_response_closed_after_its_client_closes_quietly() -> None:
    """The response's body, left open, is closed when collected - after the client (and its loop) closed."""
    cancelled = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"hello"})
        try:
            await asyncio.sleep(10)  # the background work after the body: cancelled when the client closes
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with contextlib.closing(TestClient(app)) as client:
        response = client.send(client.build_request("GET", "/"), stream=True)
        chunks = response.iter_raw()
        assert next(chunks) == b"hello"
    assert cancelled.is_set()
    response.close()  # what collecting its iterator does: no "Event loop is closed" from the body's close
