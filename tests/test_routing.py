from __future__ import annotations

import functools
import uuid
from typing import Any

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.convertors import Convertor, register_url_convertor
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse, PlainTextResponse, Response
from typedasgi.routing import BaseRoute, Host, Match, Mount, NoMatchFound, Route, Router, WebSocketRoute, compile_path
from typedasgi.testclient import TestClient
from typedasgi.types import Receive, Scope, Send, framework_keys
from typedasgi.websockets import WebSocket


def home(request: Request) -> Response:
    return PlainTextResponse("home")


async def user(request: Request) -> Response:
    return JSONResponse({"id": request.path_params["id"], "kind": type(request.path_params["id"]).__name__})


async def echo_params(request: Request) -> Response:
    return JSONResponse({k: str(v) for k, v in request.path_params.items()})


async def raw_app(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "http"
    body = f"{scope['root_path']}|{scope['path']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [], "trailers": False})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def ws_endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(f"ws:{websocket.path_params.get('room', '')}")
    await websocket.close()


def make_app() -> TypedASGI:
    return TypedASGI(
        routes=[
            Route("/", home, name="home"),
            Route("/users/{id:int}", user, name="user"),
            Route("/floats/{value:float}", echo_params),
            Route("/uuids/{value:uuid}", echo_params, name="uuid"),
            Route("/files/{rest:path}", echo_params, name="files"),
            Route("/post-only", home, methods=["POST"]),
            Route("/slash/", home),
            Mount("/raw", app=raw_app, name="raw"),
            Mount("/sub", routes=[Route("/inner/{x}", echo_params, name="inner")], name="sub"),
            WebSocketRoute("/ws/{room}", ws_endpoint, name="ws"),
        ]
    )


def test_static_and_param_routes() -> None:
    client = TestClient(make_app())
    assert client.get("/").text == "home"
    assert client.get("/users/42").json() == {"id": 42, "kind": "int"}
    assert client.get("/floats/1.5").json() == {"value": "1.5"}
    value = uuid.uuid4()
    assert client.get(f"/uuids/{value}").json() == {"value": str(value)}
    assert client.get("/files/a/b/c.txt").json() == {"rest": "a/b/c.txt"}


def test_404_and_405_with_allow() -> None:
    client = TestClient(make_app())
    missing = client.get("/nope")
    assert missing.status_code == 404 and missing.text == "Not Found"
    assert client.get("/users/abc").status_code == 404  # int convertor rejects
    wrong = client.get("/post-only")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
    assert client.post("/post-only").text == "home"


def test_head_is_answered_for_get_routes() -> None:
    client = TestClient(make_app())
    response = client.head("/")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == "4"


def test_redirect_slashes_both_ways() -> None:
    client = TestClient(make_app())
    response = client.get("/slash", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/slash/"
    response = client.get("/users/5/", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"].endswith("/users/5")
    assert client.get("/slash").text == "home"


def test_redirect_slashes_can_be_turned_off() -> None:
    app = TypedASGI(routes=[Route("/slash/", home)], redirect_slashes=False)
    assert TestClient(app).get("/slash", follow_redirects=False).status_code == 404


def test_mount_keeps_path_and_extends_root_path() -> None:
    client = TestClient(make_app())
    assert client.get("/raw/a/b").text == "/raw|/raw/a/b"
    assert client.get("/sub/inner/7").json() == {"x": "7"}


def test_url_path_for() -> None:
    app = make_app()
    assert app.url_path_for("user", id=3) == "/users/3"
    assert app.url_path_for("files", rest="x/y") == "/files/x/y"
    assert app.url_path_for("sub:inner", x="q") == "/sub/inner/q"
    assert app.url_path_for("raw", path="/a") == "/raw/a"
    assert app.url_path_for("ws", room="r1") == "/ws/r1"
    with pytest.raises(NoMatchFound, match='"user" and params "wrong"'):
        app.url_path_for("user", wrong=1)
    with pytest.raises(NoMatchFound):
        app.url_path_for("unknown")


def test_request_url_for_is_absolute() -> None:
    async def link(request: Request) -> Response:
        return PlainTextResponse(str(request.url_for("user", id=9)))

    app = make_app()
    app.add_route("/link", link)
    assert TestClient(app).get("/link").text == "http://testserver/users/9"


def test_websocket_route_and_unmatched_websocket() -> None:
    client = TestClient(make_app())
    with client.websocket_connect("/ws/lobby") as session:
        assert session.receive_text() == "ws:lobby"
    from typedasgi.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as info:
        with client.websocket_connect("/nowhere"):
            pass
    assert info.value.code == 1000


def test_host_routing() -> None:
    api = Router(routes=[Route("/", echo_params, name="index")])
    app = TypedASGI(routes=[Host("{sub}.example.org", api, name="api"), Route("/", home)])
    client = TestClient(app)
    assert client.get("/", headers={"host": "eu.example.org:8080"}).json() == {"sub": "eu"}
    assert client.get("/").text == "home"
    url = app.url_path_for("api:index", sub="us")
    assert url.host == "us.example.org" and url == "/"


def test_user_registered_convertor() -> None:
    class Hex(Convertor[int]):
        regex = "[0-9a-f]+"

        def convert(self, value: str) -> int:
            return int(value, 16)

        def to_string(self, value: int) -> str:
            return format(value, "x")

    register_url_convertor("hex", Hex())
    app = TypedASGI(routes=[Route("/h/{id:hex}", user, name="hex")])
    assert TestClient(app).get("/h/ff").json() == {"id": 255, "kind": "int"}
    assert app.url_path_for("hex", id=255) == "/h/ff"


def test_compile_path_errors() -> None:
    with pytest.raises(ValueError, match="Unknown path convertor"):
        compile_path("/x/{a:nope}")
    with pytest.raises(ValueError, match="Duplicated param"):
        compile_path("/{a}/{a}")
    with pytest.raises(ValueError, match="must start with '/'"):
        Route("x", home)


def test_first_registered_route_wins_across_static_and_dynamic() -> None:
    async def dynamic(request: Request) -> Response:
        return PlainTextResponse("dynamic")

    async def static(request: Request) -> Response:
        return PlainTextResponse("static")

    app = TypedASGI(routes=[Route("/{anything}", dynamic), Route("/fixed", static)])
    assert TestClient(app).get("/fixed").text == "dynamic"
    app2 = TypedASGI(routes=[Route("/fixed", static), Route("/{anything}", dynamic)])
    assert TestClient(app2).get("/fixed").text == "static"
    assert TestClient(app2).get("/other").text == "dynamic"


def test_static_path_keeps_registration_order_with_methods_mounts_and_hosts() -> None:
    def answer(text: str) -> Any:
        async def endpoint(request: Request) -> Response:
            return PlainTextResponse(text)

        return endpoint

    app = TypedASGI(
        routes=[
            Route("/items", answer("get items")),
            Route("/items", answer("post items"), methods=["POST"]),
            Route("/only-post", answer("only post"), methods=["POST"]),
            Route("/{anything}", answer("dynamic"), methods=["PUT"]),
            Route("/only-post", answer("later get")),
            Mount("/mounted", routes=[Route("/x", answer("inside mount"))]),
            Route("/mounted/x", answer("shadowed by the mount")),
            Host("other.example", app=PlainTextResponse("host")),
            Route("/after-host", answer("after host")),
        ]
    )
    client = TestClient(app)
    assert client.get("/items").text == "get items"
    assert client.post("/items").text == "post items"  # the first static route only matched partially
    assert client.post("/only-post").text == "only post"
    assert client.get("/only-post").text == "later get"
    assert client.put("/only-post").text == "dynamic"  # an earlier pattern wins over a later static path
    assert client.get("/mounted/x").text == "inside mount"
    assert client.get("/after-host", headers={"host": "other.example"}).text == "host"
    assert client.get("/after-host").text == "after host"
    response = client.delete("/items")
    assert (response.status_code, response.headers["allow"]) == (405, "GET, HEAD")  # the first partial match


def test_routes_added_after_first_request_are_found() -> None:
    app = TypedASGI(routes=[Route("/", home)])
    client = TestClient(app)
    assert client.get("/late").status_code == 404
    app.add_route("/late", home)
    assert client.get("/late").text == "home"


def test_route_alone_is_an_asgi_app() -> None:
    client = TestClient(Route("/only", home))
    assert client.get("/only").text == "home"
    assert client.get("/other").status_code == 404


def test_router_alone_answers_404_as_plain_asgi() -> None:
    client = TestClient(Router(routes=[Route("/", home)]))
    assert client.get("/x").text == "Not Found"


def test_many_routes_route_to_the_last() -> None:
    routes: list[Any] = []
    for i in range(200):
        routes.append(Route(f"/r{i}/{{x}}" if i % 2 else f"/r{i}", echo_params if i % 2 else home))
    client = TestClient(TypedASGI(routes=routes))
    assert client.get("/r199/hi").json() == {"x": "hi"}
    assert client.get("/r198").text == "home"


def test_per_route_body_limit() -> None:
    async def body(request: Request) -> Response:
        return PlainTextResponse(str(len(await request.body())))

    app = TypedASGI(routes=[Route("/small", body, methods=["POST"], max_body_size=10), Route("/big", body, methods=["POST"])])
    client = TestClient(app)
    assert client.post("/small", content=b"x" * 10).text == "10"
    too_big = client.post("/small", content=b"x" * 11)
    assert too_big.status_code == 413
    assert "limit of 10 bytes" in too_big.text
    assert client.post("/big", content=b"x" * 1000).text == "1000"


def test_websocket_routes_inside_mount_and_host() -> None:
    inner = Router(routes=[WebSocketRoute("/live/{room}", ws_endpoint, name="live")])
    app = TypedASGI(routes=[Mount("/chat", routes=[WebSocketRoute("/r/{room}", ws_endpoint)]), Host("ws.example.org", inner)])
    client = TestClient(app)
    with client.websocket_connect("/chat/r/blue") as session:
        assert session.receive_text() == "ws:blue"
    with client.websocket_connect("/live/green", headers={"host": "ws.example.org"}) as session:
        assert session.receive_text() == "ws:green"
    from typedasgi.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect("/live/green"):  # wrong host: no route, closed
            pass


def test_http_request_to_websocket_route_is_404() -> None:
    client = TestClient(make_app())
    assert client.get("/ws/lobby").status_code == 404


def test_typed_websocket_handler_reads_path_and_query() -> None:
    async def room(websocket: WebSocket, room: str, greeting: str = "hi") -> None:
        await websocket.accept()
        await websocket.send_text(f"{greeting} {room}")
        await websocket.close()

    app = TypedASGI(routes=[WebSocketRoute("/rooms/{room}", room)])
    with TestClient(app).websocket_connect("/rooms/blue?greeting=hello") as session:
        assert session.receive_text() == "hello blue"


# ------------------------------------------------- Starlette's route protocol: matches(scope)


def test_every_route_class_answers_matches_with_a_child_scope() -> None:
    inner = Router(routes=[Route("/users/{user_id:int}", ok_endpoint, name="user")])
    scope = http_scope_for("/api/users/7", host="tenant.example.org:8000")
    route = Route("/api/users/{user_id:int}", ok_endpoint)
    match, child = route.matches(scope)
    assert match is Match.FULL and child == {"endpoint": ok_endpoint, "path_params": {"user_id": 7}}
    assert Route("/api/users/{user_id:int}", ok_endpoint, methods=["POST"]).matches(scope)[0] is Match.PARTIAL
    assert route.matches(http_scope_for("/other")) == (Match.NONE, {})
    match, child = Mount("/api", app=inner).matches(scope)
    assert match is Match.FULL and child["root_path"] == "/api" and child["app_root_path"] == ""
    assert child["endpoint"] is inner and child["path_params"] == {}
    match, child = Host("{tenant}.example.org", app=inner).matches(scope)
    assert match is Match.FULL and child["path_params"] == {"tenant": "tenant"}
    assert WebSocketRoute("/ws", ws_endpoint).matches(scope) == (Match.NONE, {})
    assert "path_params" not in scope and scope["root_path"] == ""  # the scope itself is left as it was


class HeaderRoute(Route):
    """Written against Starlette's protocol: narrows super().matches()."""

    def matches(self, scope: Any) -> tuple[Match, dict[str, Any]]:
        match, child = super().matches(scope)
        if match is not Match.NONE and (b"x-route", b"preferred") not in scope["headers"]:
            return Match.NONE, {}
        return match, child


async def preferred(request: Request) -> Response:
    return PlainTextResponse("preferred " + request.path_params["item"])


async def fallback(request: Request) -> Response:
    return PlainTextResponse("fallback " + request.path_params["item"])


def test_a_subclass_overriding_matches_is_honoured_by_the_router() -> None:
    client = TestClient(Router(routes=[HeaderRoute("/items/{item}", preferred), Route("/items/{item}", fallback)]))
    assert client.get("/items/a").text == "fallback a"
    assert client.get("/items/b", headers={"x-route": "preferred"}).text == "preferred b"


def test_matches_overridden_again_in_a_subclass_chains_through_both() -> None:
    class AdaOnlyRoute(HeaderRoute):
        def matches(self, scope: Any) -> tuple[Match, dict[str, Any]]:
            match, child = super().matches(scope)
            if match is not Match.NONE and child["path_params"]["item"] != "ada":
                return Match.NONE, {}
            return match, child

    client = TestClient(Router(routes=[AdaOnlyRoute("/items/{item}", preferred), Route("/items/{item}", fallback)]))
    chosen = {"x-route": "preferred"}
    assert client.get("/items/ada", headers=chosen).text == "preferred ada"
    assert client.get("/items/bob", headers=chosen).text == "fallback bob"
    assert client.get("/items/ada").text == "fallback ada"


def test_a_route_overriding_matches_is_matched_once_and_recorded_as_the_route() -> None:
    calls: list[str] = []

    class CountingRoute(Route):
        def matches(self, scope: Any) -> tuple[Match, dict[str, Any]]:
            calls.append(scope["path"])
            return super().matches(scope)

    async def user(request: Request) -> Response:
        route = framework_keys(request.scope)["route"]
        assert isinstance(route, Route)
        return PlainTextResponse(f"{route.path_format} {request.path_params['name']}")

    route = CountingRoute("/users/{name}", user)
    assert TestClient(TypedASGI(routes=[route])).get("/users/ada").text == "/users/{name} ada"
    assert calls == ["/users/ada"]


def test_a_route_written_against_starlette_with_only_matches_and_handle_is_served() -> None:
    class Everything(BaseRoute):
        def matches(self, scope: Any) -> tuple[Match, dict[str, Any]]:
            return Match.FULL, {}

        async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
            route = scope.get("route")
            await PlainTextResponse(f"handled by {type(route).__name__}")(scope, receive, send)

    route = Everything()
    for app in (TypedASGI(routes=[route]), Router(routes=[route]), route):
        assert TestClient(app).get("/anything").text == "handled by Everything"


def test_a_route_with_neither_app_nor_handle_says_what_it_lacks() -> None:
    class Incomplete(BaseRoute):
        def matches(self, scope: Any) -> tuple[Match, dict[str, Any]]:
            return Match.FULL, {}

    with pytest.raises(AttributeError, match="'app'"):
        TestClient(Router(routes=[Incomplete()])).get("/")


async def ok_endpoint(request: Request) -> Response:
    return PlainTextResponse("ok")


def http_scope_for(path: str, host: str = "example.org") -> Any:
    return {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": [(b"host", host.encode())]}


def test_routes_compare_as_in_starlette() -> None:
    assert Route("/a", ok_endpoint) == Route("/a", ok_endpoint)
    assert Route("/a", ok_endpoint) != Route("/a", ok_endpoint, methods=["POST"])
    assert Route("/a", ok_endpoint) != Route("/b", ok_endpoint)
    assert WebSocketRoute("/ws", ws_endpoint) == WebSocketRoute("/ws", ws_endpoint)
    assert Mount("/m", app=asgi_app) == Mount("/m", app=asgi_app) != Mount("/n", app=asgi_app)
    assert Host("h.example.org", app=asgi_app) == Host("h.example.org", app=asgi_app)
    assert Route("/a", ok_endpoint) != Mount("/a", app=asgi_app)
    assert len({Route("/a", ok_endpoint), Route("/a", ok_endpoint)}) == 1  # hashable, consistent with ==


def test_routers_compare_by_their_routes_so_mounts_and_hosts_of_routers_do() -> None:
    def router(path: str) -> Router:
        return Router(routes=[Route(path, ok_endpoint)])

    assert router("/a") == router("/a") != router("/b")
    assert Mount("/m", app=router("/a")) == Mount("/m", app=router("/a")) != Mount("/m", app=router("/b"))
    assert Host("h.example.org", app=router("/a")) == Host("h.example.org", app=router("/a"))
    assert Host("h.example.org", app=router("/a")) != Host("h.example.org", app=router("/b"))
    assert len({router("/a"), router("/a")}) == 1  # hashable, consistent with ==
    app = TypedASGI(routes=[Mount("/users", app=router("/a"))])
    assert app.routes == [Mount("/users", app=router("/a"))]


@pytest.mark.parametrize("root_path", ["/sub_path", "/sub_path/"])
def test_url_for_with_a_root_path_with_or_without_trailing_slash(root_path: str) -> None:
    async def homepage(request: Request) -> Response:
        return PlainTextResponse(str(request.url_for("homepage")) + " " + str(request.url_for("page")))

    app = TypedASGI(routes=[Route("/", homepage, name="homepage"), Route("/page", homepage, name="page")])
    client = TestClient(app, base_url="https://www.example.org", root_path=root_path)
    expected = "https://www.example.org/sub_path/ https://www.example.org/sub_path/page"
    assert client.get("/sub_path/").text == expected
    assert client.get("/sub_path/page").text == expected


async def asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("asgi")(scope, receive, send)


def test_an_async_endpoint_inside_nested_partials_is_awaited_on_the_loop() -> None:
    async def greet(greeting: str, name: str, request: Request) -> Response:
        return PlainTextResponse(f"{greeting}, {name}")

    endpoint = functools.partial(functools.partial(greet, "hello"), "you")
    client = TestClient(Router(routes=[Route("/", endpoint)]))
    assert client.get("/").text == "hello, you"


def test_a_partial_whose_bound_argument_names_a_type_only_imported_for_checkers_is_a_plain_endpoint() -> None:
    """A2A's REST adapter routes ``partial(self._handle, method)``, ``_handle(method: "Callable[[Request,
    ServerCallContext], ...]", request: Request) -> Response`` with ``ServerCallContext`` imported under
    ``TYPE_CHECKING``: what is left to call takes the Request and answers a Response, as Starlette calls it."""

    async def handle(method: Any, request: Request) -> Response:
        return PlainTextResponse(method(request.url.path))

    # As a module without ``from __future__ import annotations`` leaves them: resolved classes, and the text
    # of an annotation that names a type the module never imports at run time.
    handle.__annotations__ = {"method": "Callable[[Request, NotImportedAtRunTime], str]", "request": Request}
    handle.__annotations__["return"] = Response
    endpoint = functools.partial(handle, str.upper)
    client = TestClient(Router(routes=[Route("/echo", endpoint)]))
    assert client.get("/echo").text == "/ECHO"


def test_an_app_mounted_below_a_path_parameter_sees_the_mounts_params_with_its_own() -> None:
    async def show(request: Request) -> Response:
        return JSONResponse(request.path_params)

    inner = TypedASGI(routes=[Route("/items/{id:int}", show), Route("/static", show)])
    client = TestClient(TypedASGI(routes=[Mount("/u/{user}", app=inner)]))
    assert client.get("/u/ada/items/5").json() == {"user": "ada", "id": 5}  # merged, the int converted
    assert client.get("/u/ada/static").json() == {"user": "ada"}  # a static path keeps the mount's


class IsoDay(Convertor[str]):
    """A date: the pattern admits 2026-13-45, the calendar does not (convert raises ValueError)."""

    regex = "[0-9]{4}-[0-9]{2}-[0-9]{2}"

    def convert(self, value: str) -> str:
        import datetime

        return datetime.date.fromisoformat(value).isoformat()

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("isoday", IsoDay())
OVERLONG = "9" * 5000  # more digits than int() reads (4,300): int() raises ValueError


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"/users/{OVERLONG}", 404),  # a head/{param} route (the app's table)
        ("/users/12", "user"),
        (f"/users/{OVERLONG}/posts", 404),  # a parameter inside the path (the ordered search)
        (f"/in/{OVERLONG}/x", 404),  # a mount's parameter
        ("/in/3/x", "mounted"),
        ("/day/2026-13-45", "text 2026-13-45"),  # a custom convertor refuses: the next route answers
        ("/day/2026-11-30", "day 2026-11-30"),
    ],
)
def test_a_value_its_convertor_refuses_does_not_match_instead_of_a_500(path: str, expected: object) -> None:
    """Starlette answers 500 (the ValueError escapes); here the route does not match, as for a value its pattern refuses."""

    def answer(text: str) -> Any:
        async def endpoint(request: Request) -> Response:
            values = " ".join(str(value) for value in request.path_params.values())
            return PlainTextResponse(f"{text} {values}".strip() if text in ("day", "text") else text)

        return endpoint

    app = TypedASGI(
        routes=[
            Route("/users/{id:int}", answer("user")),
            Route("/users/{id:int}/posts", answer("posts")),
            Mount("/in/{n:int}", routes=[Route("/x", answer("mounted"))]),
            Route("/day/{day:isoday}", answer("day")),
            Route("/day/{text}", answer("text")),
        ]
    )
    response = TestClient(app).get(path)
    assert (response.text if response.status_code == 200 else response.status_code) == expected


def test_a_websocket_path_value_its_convertor_refuses_is_not_matched() -> None:
    app = TypedASGI(routes=[WebSocketRoute("/ws/{room:int}", ws_endpoint)])
    client = TestClient(app)
    with client.websocket_connect("/ws/7") as websocket:
        assert websocket.receive_text() == "ws:7"
    from typedasgi.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(f"/ws/{OVERLONG}"):
            pass  # pragma: no cover - refused at the handshake



def test_methods_given_as_one_string_are_refused_when_the_route_is_made() -> None:
    # A str is a Collection[str]: "GET" allowed the methods G, E and T, and GET itself got a 405.
    async def homepage(request: Request) -> PlainTextResponse:
        return PlainTextResponse("home")

    with pytest.raises(TypeError, match=r"like \['GET'\]"):
        Route("/", homepage, methods="GET")
    app = TypedASGI()
    with pytest.raises(TypeError, match="not a string"):
        app.add_route("/other", homepage, methods="POST")
    assert Route("/", homepage, methods=("get",)).methods == frozenset({"GET", "HEAD"})


def test_no_match_found_names_the_params_in_the_order_given() -> None:
    router = Router([])
    with pytest.raises(NoMatchFound, match='params "zeta, alpha"'):
        router.url_path_for("missing", zeta=1, alpha=2)
