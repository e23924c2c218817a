"""A Mount's own middleware sees the app's answer to an error raised below it (as in Starlette)."""

from __future__ import annotations

from typedasgi.applications import TypedASGI
from typedasgi.exceptions import HTTPException
from typedasgi.middleware import Middleware
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import Mount, Route
from typedasgi.testclient import TestClient
from typedasgi.types import Receive, Scope, Send

from tests.support import TagResponses



def forbidden(request: Request) -> Response:
    raise HTTPException(403, "no")


def teapot(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("teapot", status_code=418)


def test_an_error_below_a_mount_is_answered_inside_its_middleware() -> None:
    app = TypedASGI(
        routes=[Mount("/m", routes=[Route("/err", forbidden)], middleware=[Middleware(TagResponses, name="mount")])],
        middleware=[Middleware(TagResponses, name="app")],
        exception_handlers={KeyError: teapot},
    )
    response = TestClient(app).get("/m/err")
    assert response.status_code == 403
    assert response.headers.get_list("x-tag") == ["mount", "app"]

    @app.route("/m2/key")  # an app handler registered by class, outside any mount: unchanged
    def key(request: Request) -> Response:
        raise KeyError("k")

    assert TestClient(app).get("/m2/key").status_code == 418


def test_a_mount_without_middleware_adds_no_layer() -> None:
    async def bare(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("bare")(scope, receive, send)

    assert Mount("/b", bare).app is bare
