"""examples/echo.py: what a client sends in JSON mode that is not JSON."""

from __future__ import annotations

import pytest

from examples.echo import app
from typedasgi.testclient import TestClient
from typedasgi.websockets import WebSocketDisconnect


@pytest.mark.parametrize(
    "text",
    ["{", "[" * 100_000 + "]" * 100_000, '"\\ud800"', "1e999999", "9" * 5000],
    ids=["truncated", "too-deep", "lone-surrogate", "float-out-of-range", "int-out-of-range"],
)
def test_json_mode_closes_1003_on_what_is_not_json(text: str) -> None:
    client = TestClient(app)  # raises what the app raised: before, msgspec's DecodeError (a 1011 and a logged traceback)
    with client.websocket_connect("/echo?mode=json") as ws:
        ws.send_text('{"n": [1]}')
        assert ws.receive_json() == {"echo": {"n": [1]}}
        ws.send_text(text)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert (closed.value.code, closed.value.reason) == (1003, "not JSON")
    assert client.get("/stats").json() == {"live_sessions": 0}
