"""Reverse URLs (``url_path_for``) through nested mounts and hosts, and route reprs."""

from __future__ import annotations

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.middleware import Middleware
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse, PlainTextResponse, Response
from typedasgi.routing import Host, Mount, NoMatchFound, Route, Router
from typedasgi.testclient import TestClient
from typedasgi.types import ASGIApp, Receive, Scope, Send

from tests.support import http_scope


def page(request: Request) -> Response:
    return PlainTextResponse("page")


async def bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("bare")(scope, receive, send)


def test_a_leading_double_slash_cannot_become_another_host() -> None:
    router = Router([Route("/{rest:path}", page, name="any")])
    assert router.url_path_for("any", rest="/evil.example/x") == "/%2Fevil.example/x"
    assert router.url_path_for("any", rest="\\evil.example/x") == "/%5Cevil.example/x"


def test_a_value_with_a_question_mark_or_hash_stays_in_the_path_and_routes_back() -> None:
    """Unescaped, ``?`` would start a query of the value's making (``?admin=1``) and ``#`` a fragment."""

    async def echo(request: Request) -> Response:
        return JSONResponse(request.path_params)

    app = TypedASGI(routes=[
        Route("/notes/{title}", echo, name="note"),
        Mount("/tags/{tag}", routes=[Route("/{rest:path}", echo, name="tagged")], name="tags"),
    ])
    assert app.url_path_for("note", title="why?admin=1#top") == "/notes/why%3Fadmin=1%23top"
    built = app.url_path_for("tags:tagged", tag="c#", rest="q?/a b")
    assert built == "/tags/c%23/q%3F/a b"
    client = TestClient(app)
    assert client.get(app.url_path_for("note", title="why?admin=1#top")).json() == {"title": "why?admin=1#top"}
    assert client.get(built).json() == {"tag": "c#", "rest": "q?/a b"}


def test_a_mount_keeps_its_parameters_left_out_as_placeholders() -> None:
    mount = Mount("/{tenant}", routes=[Route("/users", page, name="users")])
    assert mount.url_path_for("users") == "/{tenant}/users"
    assert mount.url_path_for("users", tenant="acme") == "/acme/users"


def test_a_named_mount_inside_a_named_mount_takes_path() -> None:
    app = TypedASGI(routes=[Mount("/outer", name="outer", routes=[Mount("/files", bare_app, name="files")])])
    assert app.url_path_for("outer:files", path="a/b.txt") == "/outer/files/a/b.txt"
    with pytest.raises(NoMatchFound):
        app.url_path_for("outer:files", path="x", extra="y")


def test_host_urls_keep_the_port_and_fill_the_subdomain() -> None:
    router = Router(
        [
            Host("port.example.org:3600", Router([Route("/", page, name="home")]), name="port"),
            Host("{sub}.example.org", bare_app, name="subs"),
        ]
    )
    assert router.url_path_for("port:home").make_absolute_url("https://base") == "https://port.example.org:3600/"
    url = router.url_path_for("subs", sub="shop", path="/cart")
    assert url.make_absolute_url("https://base") == "https://shop.example.org/cart"
    with pytest.raises(NoMatchFound):
        router.url_path_for("subs", path="/cart")  # the subdomain is missing


def test_a_host_still_matches_requests_on_another_port() -> None:
    router = Router([Host("port.example.org:3600", Router([Route("/", page)]))])
    assert TestClient(router, base_url="http://port.example.org:8000").get("/").text == "page"


def test_a_path_value_that_cannot_go_into_a_url_is_refused() -> None:
    router = Router([Route("/users/{name}", page, name="user")])
    with pytest.raises(ValueError, match="path separators"):
        router.url_path_for("user", name="a/b")
    with pytest.raises(AssertionError):  # what Starlette's convertors raise, for code written against it
        router.url_path_for("user", name="")


def test_unnamed_mount_and_host_show_an_empty_name() -> None:
    assert repr(Mount("/app", routes=[])).startswith("Mount(path='/app', name='', app=")
    assert repr(Host("example.com", bare_app)).startswith("Host(host='example.com', name='', app=")


def test_url_for_below_a_root_path() -> None:
    async def urls(request: Request) -> Response:
        return JSONResponse({"index": str(request.url_for("index")), "sub": str(request.url_for("m:sub"))})

    app = TypedASGI(
        routes=[Route("/", urls, name="index"), Mount("/m", name="m", routes=[Route("/", urls, name="sub")])]
    )
    client = TestClient(app, base_url="https://example.org", root_path="/prefix")
    expected = {"index": "https://example.org/prefix/", "sub": "https://example.org/prefix/m/"}
    assert client.get("/prefix/").json() == expected
    assert client.get("/prefix/m/").json() == expected


def test_url_for_in_a_middleware_of_the_app_before_routing() -> None:
    seen: list[str] = []

    class RecordsTheHomeURL:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                seen.append(str(Request(scope, receive).url_for("home")))
            await self.app(scope, receive, send)

    app = TypedASGI(routes=[Route("/home", page, name="home")], middleware=[Middleware(RecordsTheHomeURL)])
    assert TestClient(app).get("/home").status_code == 200
    assert seen == ["http://testserver/home"]


def test_url_for_outside_an_app_and_a_router_says_so() -> None:
    request = Request(http_scope())
    with pytest.raises(RuntimeError, match="only be used inside"):
        request.url_for("home")
