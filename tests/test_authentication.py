"""Authentication: backends (Protocol and base class), the middleware, ``requires`` on every kind of endpoint."""

from __future__ import annotations

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
    SimpleUser,
    UnauthenticatedUser,
    has_required_scope,
    requires,
)
from typedasgi.endpoints import HTTPEndpoint
from typedasgi.middleware import Middleware
from typedasgi.middleware.authentication import AuthenticationMiddleware
from typedasgi.requests import HTTPConnection, Request
from typedasgi.responses import JSONResponse, PlainTextResponse, Response
from typedasgi.routing import Route, WebSocketRoute
from typedasgi.testclient import TestClient, WebSocketDenialResponse
from typedasgi.types import Receive, Scope, Send, framework_keys
from typedasgi.websockets import WebSocket, WebSocketDisconnect

from tests.support import http_scope


class TokenBackend(AuthenticationBackend):
    """Subclassing, as in Starlette: ``Authorization: Token <user>:<scope>,<scope>``."""

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        header = conn.headers.get("authorization")
        if header is None:
            return None
        kind, _, token = header.partition(" ")
        if kind != "Token" or ":" not in token:
            raise AuthenticationError("Invalid token")
        user, _, scopes = token.partition(":")
        return AuthCredentials(scopes.split(",") if scopes else []), SimpleUser(user)


class StructuralBackend:
    """No base class at all: the Protocol is satisfied by the method alone."""

    async def authenticate(self, request: HTTPConnection, /) -> tuple[AuthCredentials, BaseUser] | None:
        if request.query_params.get("user"):
            return AuthCredentials(["authenticated"]), SimpleUser(request.query_params["user"])
        return None


def token(user: str, *scopes: str) -> dict[str, str]:
    return {"authorization": f"Token {user}:{','.join(scopes)}"}


async def whoami(request: Request) -> Response:
    user = request.user
    return JSONResponse(
        {
            "authenticated": user.is_authenticated,
            "name": user.display_name,
            "identity": user.identity,
            "scopes": request.auth.scopes,
        }
    )


@requires("authenticated")
async def private(request: Request) -> Response:
    return PlainTextResponse(f"hello {request.user.display_name}")


@requires(["authenticated", "admin"])
def admin_sync(request: Request) -> Response:
    return PlainTextResponse("admin area")


@requires("admin", status_code=404)
async def hidden(request: Request) -> Response:
    return PlainTextResponse("hidden")


@requires("authenticated", redirect="login")
async def needs_login(request: Request) -> Response:
    return PlainTextResponse("welcome")


async def login(request: Request) -> Response:
    return PlainTextResponse(f"login page, next={request.query_params.get('next')}")


class Dashboard(HTTPEndpoint):
    @requires("authenticated")
    async def get(self, request: Request) -> Response:
        return PlainTextResponse("dashboard")

    @requires("admin")
    def post(self, request: Request) -> Response:
        return PlainTextResponse("posted")


@requires("chat")
async def chat(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(f"hi {websocket.user.display_name}")
    await websocket.close()


def make_app(backend: AuthenticationBackend | None = None, **options: object) -> TypedASGI:
    return TypedASGI(
        routes=[
            Route("/whoami", whoami),
            Route("/private", private),
            Route("/admin", admin_sync),
            Route("/hidden", hidden),
            Route("/needs-login", needs_login),
            Route("/login", login, name="login"),
            Route("/dashboard", Dashboard, methods=["GET", "POST"]),
            WebSocketRoute("/chat", chat),
        ],
        middleware=[Middleware(AuthenticationMiddleware, backend=backend or TokenBackend(), **options)],  # type: ignore[arg-type]  # options vary per test
    )


client = TestClient(make_app())


# --------------------------------------------------------------------------- users


def test_user_classes() -> None:
    user = SimpleUser("alice")
    assert (user.is_authenticated, user.display_name, user.identity) == (True, "alice", "alice")
    anonymous = UnauthenticatedUser()
    assert (anonymous.is_authenticated, anonymous.display_name, anonymous.identity) == (False, "", "")
    with pytest.raises(NotImplementedError):
        BaseUser().is_authenticated
    assert AuthCredentials().scopes == []
    assert AuthCredentials(("a", "b")).scopes == ["a", "b"]


# ---------------------------------------------------------------------- middleware


def test_anonymous_connection_gets_an_unauthenticated_user() -> None:
    assert client.get("/whoami").json() == {"authenticated": False, "name": "", "identity": "", "scopes": []}


def test_authenticated_connection() -> None:
    response = client.get("/whoami", headers=token("alice", "authenticated", "admin"))
    assert response.json() == {
        "authenticated": True,
        "name": "alice",
        "identity": "alice",
        "scopes": ["authenticated", "admin"],
    }


def test_authentication_error_is_400() -> None:
    response = client.get("/whoami", headers={"authorization": "Basic nope"})
    assert (response.status_code, response.text) == (400, "Invalid token")


def test_on_error_builds_the_response() -> None:
    def on_error(conn: HTTPConnection, exc: AuthenticationError) -> Response:
        return JSONResponse({"error": str(exc), "path": conn.url.path}, status_code=401)

    custom = TestClient(make_app(on_error=on_error))
    response = custom.get("/whoami", headers={"authorization": "bad"})
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid token", "path": "/whoami"}


def test_structural_backend() -> None:
    structural = TestClient(make_app(StructuralBackend()))
    assert structural.get("/private?user=bob").text == "hello bob"
    assert structural.get("/private").status_code == 403


def test_around_a_bare_asgi_app() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        keys = framework_keys(scope)
        user = keys["user"]
        assert isinstance(user, BaseUser)
        await PlainTextResponse(user.display_name or "anonymous")(scope, receive, send)

    bare = TestClient(AuthenticationMiddleware(app, TokenBackend()))
    assert bare.get("/").text == "anonymous"
    assert bare.get("/", headers=token("carol")).text == "carol"
    assert bare.get("/", headers={"authorization": "x"}).status_code == 400


# ------------------------------------------------------------------------ requires


def test_requires_async_endpoint() -> None:
    assert client.get("/private").status_code == 403
    assert client.get("/private", headers=token("alice", "authenticated")).text == "hello alice"


def test_requires_sync_endpoint_with_several_scopes() -> None:
    assert client.get("/admin", headers=token("alice", "authenticated")).status_code == 403
    assert client.get("/admin", headers=token("alice", "admin")).status_code == 403
    assert client.get("/admin", headers=token("alice", "authenticated", "admin")).text == "admin area"


def test_requires_status_code() -> None:
    assert client.get("/hidden").status_code == 404
    assert client.get("/hidden", headers=token("root", "admin")).text == "hidden"


def test_requires_redirect_carries_next() -> None:
    no_follow = TestClient(make_app(), follow_redirects=False)
    response = no_follow.get("/needs-login?page=2")
    assert response.status_code == 303
    assert response.headers["location"] == "http://testserver/login?next=http%3A%2F%2Ftestserver%2Fneeds-login%3Fpage%3D2"
    followed = client.get("/needs-login")
    assert followed.text == "login page, next=http://testserver/needs-login"
    assert client.get("/needs-login", headers=token("alice", "authenticated")).text == "welcome"


def test_requires_on_endpoint_methods() -> None:
    assert client.get("/dashboard").status_code == 403
    assert client.get("/dashboard", headers=token("alice", "authenticated")).text == "dashboard"
    assert client.post("/dashboard", headers=token("alice", "authenticated")).status_code == 403
    assert client.post("/dashboard", headers=token("alice", "admin")).text == "posted"


def test_requires_websocket_closes_with_1008() -> None:
    with pytest.raises(WebSocketDisconnect) as closed:
        with client.websocket_connect("/chat"):
            pass  # pragma: no cover - closed before accept
    assert closed.value.code == 1008
    with client.websocket_connect("/chat", headers=token("dave", "chat")) as session:
        assert session.receive_text() == "hi dave"


def test_websocket_authentication_error_refuses_the_handshake() -> None:
    with pytest.raises(WebSocketDenialResponse) as denied:
        with client.websocket_connect("/chat", headers={"authorization": "junk"}):
            pass  # pragma: no cover - refused
    assert (denied.value.status_code, denied.value.text) == (400, "Invalid token")


def test_a_refused_handshake_is_a_websocket_disconnect_too_as_in_starlette() -> None:
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/chat", headers={"authorization": "junk"}):
            pass  # pragma: no cover - refused
    assert isinstance(refused.value, WebSocketDenialResponse)
    assert (refused.value.code, refused.value.status_code) == (1006, 400)


def test_requires_finds_the_connection_by_keyword() -> None:
    @requires("x")
    def endpoint(request: Request) -> str:
        return "ran"

    connection = Request(http_scope(auth=AuthCredentials(["x"])))  # a framework key, as the middleware sets it
    assert endpoint(request=connection) == "ran"
    assert endpoint(connection) == "ran"
    assert has_required_scope(connection, ["x"]) and not has_required_scope(connection, ["x", "y"])


def test_requires_checks_the_signature_once_at_decoration() -> None:
    def no_connection(req: Request) -> Response:  # pragma: no cover - never called
        return PlainTextResponse("")

    with pytest.raises(TypeError, match='"request" or "websocket"'):
        requires("x")(no_connection)

    def sync_websocket(websocket: WebSocket) -> None:  # pragma: no cover - never called
        pass

    with pytest.raises(TypeError, match="must be async"):
        requires("x")(sync_websocket)


def test_requires_preserves_metadata() -> None:
    assert private.__name__ == "private"
    assert admin_sync.__qualname__ == "admin_sync"
