"""SessionMiddleware: signed cookie round trips; tampered, forged, malformed and expired cookies."""

from __future__ import annotations

import base64
import functools
import json
import time
from collections.abc import AsyncIterator

import httpx2
import itsdangerous
import msgspec
import pytest

from typedasgi.applications import TypedASGI
from typedasgi.datastructures import Secret
from typedasgi.middleware import Middleware
from typedasgi.middleware.sessions import Session, SessionMiddleware
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


async def untouched(request: Request) -> Response:
    return PlainTextResponse("no session read")


async def inplace(request: Request) -> Response:
    session = request.session
    session |= {"inplace": "yes"}
    return JSONResponse(request.session)


async def popitem(request: Request) -> Response:
    request.session.popitem()
    return JSONResponse(request.session)


async def setdefault(request: Request) -> Response:
    request.session.setdefault("new", "value")
    request.session.setdefault("new", "ignored")
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
            Route("/untouched", untouched),
            Route("/inplace", inplace),
            Route("/popitem", popitem),
            Route("/setdefault", setdefault),
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


def test_cookie_is_starlettes_format_readable_by_itsdangerous() -> None:
    client = TestClient(make_app())
    client.get("/update?user=alice")
    signer = itsdangerous.TimestampSigner(SECRET)
    payload = signer.unsign(client.cookies["session"], max_age=60)
    assert json.loads(base64.b64decode(payload)) == {"user": "alice"}
    with pytest.raises(itsdangerous.BadSignature):
        itsdangerous.TimestampSigner("another secret").unsign(client.cookies["session"])


def test_cookie_signed_by_itsdangerous_is_read() -> None:
    """What a Starlette app with the same secret issued keeps its users logged in."""
    value = itsdangerous.TimestampSigner(SECRET).sign(base64.b64encode(json.dumps({"user": "bob"}).encode()))
    client = TestClient(make_app(), cookies={"session": value.decode()})
    assert client.get("/view").json() == {"user": "bob"}


def test_session_cookie_on_a_later_cookie_line_is_read() -> None:
    client = TestClient(make_app())
    value = issued_cookie(client)
    response = client.get("/view", headers=[("cookie", "other=1"), ("cookie", f"session={value}")])
    assert response.json() == {"user": "alice"}


def test_untouched_empty_session_sets_no_cookie() -> None:
    response = TestClient(make_app()).get("/view")
    assert response.json() == {}
    assert set_cookie_headers(response) == []
    assert response.headers["vary"] == "Cookie"  # read: the answer depends on the cookie


def test_only_a_changed_session_sets_a_cookie() -> None:
    client = TestClient(make_app())
    changed = client.get("/update?user=alice")
    assert len(set_cookie_headers(changed)) == 1 and changed.headers["vary"] == "Cookie"
    read = client.get("/view")
    assert read.json() == {"user": "alice"}
    assert set_cookie_headers(read) == [] and read.headers["vary"] == "Cookie"
    untouched = client.get("/untouched")
    assert set_cookie_headers(untouched) == [] and "vary" not in untouched.headers


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/inplace", {"a": "1", "b": "2", "inplace": "yes"}),
        ("/popitem", {"a": "1"}),
        ("/setdefault", {"a": "1", "b": "2", "new": "value"}),
    ],
)
def test_every_dict_mutation_is_saved(path: str, expected: dict[str, str]) -> None:
    client = TestClient(make_app())
    client.get("/update?a=1&b=2")
    assert len(set_cookie_headers(client.get(path))) == 1
    assert client.get("/view").json() == expected


def flags(session: Session) -> tuple[bool, bool]:
    return session.accessed, session.modified


def test_session_flags() -> None:
    session = Session({"a": 1})
    assert flags(session) == (False, False)
    assert session.pop("missing", None) is None and session.setdefault("a", 2) == 1
    assert flags(session) == (False, False)
    session.pop("a")
    assert flags(session) == (True, True)


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
    payload = base64.b64encode(msgspec.json.encode(new)).decode()
    return f"{payload}.{issued}.{signature}"


def signed_with_our_key(value: str) -> str:
    """``value`` with a valid signature but whatever timestamp part it has."""
    return f"{value}.{SessionMiddleware(view_app, secret_key=SECRET).signer.signature(value.encode()).decode()}"


def b64_seconds(seconds: int) -> str:
    return base64.urlsafe_b64encode(seconds.to_bytes(16, "big").lstrip(b"\0")).rstrip(b"=").decode()


@functools.cache
def bad_values() -> dict[str, str]:
    genuine = issued_cookie(TestClient(make_app()))
    payload, issued, signature = genuine.split(".")
    other_key = TypedASGI(routes=[Route("/update", update)], middleware=[Middleware(SessionMiddleware, secret_key="other")])
    forged = issued_cookie(TestClient(other_key))
    return {
        "tampered payload": swap_payload(genuine, {"user": "admin"}),
        "tampered timestamp": f"{payload}.{b64_seconds(int(time.time()) + 1)}.{signature}",
        "tampered signature": f"{payload}.{issued}.{signature[:-2]}AA",
        "forged with another key": forged,
        "no dots": "garbage",
        "two parts": f"{payload}.{signature}",
        "empty parts": "..",
        "signed, unreadable timestamp": signed_with_our_key(f"{payload}.@@@"),
        "signed, timestamp over 64 bits": signed_with_our_key(f"{payload}.{b64_seconds(2**70)}"),
        "signed, in the future": signed_with_our_key(f"{payload}.{b64_seconds(int(time.time()) + 3600)}"),
        "signed, no timestamp": signed_with_our_key(payload),
        "non-ascii": f"{payload}.{issued}.\u00e9\u00e9",
        "oversized": "a" * 5000,
    }


@pytest.mark.parametrize("case", list(bad_values()))
def test_bad_cookie_gives_an_empty_session(case: str) -> None:
    """Not cleared either: it may be another app's cookie of the same name (another path, another key)."""
    client = TestClient(make_app())
    response = client.get("/view", headers={b"cookie": f"session={bad_values()[case]}".encode("latin-1")})
    assert response.status_code == 200
    assert response.json() == {}
    assert set_cookie_headers(response) == []


def test_signed_but_not_a_json_object_is_ignored() -> None:
    middleware = SessionMiddleware(view_app, secret_key=SECRET)
    good = middleware.encode({"a": 1})
    assert middleware.decode(good) == {"a": 1}
    for body in (b"[1, 2]", b"not json", b"\xff\xfe"):
        assert middleware.decode(middleware.signer.sign(base64.b64encode(body)).decode()) is None
    assert middleware.decode(middleware.signer.sign(b"not base64!").decode()) is None


def test_signed_but_nested_too_deeply_is_ignored() -> None:
    """msgspec's decoder raises RecursionError past the interpreter's depth: an empty session, not a 500 on
    every request until the cookie expires (an app sharing the key, Starlette's during a move, may write one)."""
    deep = b'{"a": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    app = make_app(max_cookie_size=10**5)
    middleware = SessionMiddleware(view_app, secret_key=SECRET, max_cookie_size=10**5)
    cookie = middleware.signer.sign(base64.b64encode(deep)).decode()
    assert middleware.decode(cookie) is None
    response = TestClient(app, raise_server_exceptions=False).get("/view", headers={"cookie": f"session={cookie}"})
    assert (response.status_code, response.json()) == (200, {})


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
