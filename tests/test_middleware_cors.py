"""CORSMiddleware: simple and preflight requests, wildcard vs credentials, Vary, alone and in an app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.middleware import Middleware
from typedasgi.middleware.cors import ALL_METHODS, CORSMiddleware
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response, StreamingResponse
from typedasgi.routing import Route, WebSocketRoute
from typedasgi.testclient import TestClient
from typedasgi.types import Receive, Scope, Send
from typedasgi.websockets import WebSocket

ORIGIN = "https://example.org"
PREFLIGHT_VARY = (
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network"
)


async def homepage_app(scope: Scope, receive: Receive, send: Send) -> None:
    """A bare ASGI app (no framework) that answers every request."""
    assert scope["type"] == "http"
    await PlainTextResponse("Homepage", headers={"x-app": "1"})(scope, receive, send)


def client_for(**options: object) -> TestClient:
    return TestClient(CORSMiddleware(homepage_app, **options))  # type: ignore[arg-type]  # options vary per test


def preflight(
    client: TestClient, origin: str = ORIGIN, method: str = "GET", headers: str | None = None, **extra: str
) -> tuple[int, dict[str, str], str]:
    request_headers = {"origin": origin, "access-control-request-method": method, **extra}
    if headers is not None:
        request_headers["access-control-request-headers"] = headers
    response = client.options("/", headers=request_headers)
    return response.status_code, dict(response.headers), response.text


# ------------------------------------------------------------------ wildcard origins


def test_wildcard_simple_request_gets_star() -> None:
    client = client_for(allow_origins=["*"], expose_headers=["X-App", "X-Other"])
    response = client.get("/", headers={"origin": ORIGIN})
    assert response.status_code == 200
    assert response.text == "Homepage"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-expose-headers"] == "X-App, X-Other"
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["vary"] == "Origin"  # as Starlette: every response varies by Origin


def test_request_without_origin_gets_no_cors_headers() -> None:
    response = client_for(allow_origins=["*"]).get("/")
    assert response.text == "Homepage"
    assert not any(name.startswith("access-control-") for name in response.headers)
    assert response.headers["vary"] == "Origin"


def test_wildcard_preflight() -> None:
    client = client_for(allow_origins=["*"], allow_methods=["*"], allow_headers=["*"], max_age=42)
    status, headers, text = preflight(client, method="DELETE", headers="X-Token, X-Trace")
    assert (status, text) == (200, "OK")
    assert headers["access-control-allow-origin"] == "*"
    assert headers["access-control-allow-methods"] == ", ".join(ALL_METHODS)
    assert headers["access-control-allow-headers"] == "X-Token, X-Trace"  # "*" echoes what was asked, as asked
    assert headers["access-control-max-age"] == "42"
    assert headers["vary"] == PREFLIGHT_VARY


def test_wildcard_with_credentials_echoes_the_origin() -> None:
    client = client_for(allow_origins=["*"], allow_credentials=True)
    response = client.get("/", headers={"origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["vary"] == "Origin"

    status, headers, _ = preflight(client)
    assert status == 200
    assert headers["access-control-allow-origin"] == ORIGIN
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["vary"] == PREFLIGHT_VARY


def test_simple_headers_is_a_dict_of_names_as_sent() -> None:
    middleware = CORSMiddleware(homepage_app, allow_origins=["*"], allow_credentials=True, expose_headers=["X-App"])
    assert middleware.simple_headers == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Expose-Headers": "X-App",
    }


# ------------------------------------------------------------------ listed origins


def test_listed_origin_is_echoed_with_vary() -> None:
    client = client_for(allow_origins=[ORIGIN, "https://other.org"])
    response = client.get("/", headers={"origin": ORIGIN})
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert response.headers["vary"] == "Origin"


def test_unlisted_origin_gets_no_allow_origin_but_vary() -> None:
    client = client_for(allow_origins=[ORIGIN], allow_credentials=True, expose_headers=["X-App"])
    response = client.get("/", headers={"origin": "https://evil.org"})
    assert response.status_code == 200  # the app still answers; the browser withholds it
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "Origin"


def test_origin_dependent_answer_varies_even_without_origin() -> None:
    response = client_for(allow_origins=[ORIGIN]).get("/")
    assert response.headers["vary"] == "Origin"
    assert "access-control-allow-origin" not in response.headers


def test_origin_regex_must_match_the_whole_origin() -> None:
    client = client_for(allow_origin_regex=r"https://.*\.example\.org")
    ok = client.get("/", headers={"origin": "https://api.example.org"})
    assert ok.headers["access-control-allow-origin"] == "https://api.example.org"
    bad = client.get("/", headers={"origin": "https://api.example.org.evil.com"})
    assert "access-control-allow-origin" not in bad.headers


def test_app_vary_header_is_extended_not_replaced() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("x", headers={"vary": "Accept-Encoding"})(scope, receive, send)

    client = TestClient(CORSMiddleware(app, allow_origins=[ORIGIN]))
    assert client.get("/", headers={"origin": ORIGIN}).headers["vary"] == "Accept-Encoding, Origin"


# ------------------------------------------------------------------ preflight failures


def test_preflight_listed_origin() -> None:
    client = client_for(allow_origins=[ORIGIN], allow_methods=["GET", "POST"], allow_headers=["X-Token"])
    status, headers, text = preflight(client, method="POST", headers="x-token, Content-Type")
    assert (status, text) == (200, "OK")
    assert headers["access-control-allow-origin"] == ORIGIN
    assert headers["access-control-allow-methods"] == "GET, POST"
    assert headers["access-control-allow-headers"] == "Accept, Accept-Language, Content-Language, Content-Type, X-Token"
    assert headers["vary"] == PREFLIGHT_VARY


@pytest.mark.parametrize(
    ("origin", "method", "request_headers", "reason"),
    [
        ("https://evil.org", "GET", None, "Disallowed CORS origin"),
        (ORIGIN, "DELETE", None, "Disallowed CORS method"),
        (ORIGIN, "GET", "x-secret", "Disallowed CORS headers"),
        ("https://evil.org", "PUT", "x-secret", "Disallowed CORS origin, method, headers"),
    ],
)
def test_preflight_disallowed_is_400_with_reason(
    origin: str, method: str, request_headers: str | None, reason: str
) -> None:
    client = client_for(allow_origins=[ORIGIN], allow_headers=["X-Token"])
    status, headers, text = preflight(client, origin=origin, method=method, headers=request_headers)
    assert (status, text) == (400, reason)
    if "origin" in reason:
        assert "access-control-allow-origin" not in headers
    assert headers["vary"] == PREFLIGHT_VARY


def test_safelisted_headers_are_always_allowed() -> None:
    status, _, _ = preflight(client_for(allow_origins=[ORIGIN]), headers="Accept, Content-Type")
    assert status == 200


def test_private_network_access() -> None:
    ask = {"access-control-request-private-network": "true"}
    status, headers, _ = preflight(client_for(allow_origins=["*"], allow_private_network=True), **ask)
    assert status == 200
    assert headers["access-control-allow-private-network"] == "true"
    status, headers, text = preflight(client_for(allow_origins=["*"]), **ask)
    assert (status, text) == (400, "Disallowed CORS private-network")
    assert "access-control-allow-private-network" not in headers


def test_options_without_request_method_is_a_simple_request() -> None:
    response = client_for(allow_origins=["*"]).options("/", headers={"origin": ORIGIN})
    assert response.text == "Homepage"  # the app answered, with CORS headers
    assert response.headers["access-control-allow-origin"] == "*"


def test_preflight_never_reaches_the_app() -> None:
    calls: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        calls.append("app")
        await PlainTextResponse("app")(scope, receive, send)

    client = TestClient(CORSMiddleware(app, allow_origins=["*"]))
    assert preflight(client)[0] == 200
    assert calls == []


# ------------------------------------------------------------------ streaming and apps


def test_streaming_response_keeps_streaming() -> None:
    chunks_seen: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": False})
        for index in range(3):
            chunks_seen.append(index)
            await send({"type": "http.response.body", "body": b"chunk%d;" % index, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    response = TestClient(CORSMiddleware(app, allow_origins=["*"])).get("/", headers={"origin": ORIGIN})
    assert response.text == "chunk0;chunk1;chunk2;"
    assert response.headers["access-control-allow-origin"] == "*"
    assert chunks_seen == [0, 1, 2]


def test_inside_an_app_preflight_beats_405() -> None:
    async def numbers() -> AsyncIterator[str]:
        for number in range(3):
            yield str(number)

    async def stream(request: Request) -> Response:
        return StreamingResponse(numbers(), media_type="text/plain")

    app = TypedASGI(
        routes=[Route("/", stream)],  # GET only: a bare OPTIONS would be 405
        middleware=[Middleware(CORSMiddleware, allow_origins=[ORIGIN], allow_methods=["GET", "PUT"])],
    )
    client = TestClient(app)
    status, headers, text = preflight(client, method="PUT")
    assert (status, text) == (200, "OK")
    response = client.get("/", headers={"origin": ORIGIN})
    assert response.text == "012"
    assert response.headers["access-control-allow-origin"] == ORIGIN


def test_websocket_passes_through() -> None:
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hi")
        await websocket.close()

    app = TypedASGI(
        routes=[WebSocketRoute("/ws", endpoint)], middleware=[Middleware(CORSMiddleware, allow_origins=[ORIGIN])]
    )
    with TestClient(app).websocket_connect("/ws", headers={"origin": "https://evil.org"}) as session:
        assert session.receive_text() == "hi"


@pytest.mark.parametrize("requested", ["x-a,\x7f", "x-a\x01", "x-a, x-b\x7fy"])
def test_a_preflight_asking_for_header_names_with_controls_is_refused_not_echoed(requested: str) -> None:
    """Echoing them (``allow_headers=["*"]``) would put a control character in the answer: a 400, never a 500."""
    status, headers, body = preflight(client_for(allow_origins=["*"], allow_headers=["*"]), headers=requested)
    assert (status, body) == (400, "Disallowed CORS headers")
    assert "access-control-allow-headers" not in headers


@pytest.mark.parametrize(
    "options",
    [
        {"allow_origin_regex": r"https://.*\.example\.org"},  # "." matches a control character too
        {"allow_origins": ["*"], "allow_credentials": True},  # every origin is echoed
    ],
)
def test_an_origin_with_a_control_character_is_never_allowed_or_echoed(options: dict[str, object]) -> None:
    client = client_for(**options)
    origin = "https://a\x7fb.example.org"
    assert preflight(client, origin=origin)[::2] == (400, "Disallowed CORS origin")
    response = client.get("/", headers={"origin": origin})
    assert response.status_code == 200 and response.headers.get("access-control-allow-origin") in (None, "*")
    good = client.get("/", headers={"origin": "https://app.example.org"})  # the same options still serve origins
    assert good.headers["access-control-allow-origin"] == "https://app.example.org"
