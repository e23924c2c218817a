"""Middleware order: the first listed runs outermost; add_middleware adds outside; stacks compose."""

from __future__ import annotations

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.authentication import AuthCredentials, BaseUser, SimpleUser
from typedasgi.exceptions import HTTPException
from typedasgi.middleware import Middleware
from typedasgi.middleware.authentication import AuthenticationMiddleware
from typedasgi.middleware.gzip import GZipMiddleware
from typedasgi.middleware.httpsredirect import HTTPSRedirectMiddleware
from typedasgi.middleware.sessions import SessionMiddleware
from typedasgi.middleware.trustedhost import TrustedHostMiddleware
from typedasgi.requests import HTTPConnection, Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import Route
from typedasgi.testclient import TestClient
from typedasgi.types import ASGIApp, Receive, Scope, Send, SendEvent

Log = list[str]


class Recorder:
    """A pure middleware that logs when the request passes in and the response head passes out."""

    def __init__(self, app: ASGIApp, name: str, log: Log) -> None:
        self.app = app
        self.name = name
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.log.append(f"{self.name} request")

        async def logging_send(message: SendEvent) -> None:
            if message["type"] == "http.response.start":
                self.log.append(f"{self.name} response {message['status']}")
            await send(message)

        try:
            await self.app(scope, receive, logging_send)
        except Exception as exc:
            self.log.append(f"{self.name} saw {type(exc).__name__}")
            raise
        self.log.append(f"{self.name} done")


def app_with(log: Log, *middleware: Middleware) -> TypedASGI:
    async def home(request: Request) -> Response:
        log.append("endpoint")
        return PlainTextResponse("home")

    async def missing(request: Request) -> Response:
        raise HTTPException(404)

    async def broken(request: Request) -> Response:
        raise ValueError("bug")

    routes = [Route("/", home), Route("/missing", missing), Route("/broken", broken)]
    return TypedASGI(routes=routes, middleware=list(middleware))


def test_first_listed_runs_outermost() -> None:
    log: Log = []
    app = app_with(log, Middleware(Recorder, "A", log), Middleware(Recorder, "B", log))
    assert TestClient(app).get("/").text == "home"
    assert log == ["A request", "B request", "endpoint", "B response 200", "A response 200", "B done", "A done"]


def test_add_middleware_adds_outside() -> None:
    log: Log = []
    app = app_with(log, Middleware(Recorder, "A", log))
    app.add_middleware(Recorder, "B", log)
    app.add_middleware(Recorder, "C", log)
    TestClient(app).get("/")
    assert log[:3] == ["C request", "B request", "A request"]
    assert log[-3:] == ["A done", "B done", "C done"]


def test_add_middleware_after_start_is_refused() -> None:
    log: Log = []
    app = app_with(log)
    TestClient(app).get("/")
    with pytest.raises(RuntimeError):
        app.add_middleware(Recorder, "late", log)


def test_user_middleware_sits_between_the_error_layers() -> None:
    log: Log = []
    app = app_with(log, Middleware(Recorder, "A", log))
    client = TestClient(app, raise_server_exceptions=False)
    # HTTPException is turned into a response inside: the middleware sees a 404 answer.
    assert client.get("/missing").status_code == 404
    assert log == ["A request", "A response 404", "A done"]
    log.clear()
    # An unhandled error passes through it, to ServerErrorMiddleware outside.
    assert client.get("/broken").status_code == 500
    assert log == ["A request", "A saw ValueError"]


def test_trusted_host_outside_https_redirect_rejects_first() -> None:
    log: Log = []
    outer_first = app_with(
        log,
        Middleware(TrustedHostMiddleware, allowed_hosts=["example.com"]),
        Middleware(HTTPSRedirectMiddleware),
    )
    client = TestClient(outer_first, follow_redirects=False)
    assert client.get("http://evil.com/").status_code == 400
    assert client.get("http://example.com/").status_code == 307

    inner_first = app_with(
        log,
        Middleware(HTTPSRedirectMiddleware),
        Middleware(TrustedHostMiddleware, allowed_hosts=["example.com"]),
    )
    assert TestClient(inner_first, follow_redirects=False).get("http://evil.com/").status_code == 307


class SessionBackend:
    """Authenticates from the session: needs SessionMiddleware outside it."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        name = conn.session.get("user")
        return (AuthCredentials(["authenticated"]), SimpleUser(name)) if name else None


def test_a_full_stack_composes() -> None:
    async def login(request: Request) -> Response:
        request.session["user"] = request.query_params["name"]
        return PlainTextResponse("logged in")

    async def me(request: Request) -> Response:
        return PlainTextResponse(request.user.display_name * 200)  # big enough to compress

    app = TypedASGI(
        routes=[Route("/login", login), Route("/me", me)],
        middleware=[
            Middleware(GZipMiddleware),
            Middleware(SessionMiddleware, secret_key="k"),
            Middleware(AuthenticationMiddleware, backend=SessionBackend()),
        ],
    )
    client = TestClient(app)
    assert client.get("/me").text == ""
    assert "set-cookie" in client.get("/login?name=ann").headers
    response = client.get("/me", headers={"accept-encoding": "gzip"})
    assert response.text == "ann" * 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Cookie, Accept-Encoding"  # the session layer inside gzip still edits the head


def test_wrong_order_fails_loudly() -> None:
    app = TypedASGI(
        routes=[Route("/", lambda request: PlainTextResponse("x"))],
        middleware=[
            Middleware(AuthenticationMiddleware, backend=SessionBackend()),
            Middleware(SessionMiddleware, secret_key="k"),
        ],
    )
    with pytest.raises(AssertionError, match="SessionMiddleware must be installed"):
        TestClient(app).get("/")
