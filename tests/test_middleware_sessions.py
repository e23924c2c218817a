"""SessionMiddleware: signed cookie round trips; tampered, forged, malformed and expired cookies."""

from __future__ import annotations

import base64
import functools
import time
from collections.abc import AsyncIterator

import httpx2
import msgspec
import pytest

from typedasgi.applications import TypedASGI
from typedasgi.datastructures import Secret
from typedasgi.middleware import Middleware
from typedasgi.middleware.sessions import SessionMiddleware
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from typedasgi.routing import Route, WebSocketRoute
from typedasgi.testclient import TestClient
from typedasgi.types import Receive, Scope, Send, framework_keys
from typedasgi.websockets import WebSocket

SECRET = "test-secret"


async def view(request: Request) -> Response:
    return JSONResponse(request.session)


async def update(request: Request) -> Response:
    request.session.update(dict(request.query_params))
    return JSONResponse(request.session)


async def clear(request: Request) -> Response:
    request.session.clear()
    return JSONResponse(request.session)


async def stream(request: Request) -> Response:
    request.session["streamed"] = True

    async def body() -> AsyncIterator[str]:
        yield "a"
        yield "b"

    return StreamingResponse(body())


async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json(websocket.session)
    await websocket.close()


def make_app(**options: object) -> TypedASGI:
    return TypedASGI(
        routes=[
            Route("/view", view),
            Route("/update", update),
            Route("/clear", clear),
            Route("/stream", stream),
            WebSocketRoute("/ws", ws),
        ],
        middleware=[Middleware(SessionMiddleware, secret_key=SECRET, **options)],  # type: ignore[arg-type]  # options vary per test
    )


def set_cookie_headers(response: httpx2.Response) -> list[str]:
    return response.headers.get_list("set-cookie")


def test_round_trip_and_cookie_attributes() -> None:
    client = TestClient(make_app())
    response = client.get("/update?user=alice")
    assert response.json() == {"user": "alice"}
    [cookie] = set_cookie_headers(response)
    assert cookie.startswith("session=")
    assert f"Max-Age={14 * 24 * 3600}" in cookie
    assert "path=/" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie and "domain" not in cookie
    assert client.get("/view").json() == {"user": "alice"}
    client.get("/update?theme=dark")
    assert client.get("/view").json() == {"user": "alice", "theme": "dark"}


def test_payload_is_signed_json_with_a_timestamp() -> None:
    client = TestClient(make_app())
    client.get("/update?user=alice")
    payload, issued, signature = client.cookies["session"].split(".")
    assert msgspec.json.decode(base64.urlsafe_b64decode(payload + "==")) == {"user": "alice"}
    assert abs(int(issued) - time.time()) < 5
    assert len(signature) == 43  # base64 of a SHA-256 HMAC, unpadded


def test_untouched_empty_session_sets_no_cookie() -> None:
    response = TestClient(make_app()).get("/view")
    assert response.json() == {}
    assert set_cookie_headers(response) == []


def test_non_empty_session_renews_the_cookie_on_every_response() -> None:
    client = TestClient(make_app())
    client.get("/update?user=alice")
    assert len(set_cookie_headers(client.get("/view"))) == 1


def test_clearing_the_session_clears_the_cookie() -> None:
    client = TestClient(make_app())
    client.get("/update?user=alice")
    response = client.get("/clear")
    [cookie] = set_cookie_headers(response)
    assert cookie.startswith("session=null;")
    assert "Max-Age=0" in cookie and "1970" in cookie
    assert "session" not in client.cookies
    assert client.get("/view").json() == {}


def test_options_change_the_cookie() -> None:
    client = TestClient(
        make_app(
            session_cookie="sid",
            max_age=None,
            path="/app",
            same_site="strict",
            https_only=True,
            domain="example.com",
        ),
        base_url="https://example.com",
    )
    [cookie] = set_cookie_headers(client.get("/update?a=1"))
    assert cookie.startswith("sid=")
    assert "Max-Age" not in cookie
    for part in ("path=/app", "samesite=strict", "secure", "domain=example.com", "httponly"):
        assert part in cookie


def test_secret_object_is_accepted_and_empty_secret_rejected() -> None:
    app = TypedASGI(
        routes=[Route("/update", update), Route("/view", view)],
        middleware=[Middleware(SessionMiddleware, secret_key=Secret(SECRET))],
    )
    client = TestClient(app)
    client.get("/update?a=1")
    assert client.get("/view").json() == {"a": "1"}
    with pytest.raises(ValueError, match="secret_key"):
        SessionMiddleware(view_app, secret_key="")


async def view_app(scope: Scope, receive: Receive, send: Send) -> None:
    """A bare ASGI app: reads and writes the session through the typed scope keys."""
    keys = framework_keys(scope)
    session = keys["session"]
    session["visits"] = session.get("visits", 0) + 1
    await PlainTextResponse(str(session["visits"]))(scope, receive, send)


def test_around_a_bare_asgi_app() -> None:
    client = TestClient(SessionMiddleware(view_app, secret_key=SECRET))
    assert [client.get("/").text for _ in range(3)] == ["1", "2", "3"]


# ------------------------------------------------------------ cookies we did not issue


def issued_cookie(client: TestClient, data: str = "user=alice") -> str:
    client.get(f"/update?{data}")
    value = client.cookies["session"]
    client.cookies.clear()
    return value


def swap_payload(value: str, new: dict[str, str]) -> str:
    _, issued, signature = value.split(".")
    payload = base64.urlsafe_b64encode(msgspec.json.encode(new)).rstrip(b"=").decode()
    return f"{payload}.{issued}.{signature}"


@functools.cache
def bad_values() -> dict[str, str]:
    genuine = issued_cookie(TestClient(make_app()))
    payload, issued, signature = genuine.split(".")
    other_key = TypedASGI(routes=[Route("/update", update)], middleware=[Middleware(SessionMiddleware, secret_key="other")])
    forged = issued_cookie(TestClient(other_key))
    return {
        "tampered payload": swap_payload(genuine, {"user": "admin"}),
        "tampered timestamp": f"{payload}.{int(issued) + 1}.{signature}",
        "tampered signature": f"{payload}.{issued}.{signature[:-2]}AA",
        "forged with another key": forged,
        "no dots": "garbage",
        "two parts": f"{payload}.{signature}",
        "empty parts": "..",
        "non-digit timestamp": f"{payload}.12x.{signature}",
        "non-ascii": f"{payload}.{issued}.\u00e9\u00e9",
        "oversized": "a" * 5000,
    }


@pytest.mark.parametrize("case", list(bad_values()))
def test_bad_cookie_gives_an_empty_session_and_is_cleared(case: str) -> None:
    client = TestClient(make_app())
    response = client.get("/view", headers={b"cookie": f"session={bad_values()[case]}".encode("latin-1")})
    assert response.status_code == 200
    assert response.json() == {}
    [cookie] = set_cookie_headers(response)
    assert cookie.startswith("session=null;")


def test_signed_but_not_a_json_object_is_ignored() -> None:
    middleware = SessionMiddleware(view_app, secret_key=SECRET)
    good = middleware.encode({"a": 1})
    assert middleware.decode(good) == {"a": 1}
    payload, issued, _ = good.split(".")
    for body in (b"[1, 2]", b"not json", b"\xff\xfe"):
        encoded = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
        signed = f"{encoded}.{issued}"
        assert middleware.decode(f"{signed}.{middleware.sign(signed)}") is None


def test_expired_cookie_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    client = TestClient(make_app(max_age=60))
    client.get("/update?user=alice")
    assert client.get("/view").json() == {"user": "alice"}
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 61)
    assert client.get("/view").json() == {}


def test_cookie_without_max_age_does_not_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    client = TestClient(make_app(max_age=None))
    client.get("/update?user=alice")
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 10 * 365 * 24 * 3600)
    assert client.get("/view").json() == {"user": "alice"}


def test_max_cookie_size_is_configurable() -> None:
    client = TestClient(make_app(max_cookie_size=100))
    client.get("/update?user=alice")
    assert client.get("/view").json() == {"user": "alice"}
    client.get("/update?big=" + "x" * 200)  # now over the limit: the next request ignores it
    assert client.get("/view").json() == {}


def test_oversized_session_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(make_app(max_cookie_size=200))
    with caplog.at_level("WARNING", logger="typedasgi.sessions"):
        client.get("/update?big=" + "x" * 300)
    assert "over the 200-byte limit" in caplog.text


# ---------------------------------------------------------------------- other scopes


def test_streaming_response_gets_the_cookie() -> None:
    client = TestClient(make_app())
    response = client.get("/stream")
    assert response.text == "ab"
    assert client.get("/view").json() == {"streamed": True}


def test_websocket_reads_the_session() -> None:
    client = TestClient(make_app())
    client.get("/update?user=alice")
    with client.websocket_connect("/ws") as session:
        assert session.receive_json() == {"user": "alice"}
