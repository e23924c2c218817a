"""Paths ending in one parameter (``/users/{id:int}``) resolve as the ordered search over the routes would.

The router answers such paths from a table by their head; these tests hold it to
the rules every route follows: first full match in registration order, else the
first partial one (405), the convertors' regexes, and routes of other kinds.
"""

from __future__ import annotations

import itertools
import json
from typing import Any, cast

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.convertors import Convertor, register_url_convertor
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse, PlainTextResponse, Response
from typedasgi.routing import BaseRoute, Host, Mount, Route, Router, WebSocketRoute
from typedasgi.testclient import TestClient
from typedasgi.websockets import WebSocket, WebSocketDisconnect

from tests.support import call_app, http_scope


def labelled(label: str) -> Any:
    async def endpoint(request: Request) -> Response:
        params = {key: [type(value).__name__, value] for key, value in request.path_params.items()}
        return JSONResponse({"label": label, "params": params})

    return endpoint


async def ws_endpoint(websocket: WebSocket) -> None:
    await websocket.close()


class Shortest(Convertor[str]):
    """A lazy pattern: the whole path's "$" may end it before a final newline, which it then leaves out."""

    regex = "[^/]+?"

    def convert(self, value: str) -> str:
        return value.upper()

    def to_string(self, value: str) -> str:
        return value.lower()


class Doubled(Convertor[str]):
    regex = r"([a-z])\2"  # group 2 of the whole path's pattern, {v} being group 1

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class Initial(Doubled):
    regex = "(?P<initial>[a-z])[a-z]*"  # a named group: a path parameter too


register_url_convertor("doubled", Doubled())
register_url_convertor("initial", Initial())
class Late(Doubled):
    regex = "late"  # in the first segment: a route the router's index tries for any path


register_url_convertor("shortest", Shortest())
register_url_convertor("late", Late())


class SearchedRoute(Route):
    """A subclass: the router's tables stop before it, so it and everything after it is searched in order."""


class SearchedMount(Mount):
    pass


def route_table(route: type[Route], mount: type[Mount]) -> list[BaseRoute]:
    return [
        route("/users/me", labelled("me")),
        route("/users/{id:int}", labelled("int")),
        route("/users/{name}", labelled("name"), methods=["GET", "POST"]),
        route("/users/{name}", labelled("name-put"), methods=["PUT"]),
        route("/a.b/{x}", labelled("dot")),
        route("/files/{rest:path}", labelled("path")),
        route("/files/{name}", labelled("shadowed by path")),
        mount("/m", routes=[Route("/{x}", labelled("in mount")), Route("/k/{id:int}", labelled("in mount int"))]),
        route("/m/{x}", labelled("shadowed by mount")),
        route("/n/{a}/{b}", labelled("two")),
        route("/n/x/{c}", labelled("shadowed by two")),
        route("/p/{v:float}", labelled("float")),
        route("/uu/{id:uuid}", labelled("uuid")),
        route("/lz/{v:shortest}", labelled("shortest")),
        route("/lz/{v}", labelled("not shortest")),
        route("/bk/{v:doubled}", labelled("doubled")),
        route("/in/{v:initial}", labelled("initial")),
        route("/q/{id:int}", labelled("post int"), methods=["POST"]),
        route("/q/{id}", labelled("any q")),
        WebSocketRoute("/w/{x}", ws_endpoint),
        route("/w/{x}", labelled("http w")),
        route("/t/me", labelled("post me"), methods=["POST"]),
        route("/t/{x}", labelled("t")),
        route("/v/me", labelled("post v me"), methods=["POST"]),
        route("/v/me", labelled("get v me")),
        route("/v/{x}", labelled("v")),
        route("/x/a", labelled("static a")),
        route("/x/a\n", labelled("static a newline")),
        route("/x/{y}", labelled("x")),
        route("/d/{id:int}", labelled("d int"), methods=["DELETE"]),
        route("/o/{a}/x", labelled("post o x"), methods=["POST"]),
        route("/o/{a}/x", labelled("o x")),
        route("/o/{a}/y", labelled("delete o y"), methods=["DELETE"]),
        route("/o/{a}/{b:int}", labelled("o int")),
        route("/{top}", labelled("top")),
        route("/{a:late}/{b}", labelled("late pattern")),
        route("/late/{x}", labelled("shadowed by the late pattern")),
        route("/late", labelled("static after the late pattern")),
        Host("other.example", app=PlainTextResponse("host")),
        route("/after/host", labelled("static after host")),
        route("/after/{a}/{b}", labelled("post after"), methods=["POST"]),
        route("/after/{a}/{b:int}", labelled("after int")),
        route("/after/{a}/{b}", labelled("after")),
    ]


UUID = "12345678-1234-5678-1234-567812345678"
PATHS = [
    "/users/me", "/users/123", "/users/007", "/users/%D9%A1%D9%A2", "/users/%C2%B2", "/users/12a", "/users/+1",
    "/users/1_0", "/users/%201", "/users/", "/users", "/users/123/", "/users//123", "/users/123%0A", "/users/abc%0A",
    "/users/%0A", "/a.b/1", "/a.b/", "/aXb/1", "/files/x", "/files/x/y", "/m/z", "/m/k/5", "/m/k/x", "/n/x/y", "/n/x",
    "/p/1.5", "/p/2", "/p/x", "/p/1.5%0A", "/p/1.", "/uu/" + UUID, "/uu/" + UUID + "%0A", "/uu/x",
    "/lz/", "/lz/abc", "/lz/abc%0A", "/lz/a%0Ab", "/bk/aa", "/bk/ab", "/in/abc", "/files/", "/files/a%0A",
    "/files/a%0Ab", "/q/1", "/q/x", "/top", "/w/1", "/t/me", "/t/you", "/t/", "/v/me", "/v/you", "/x/a",
    "/x/a%0A", "/x/b", "/d/1", "/d/x", "/late/1", "/late", "/", "//", "/users/12/34", "/o/1/x", "/o/1/y", "/o/1/2", "/o/1/",
    "/o/1/x/", "/after/host", "/after/host/", "/after/1/2", "/after/1/b", "/after/1/2%0A", "/after/1",
]


def answer(client: TestClient, method: str, path: str) -> tuple[int, str, str]:
    response = client.request(method, path)
    return response.status_code, response.headers.get("allow", ""), response.text


@pytest.mark.parametrize("redirect_slashes", [True, False])
def test_every_path_resolves_as_the_ordered_search_does(redirect_slashes: bool) -> None:
    tabled = TestClient(TypedASGI(routes=route_table(Route, Mount), redirect_slashes=redirect_slashes))
    searched = TestClient(
        TypedASGI(routes=route_table(SearchedRoute, SearchedMount), redirect_slashes=redirect_slashes)
    )
    for method, path in itertools.product(["GET", "POST", "PUT", "DELETE"], PATHS):
        assert answer(tabled, method, path) == answer(searched, method, path), (method, path)


def test_a_trailing_parameter_is_converted_as_its_convertor_says() -> None:
    client = TestClient(TypedASGI(routes=route_table(Route, Mount), redirect_slashes=False))
    assert client.get("/users/123").json() == {"label": "int", "params": {"id": ["int", 123]}}
    assert client.get("/users/007").json()["params"] == {"id": ["int", 7]}
    assert client.get("/users/%D9%A1%D9%A2").json() == {"label": "name", "params": {"name": ["str", "١٢"]}}
    assert client.get("/users/1_0").json()["label"] == "name"
    assert client.get("/users/123%0A").json()["params"] == {"id": ["int", 123]}  # the regex's "$" before a final newline
    assert client.get("/users/abc%0A").json()["params"] == {"name": ["str", "abc\n"]}
    assert client.get("/users/").status_code == 404  # an empty segment matches no parameter
    assert client.get("/users/me").json()["label"] == "me"
    assert client.get("/a.b/1").json()["label"] == "dot"
    assert client.get("/a.b/").status_code == 404
    assert client.get("/aXb/1").status_code == 404
    assert client.get("/m/k/5").json() == {"label": "in mount int", "params": {"id": ["int", 5]}}
    assert client.get("/p/1.5").json() == {"label": "float", "params": {"v": ["float", 1.5]}}
    assert client.get("/uu/" + UUID).json() == {"label": "uuid", "params": {"id": ["UUID", UUID]}}
    assert client.get("/lz/abc").json() == {"label": "shortest", "params": {"v": ["str", "ABC"]}}
    assert client.get("/files/a").json() == {"label": "path", "params": {"rest": ["str", "a"]}}
    assert client.get("/lz/abc%0A").json() == {"label": "shortest", "params": {"v": ["str", "ABC"]}}
    assert client.get("/bk/aa").json()["label"] == "doubled"
    assert client.get("/bk/ab").status_code == 404
    assert client.get("/in/abc").json()["params"] == {"v": ["str", "abc"], "initial": ["str", "a"]}


def test_method_mismatch_falls_through_to_later_routes_and_else_answers_405() -> None:
    client = TestClient(TypedASGI(routes=route_table(Route, Mount)))
    assert client.put("/users/abc").json()["label"] == "name-put"
    assert client.post("/users/abc").json()["label"] == "name"
    assert client.post("/q/1").json()["label"] == "post int"
    assert client.get("/q/1").json() == {"label": "any q", "params": {"id": ["str", "1"]}}
    response = client.get("/d/1")
    assert (response.status_code, response.headers["allow"]) == (405, "DELETE")
    assert client.get("/v/me").json()["label"] == "get v me"  # a later static route matches fully
    assert client.get("/t/me").json()["label"] == "t"


def test_an_int_segment_of_non_ascii_digits_is_not_found() -> None:
    client = TestClient(TypedASGI(routes=[Route("/users/{id:int}", labelled("int"))]))
    for path in ["/users/%D9%A1%D9%A2", "/users/%C2%B2", "/users/+1", "/users/1_0", "/users/%201", "/users/", "/users/x"]:
        assert client.get(path).status_code == 404, path
    assert client.get("/users/12/", follow_redirects=False).headers["location"].endswith("/users/12")


def test_routes_before_the_tables_end_keep_their_turn() -> None:
    app = TypedASGI(
        routes=[
            Route("/free/{x}", labelled("before host")),
            Host("other.example", app=PlainTextResponse("host")),
            Route("/h/{x}", labelled("after host")),
        ]
    )
    client = TestClient(app)
    assert client.get("/h/1", headers={"host": "other.example"}).text == "host"
    assert client.get("/h/1").json()["label"] == "after host"
    assert client.get("/free/1", headers={"host": "other.example"}).json()["label"] == "before host"


def test_a_route_added_later_below_a_known_head_is_found() -> None:
    app = TypedASGI(routes=[Route("/users/{id:int}", labelled("int"))])
    client = TestClient(app)
    assert client.get("/users/x").status_code == 404
    app.add_route("/users/{name}", labelled("name"))
    assert client.get("/users/x").json()["label"] == "name"
    assert client.get("/users/1").json()["label"] == "int"


def test_an_empty_route_path_still_reaches_the_routes_that_match_any_path() -> None:
    app = TypedASGI(routes=[Route("/", labelled("root")), Host("testserver", app=PlainTextResponse("host"))])
    client = TestClient(app, root_path="/api")
    assert client.get("/api").text == "host"  # the path is the root path: the routes see ""
    assert client.get("/api/").json()["label"] == "root"


def test_websockets_pass_over_http_routes_of_the_same_path() -> None:
    async def room(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(websocket.path_params)
        await websocket.close()

    app = TypedASGI(
        routes=[
            Route("/chat", labelled("http chat")),
            Route("/chat/{room}/{user:int}", labelled("http room")),
            WebSocketRoute("/chat", room),
            WebSocketRoute("/chat/{room}/{user:int}", room),
        ]
    )
    client = TestClient(app)
    with client.websocket_connect("/chat/lobby/7") as websocket:
        assert websocket.receive_json() == {"room": "lobby", "user": 7}
    with client.websocket_connect("/chat") as websocket:
        assert websocket.receive_json() == {}
    assert client.get("/chat/lobby/7").json() == {"label": "http room", "params": {"room": ["str", "lobby"], "user": ["int", 7]}}
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/chat/lobby/x"):
            pass


async def where(request: Request) -> Response:
    scope = request.scope
    return JSONResponse({"root_path": scope.get("root_path"), "path": scope["path"], "params": request.path_params})


def test_paths_below_a_mount_see_its_prefix_as_root_path() -> None:
    app = TypedASGI(routes=[Mount("/m", routes=[Route("/{x}", where)]), Route("/{top}", labelled("top"))])
    client = TestClient(app)
    assert client.get("/m/z").json() == {"root_path": "/m", "path": "/m/z", "params": {"x": "z"}}
    assert client.get("/mz").json()["label"] == "top"  # a path that only starts with the prefix's text
    assert client.get("/m/z%0A").json() == {"root_path": "/m/", "path": "/m/z\n", "params": {"x": "z\n"}}
    assert client.get("/m/a%0Ab").status_code == 404  # the mount's {path} stops at a newline
    assert client.get("/m").json()["label"] == "top"  # the mount matches "/m/" and below


def test_methods_given_to_a_route_after_the_first_request_are_honoured() -> None:
    routes = [Route("/a", labelled("static")), Route("/a/{x}", labelled("tail")), Route("/a/{x}/b", labelled("inner"))]
    client = TestClient(TypedASGI(routes=routes))
    for path in ["/a", "/a/1", "/a/1/b"]:
        assert client.get(path).status_code == 200
    for route in routes:
        route.methods = frozenset({"POST"})
    for path in ["/a", "/a/1", "/a/1/b"]:
        assert (client.get(path).status_code, client.post(path).status_code) == (405, 200), path


@pytest.mark.parametrize("name", [b"host", b"Host"])
def test_a_host_route_reads_the_host_header_of_a_hand_built_scope(name: bytes) -> None:
    app = Router(routes=[Host("{sub}.example.org", app=PlainTextResponse("host")), Route("/", labelled("root"))])
    scope = http_scope(headers=[(b"accept", b"*/*"), (name, b"API.example.org:8000")])
    messages = call_app(app, scope)
    assert messages[1].get("body") == b"host"
    assert scope.get("path_params") == {"sub": "api"}
    other = call_app(app, http_scope(headers=[(name, b"example.com")]))
    assert json.loads(cast(bytes, other[1].get("body")))["label"] == "root"


def test_a_slash_redirect_goes_where_any_route_matches_even_for_another_method() -> None:
    routes = [
        Route("/only-post", labelled("post"), methods=["POST"]),
        Route("/items/{id:int}", labelled("item"), methods=["PUT"]),
        Mount("/m", routes=[Route("/", labelled("mount root"))]),
        Route("/a/{x}/b/", labelled("inner")),
    ]
    client = TestClient(TypedASGI(routes=routes))
    for path, target in [("/only-post/", "/only-post"), ("/items/5/", "/items/5"), ("/m", "/m/"), ("/a/1/b", "/a/1/b/")]:
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers.get("location")) == (307, "http://testserver" + target), path
    for path in ["/items/x/", "/only-post//", "/a/1/c"]:
        assert client.get(path, follow_redirects=False).status_code == 404, path


def _label(client: TestClient, path: str) -> object:
    response = client.get(path)
    return response.json()["label"] if response.status_code == 200 else response.status_code


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda routes, new: routes.insert(0, new), "new"),
        (lambda routes, new: routes.__setitem__(0, new), "new"),  # same length
        (lambda routes, new: routes.__setitem__(slice(0, 1), [new]), "new"),
        (lambda routes, new: routes.__delitem__(0), "later"),
        (lambda routes, new: routes.__delitem__(slice(0, 1)), "later"),
        (lambda routes, new: routes.pop(0), "later"),
        (lambda routes, new: routes.remove(routes[0]), "later"),
        (lambda routes, new: routes.reverse(), "later"),
        (lambda routes, new: routes.sort(key=lambda route: route.name != "second"), "later"),
        (lambda routes, new: routes.clear(), 404),
        (lambda routes, new: routes.__imul__(0), 404),
    ],
)
@pytest.mark.parametrize(("path", "requested"), [("/a", "/a"), ("/a/{x:int}", "/a/1"), ("/a/{x}", "/a/b")])
def test_a_change_to_the_routes_after_the_first_request_is_served_at_once(
    change: Any, expected: object, path: str, requested: str
) -> None:
    """The lookup tables (static paths, ``head/{param}`` paths) never answer for routes no longer first or there."""
    app = TypedASGI(routes=[Route(path, labelled("first"), name="first"), Route(path, labelled("later"), name="second")])
    client = TestClient(app)
    assert _label(client, requested) == "first"  # the tables are built and answer the path
    change(app.routes, Route(path, labelled("new")))
    assert _label(client, requested) == expected


def test_routes_given_anew_replace_the_tables_and_later_appends_are_found() -> None:
    app = TypedASGI(routes=[Route("/a", labelled("first"))])
    client = TestClient(app)
    assert _label(client, "/a") == "first"
    app.router.routes = [Route("/a", labelled("replaced"))]
    assert _label(client, "/a") == "replaced"
    app.routes.append(Route("/b", labelled("appended")))
    app.routes.extend([Route("/c", labelled("extended"))])
    app.router.routes += [Route("/d", labelled("added"))]
    assert [_label(client, path) for path in ["/a", "/b", "/c", "/d"]] == ["replaced", "appended", "extended", "added"]
    assert type(app.routes) is not list and isinstance(app.routes, list)  # a list to every reader
