"""``Router(middleware=, max_body_size=)`` and ``Mount(max_body_size=)``: a router on its own wraps itself."""

from __future__ import annotations

from typedasgi.middleware import Middleware
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import Mount, Route, Router
from typedasgi.testclient import TestClient

from tests.support import TagResponses



def page(request: Request) -> Response:
    return PlainTextResponse("page")


async def echo(request: Request) -> Response:
    return Response(await request.body())


def test_router_middleware_wraps_its_routing_in_order() -> None:
    router = Router(
        [Route("/", page)],
        middleware=[Middleware(TagResponses, name="outer"), Middleware(TagResponses, name="inner")],
    )
    response = TestClient(router).get("/")
    assert response.text == "page"
    assert response.headers.get_list("x-tag") == ["inner", "outer"]
    assert TestClient(router).get("/missing").headers.get_list("x-tag") == ["inner", "outer"]  # 404s too


def test_a_router_without_middleware_is_its_own_routing() -> None:
    assert type(Router()) is Router
    assert Router().middleware_stack is None


def test_router_max_body_size_answers_413() -> None:
    client = TestClient(Router([Route("/", echo, methods=["POST"])], max_body_size=5))
    assert client.post("/", content=b"12345").content == b"12345"
    response = client.post("/", content=b"123456")
    assert response.status_code == 413


def test_a_mount_limit_overrides_the_router_limit() -> None:
    router = Router(
        [Route("/", echo, methods=["POST"]), Mount("/up", routes=[Route("/", echo, methods=["POST"])], max_body_size=10)],
        max_body_size=5,
    )
    client = TestClient(router)
    assert client.post("/up/", content=b"12345678").content == b"12345678"
    assert client.post("/up/", content=b"x" * 11).status_code == 413
    assert client.post("/", content=b"12345678").status_code == 413
