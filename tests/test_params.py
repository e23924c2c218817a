"""Typed handlers: every parameter source, the type families, defaults, lists, bodies, dependencies, errors."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, Literal, TypedDict

import msgspec
import pytest

from typedasgi.applications import TypedASGI
from typedasgi.datastructures import UploadFile
from typedasgi.exceptions import HTTPException
from typedasgi.handlers import TypedHandler
from typedasgi.params import (
    Body,
    Cookie,
    Depends,
    HandlerSignatureError,
    Header,
    Path,
    Query,
    RequestValidationError,
)
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse, PlainTextResponse, Response
from typedasgi.routing import Route, Router, WebSocketRoute, compile_path
from typedasgi.testclient import TestClient
from typedasgi.types import framework_keys
from typedasgi.websockets import WebSocket


class Address(msgspec.Struct):
    city: str
    postcode: str


class Line(msgspec.Struct):
    sku: str
    quantity: int


class Order(msgspec.Struct):
    id: int
    address: Address
    lines: list[Line] = []


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Movie(TypedDict):
    title: str
    year: int


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Upload(msgspec.Struct):
    name: str
    count: int
    tags: list[str] = []
    file: UploadFile | None = None


def client_for(*routes: Route, **app_options: Any) -> TestClient:
    return TestClient(TypedASGI(routes=list(routes), **app_options))


def errors_of(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"] == "Request validation failed"
    return [(error["location"], error["field"]) for error in body["errors"]]


# ------------------------------------------------------------------ path parameters


def test_each_value_reaches_its_parameter_whatever_the_order_and_kind() -> None:
    """Values are passed by position where the signature allows, by name where it does not (keyword-only)."""

    async def mixed(request: Request, point: Point, item_id: int, q: str = "-") -> dict[str, object]:
        return {"path": request.url.path, "point": [point.x, point.y], "id": item_id, "q": q}

    async def keyword_only(item_id: int, *, q: str, point: Point) -> dict[str, object]:
        return {"point": [point.x, point.y], "id": item_id, "q": q}

    def sync(q: str, item_id: int, point: Point) -> dict[str, object]:
        return {"point": [point.x, point.y], "id": item_id, "q": q}

    client = client_for(*(Route(f"/{func.__name__}/{{item_id:int}}", func, methods=["POST"])
                          for func in (mixed, keyword_only, sync)))
    expected = {"point": [1, 2], "id": 7, "q": "x"}
    assert client.post("/mixed/7?q=x", json={"x": 1, "y": 2}).json() == {**expected, "path": "/mixed/7"}
    assert client.post("/keyword_only/7?q=x", json={"x": 1, "y": 2}).json() == expected
    assert client.post("/sync/7?q=x", json={"x": 1, "y": 2}).json() == expected
    assert errors_of(client.post("/keyword_only/7", json={"x": 1})) == [("query", "q"), ("body", "y")]


def test_path_parameter_from_convertor_and_by_annotation() -> None:
    async def by_convertor(item_id: int) -> dict[str, object]:
        return {"id": item_id, "type": type(item_id).__name__}

    async def by_annotation(item_id: int, ref: uuid.UUID) -> dict[str, object]:
        return {"id": item_id, "ref": str(ref)}

    client = client_for(Route("/a/{item_id:int}", by_convertor), Route("/b/{item_id}/{ref}", by_annotation))
    assert client.get("/a/42").json() == {"id": 42, "type": "int"}
    ref = uuid.uuid4()
    assert client.get(f"/b/7/{ref}").json() == {"id": 7, "ref": str(ref)}
    response = client.get("/b/seven/not-a-uuid")
    assert errors_of(response) == [("path", "item_id"), ("path", "ref")]
    assert response.json()["errors"][0]["message"] == "'seven' is not a valid integer"


def test_path_marker_with_alias_and_string_annotation() -> None:
    async def handler(ident: Annotated[str, Path(alias="id")]) -> str:
        return ident

    client = client_for(Route("/things/{id:int}", handler))
    assert client.get("/things/12").json() == "12"


# ------------------------------------------------------------------ query parameters


def test_query_scalars_defaults_and_optional() -> None:
    async def search(
        q: str,
        page: int = 1,
        ratio: float = 0.5,
        exact: bool = False,
        colour: Colour | None = None,
        since: datetime.date | None = None,
        mode: Literal["fast", "slow"] = "fast",
    ) -> dict[str, object]:
        return {"q": q, "page": page, "ratio": ratio, "exact": exact, "colour": colour, "since": since, "mode": mode}

    client = client_for(Route("/search", search))
    assert client.get("/search?q=hello").json() == {
        "q": "hello", "page": 1, "ratio": 0.5, "exact": False, "colour": None, "since": None, "mode": "fast",
    }
    response = client.get("/search?q=a+b%21&page=3&ratio=2.5&exact=true&colour=blue&since=2024-02-29&mode=slow")
    assert response.json() == {
        "q": "a b!", "page": 3, "ratio": 2.5, "exact": True, "colour": "blue", "since": "2024-02-29", "mode": "slow",
    }
    assert errors_of(client.get("/search")) == [("query", "q")]
    response = client.get("/search?q=x&page=two&exact=maybe&colour=green&mode=medium")
    assert errors_of(response) == [("query", "page"), ("query", "exact"), ("query", "colour"), ("query", "mode")]


def test_query_int_accepts_only_plain_digits() -> None:
    async def handler(n: int) -> int:
        return n

    client = client_for(Route("/", handler))
    assert client.get("/?n=-12").json() == -12
    for bad in ("1_000", "%201", "١٢", "", "1.5", "9" * 5000):
        assert client.get("/", params={"n": bad}).status_code == 422, bad


def test_query_repeated_key_and_lists() -> None:
    async def handler(
        tag: list[str], n: list[int] = [], last: str = "", maybe: list[int] | None = None  # noqa: B006
    ) -> dict[str, object]:
        return {"tag": tag, "n": n, "last": last, "maybe": maybe}

    client = client_for(Route("/", handler))
    assert client.get("/?tag=a&tag=b&n=1&n=2&last=x&last=y").json() == {
        "tag": ["a", "b"], "n": [1, 2], "last": "y", "maybe": None,
    }
    assert errors_of(client.get("/")) == [("query", "tag")]
    assert errors_of(client.get("/?tag=a&n=1&n=x")) == [("query", "n[1]")]


def test_query_alias_and_constraints() -> None:
    async def handler(
        page_size: Annotated[int, msgspec.Meta(ge=1, le=100), Query(alias="page-size")] = 10,
    ) -> int:
        return page_size

    client = client_for(Route("/", handler))
    assert client.get("/?page-size=50").json() == 50
    assert client.get("/?page_size=50").json() == 10
    response = client.get("/?page-size=500")
    assert errors_of(response) == [("query", "page-size")]
    assert "<= 100" in response.json()["errors"][0]["message"]


# ------------------------------------------------------------------ headers and cookies


def test_headers_by_name_alias_and_list() -> None:
    async def handler(
        user_agent: Annotated[str, Header()],
        token: Annotated[str | None, Header(alias="X-Token")] = None,
        accept: Annotated[list[str], Header()] = [],  # noqa: B006
        raw_name: Annotated[str, Header(convert_underscores=False)] = "none",
    ) -> dict[str, object]:
        return {"ua": user_agent, "token": token, "accept": accept, "raw": raw_name}

    client = client_for(Route("/", handler))
    response = client.get(
        "/", headers=[("User-Agent", "pytest"), ("x-token", "t1"), ("accept", "a/b"), ("accept", "c/d"),
                      ("raw_name", "r")],
    )
    assert response.json() == {"ua": "pytest", "token": "t1", "accept": ["a/b", "c/d"], "raw": "r"}


def test_missing_and_malformed_header() -> None:
    async def handler(x_count: Annotated[int, Header()]) -> int:
        return x_count

    client = client_for(Route("/", handler))
    assert client.get("/", headers={"x-count": "3"}).json() == 3
    assert errors_of(client.get("/")) == [("header", "x-count")]
    assert errors_of(client.get("/", headers={"x-count": "three"})) == [("header", "x-count")]


def test_cookies() -> None:
    async def handler(
        session: Annotated[str, Cookie()], theme: Annotated[str, Cookie(alias="ui-theme")] = "light"
    ) -> dict[str, str]:
        return {"session": session, "theme": theme}

    client = client_for(Route("/", handler))
    assert client.get("/", headers={"cookie": "session=abc; ui-theme=dark"}).json() == {
        "session": "abc", "theme": "dark",
    }
    assert client.get("/", headers={"cookie": "session=abc"}).json()["theme"] == "light"
    assert errors_of(client.get("/")) == [("cookie", "session")]


# ------------------------------------------------------------------ bodies


def test_struct_body_and_nested_error_paths() -> None:
    async def create(order: Order) -> Order:
        return order

    client = client_for(Route("/orders", create, methods=["POST"]))
    payload = {"id": 1, "address": {"city": "Oslo", "postcode": "0150"}, "lines": [{"sku": "a", "quantity": 2}]}
    assert client.post("/orders", json=payload).json() == payload
    bad = {"id": 1, "address": {"city": "Oslo"}, "lines": [{"sku": "a", "quantity": "two"}]}
    response = client.post("/orders", json=bad)
    assert errors_of(response) == [("body", "address.postcode")]
    bad["address"] = {"city": "Oslo", "postcode": "x"}
    assert errors_of(client.post("/orders", json=bad)) == [("body", "lines[0].quantity")]
    assert errors_of(client.post("/orders", json=[1, 2])) == [("body", "")]


def test_dataclass_typeddict_list_and_dict_bodies() -> None:
    async def point(p: Point) -> dict[str, int]:
        return {"sum": p.x + p.y}

    async def movie(m: Movie) -> str:
        return f"{m['title']} ({m['year']})"

    async def lines(items: list[Line]) -> int:
        return sum(item.quantity for item in items)

    async def counts(data: dict[str, int]) -> int:
        return sum(data.values())

    client = client_for(
        Route("/point", point, methods=["POST"]), Route("/movie", movie, methods=["POST"]),
        Route("/lines", lines, methods=["POST"]), Route("/counts", counts, methods=["POST"]),
    )
    assert client.post("/point", json={"x": 1, "y": 2}).json() == {"sum": 3}
    assert client.post("/movie", json={"title": "Alien", "year": 1979}).json() == "Alien (1979)"
    assert client.post("/lines", json=[{"sku": "a", "quantity": 2}, {"sku": "b", "quantity": 3}]).json() == 5
    assert client.post("/counts", json={"a": 1, "b": 2}).json() == 3
    assert errors_of(client.post("/point", json={"x": 1})) == [("body", "y")]
    assert errors_of(client.post("/lines", json=[{"sku": "a", "quantity": 2}, {"sku": "b"}])) == [("body", "[1].quantity")]


def test_malformed_json_is_400_and_wrong_media_type_415() -> None:
    async def create(order: Order) -> Order:
        return order

    client = client_for(Route("/", create, methods=["POST"]))
    response = client.post("/", content=b'{"id": 1,', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "Malformed JSON" in response.text
    assert client.post("/", content=b"<xml/>", headers={"content-type": "application/xml"}).status_code == 415
    vendor = {"id": 1, "address": {"city": "c", "postcode": "p"}}
    response = client.post("/", content=msgspec.json.encode(vendor), headers={"content-type": "application/vnd.x+json"})
    assert response.status_code == 200


def test_empty_body_required_or_default() -> None:
    async def required(point: Point) -> int:
        return point.x

    async def optional(point: Point | None = None) -> str:
        return "none" if point is None else "some"

    client = client_for(Route("/r", required, methods=["POST"]), Route("/o", optional, methods=["POST"]))
    assert errors_of(client.post("/r")) == [("body", "")]
    assert client.post("/o").json() == "none"
    assert client.post("/o", json={"x": 1, "y": 1}).json() == "some"


def test_body_over_the_limit_is_413() -> None:
    async def create(items: Annotated[list[int], Body()]) -> int:  # unmarked, a list of ints is a query parameter
        return len(items)

    client = client_for(Route("/", create, methods=["POST"]), max_body_size=64)
    assert client.post("/", json=[1, 2, 3]).json() == 3
    assert client.post("/", json=list(range(100))).status_code == 413


def test_form_bodies_urlencoded_and_multipart() -> None:
    async def submit(form: Upload) -> dict[str, object]:
        content = (await form.file.read()).decode() if form.file is not None else None
        return {"name": form.name, "count": form.count, "tags": form.tags, "file": content}

    client = client_for(Route("/", submit, methods=["POST"]))
    response = client.post("/", content=b"name=a&count=3&tags=x&tags=y",
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.json() == {"name": "a", "count": 3, "tags": ["x", "y"], "file": None}
    response = client.post("/", data={"name": "b", "count": "1"}, files={"file": ("f.txt", b"file body")})
    assert response.json() == {"name": "b", "count": 1, "tags": [], "file": "file body"}
    response = client.post("/", content=b"name=a&count=many", headers={"content-type": "application/x-www-form-urlencoded"})
    assert errors_of(response) == [("body", "count")]


def test_scalar_body_with_marker() -> None:
    async def rename(name: Annotated[str, Body(description="the new name")]) -> str:
        return name.upper()

    client = client_for(Route("/", rename, methods=["POST"]))
    assert client.post("/", json="abc").json() == "ABC"
    assert errors_of(client.post("/", json=5)) == [("body", "")]


# ------------------------------------------------------------------ every problem at once


def test_one_422_lists_problems_from_every_source() -> None:
    async def handler(
        item_id: int, limit: int, x_key: Annotated[int, Header()], sid: Annotated[str, Cookie()], point: Point
    ) -> int:
        return 0

    client = client_for(Route("/{item_id}", handler, methods=["POST"]))
    response = client.post("/abc?limit=x", json={"x": 1}, headers={"x-key": "k"})
    assert errors_of(response) == [
        ("path", "item_id"), ("query", "limit"), ("header", "x-key"), ("cookie", "sid"), ("body", "y"),
    ]


# ------------------------------------------------------------------ connections


def test_request_by_annotation_beside_typed_parameters() -> None:
    async def handler(request: Request, n: int = 0) -> dict[str, object]:
        return {"path": request.url.path, "n": n, "method": request.method}

    route = Route("/r", handler, methods=["GET", "POST"])
    assert route.handler is not None
    client = client_for(route)
    assert client.post("/r?n=2").json() == {"path": "/r", "n": 2, "method": "POST"}


def test_websocket_handler_by_annotation() -> None:
    async def chat(websocket: WebSocket, room: str, name: Annotated[str, Query()] = "anon") -> None:
        await websocket.accept()
        await websocket.send_text(f"{name}@{room}")
        await websocket.close()

    _, _, convertors = compile_path("/ws/{room}")
    handler = TypedHandler(chat, convertors, websocket=True)
    client = TestClient(TypedASGI(routes=[WebSocketRoute("/ws/{room}", handler)]))
    with client.websocket_connect("/ws/lobby?name=ada") as session:
        assert session.receive_text() == "ada@lobby"


def test_websocket_handler_rejects_a_body_parameter() -> None:
    async def chat(websocket: WebSocket, point: Point) -> None:
        raise AssertionError("never called")

    with pytest.raises(HandlerSignatureError, match="point.*WebSocket handler has no request body"):
        TypedHandler(chat, {}, websocket=True)


# ------------------------------------------------------------------ dependencies


class Log:
    def __init__(self) -> None:
        self.events: list[str] = []


LOG = Log()


async def get_db() -> AsyncIterator[str]:
    LOG.events.append("open")
    try:
        yield "db"
    except ValueError:
        LOG.events.append("rollback")
        raise
    finally:
        LOG.events.append("close")


def sync_resource() -> Iterator[str]:
    LOG.events.append("sync-open")
    yield "res"
    LOG.events.append("sync-close")


CALLS: list[str] = []


def current_user(x_user: Annotated[str, Header()]) -> str:
    CALLS.append("user")
    return x_user.upper()


async def permissions(user: Annotated[str, Depends(current_user)], level: int = 1) -> str:
    return f"{user}:{level}"


@dataclasses.dataclass
class Pagination:
    limit: int = 10
    offset: int = 0


def test_dependencies_nested_cached_and_with_their_own_parameters() -> None:
    CALLS.clear()

    async def handler(
        user: Annotated[str, Depends(current_user)],
        perms: Annotated[str, Depends(permissions)],
        page: Annotated[Pagination, Depends(Pagination)],
    ) -> dict[str, object]:
        return {"user": user, "perms": perms, "limit": page.limit, "offset": page.offset}

    client = client_for(Route("/", handler))
    response = client.get("/?level=3&limit=5", headers={"x-user": "ada"})
    assert response.json() == {"user": "ADA", "perms": "ADA:3", "limit": 5, "offset": 0}
    assert CALLS == ["user"]  # used twice, run once per request
    CALLS.clear()
    assert errors_of(client.get("/?level=x&offset=y")) == [("header", "x-user"), ("query", "level"), ("query", "offset")]
    assert CALLS == []  # nothing runs before every parameter is valid


COUNTER = {"n": 0}


def count() -> int:
    COUNTER["n"] += 1
    return COUNTER["n"]


def require_token(x_token: Annotated[str | None, Header()] = None) -> str:
    if x_token != "secret":
        raise HTTPException(401, "bad token")
    return x_token


def bad_dependency(value: Annotated[dict[str, int], Query()]) -> int:
    return 0


def test_dependency_without_cache_runs_each_time() -> None:
    COUNTER["n"] = 0

    async def handler(
        a: Annotated[int, Depends(count, use_cache=False)], b: Annotated[int, Depends(count, use_cache=False)]
    ) -> list[int]:
        return [a, b]

    assert client_for(Route("/", handler)).get("/").json() == [1, 2]


def test_generator_teardown_runs_after_the_response_is_sent() -> None:
    LOG.events.clear()

    async def handler(db: Annotated[str, Depends(get_db)], res: Annotated[str, Depends(sync_resource)]) -> Response:
        LOG.events.append("handler")

        async def sent() -> None:
            LOG.events.append("background")

        from typedasgi.background import BackgroundTask

        return PlainTextResponse(f"{db}+{res}", background=BackgroundTask(sent))

    client = client_for(Route("/", handler))
    assert client.get("/").text == "db+res"
    assert LOG.events == ["open", "sync-open", "handler", "background", "sync-close", "close"]


def test_generator_sees_the_handler_exception() -> None:
    LOG.events.clear()

    async def handler(db: Annotated[str, Depends(get_db)]) -> str:
        raise ValueError("boom")

    client = TestClient(TypedASGI(routes=[Route("/", handler)]), raise_server_exceptions=False)
    assert client.get("/").status_code == 500
    assert LOG.events == ["open", "rollback", "close"]


def test_dependency_raising_http_exception() -> None:
    async def handler(token: Annotated[str, Depends(require_token, sync_to_thread=False)]) -> str:
        return "ok"

    client = client_for(Route("/", handler))
    assert client.get("/").status_code == 401
    assert client.get("/", headers={"x-token": "secret"}).json() == "ok"


def test_bad_dependency_parameters_fail_at_registration() -> None:
    async def handler(v: Annotated[int, Depends(bad_dependency)]) -> int:
        return v

    with pytest.raises(HandlerSignatureError, match=r"test_params\.bad_dependency, parameter 'value'"):
        Route("/", handler)


def test_local_dependency_under_postponed_annotations_is_reported() -> None:
    def local() -> int:
        return 1

    async def handler(v: Annotated[int, Depends(local)]) -> int:
        return v

    with pytest.raises(HandlerSignatureError, match="handler: cannot resolve its annotations"):
        Route("/", handler)


# ------------------------------------------------------------------ responses


def test_return_values_status_codes_and_no_content() -> None:
    async def created(point: Point) -> Point:
        return point

    async def nothing() -> None:
        return None

    def sync_handler(n: int = 1) -> dict[str, int]:
        return {"n": n}

    async def as_response() -> Response:
        return PlainTextResponse("plain", status_code=202)

    async def as_text() -> str:
        return "<b>hi</b>"

    client = client_for(
        Route("/created", created, methods=["POST"], status_code=201),
        Route("/nothing", nothing, methods=["DELETE"]),
        Route("/sync", sync_handler),
        Route("/response", as_response, status_code=201),
        Route("/html", as_text, response_class=PlainTextResponse),
    )
    response = client.post("/created", json={"x": 1, "y": 2})
    assert (response.status_code, response.json()) == (201, {"x": 1, "y": 2})
    assert response.headers["content-type"] == "application/json"
    response = client.delete("/nothing")
    assert (response.status_code, response.content, "content-length" in response.headers) == (204, b"", False)
    assert client.get("/sync?n=4").json() == {"n": 4}
    response = client.get("/response")
    assert (response.status_code, response.text) == (202, "plain")
    response = client.get("/html")
    assert (response.text, response.headers["content-type"]) == ("<b>hi</b>", "text/plain; charset=utf-8")
    assert client.head("/sync").content == b""


def test_unencodable_return_value_names_the_handler() -> None:
    async def broken() -> object:
        return object()

    client = TestClient(TypedASGI(routes=[Route("/", broken)]))
    with pytest.raises(TypeError, match="broken returned a value JSON cannot encode"):
        client.get("/")


def test_renderers_seam() -> None:
    async def handler() -> Point:
        return Point(1, 2)

    app = TypedASGI(routes=[Route("/", handler)])

    def render_points(value: object, request: Request[Any], status_code: int) -> Response | None:
        if isinstance(value, Point) and "text/csv" in request.headers.get("accept", ""):
            return PlainTextResponse(f"{value.x},{value.y}", status_code=status_code, media_type="text/csv")
        return None

    app.renderers.append(render_points)
    client = TestClient(app)
    assert client.get("/", headers={"accept": "text/csv"}).text == "1,2"
    assert client.get("/").json() == {"x": 1, "y": 2}


def test_body_decoders_seam_for_other_media_types() -> None:
    async def create(point: Point) -> Point:
        return point

    def decode_csv(raw: bytes, annotation: Any) -> object:
        if not raw.count(b",") == 1:
            raise msgspec.DecodeError("expected x,y")
        x, y = raw.split(b",")
        return msgspec.convert({"x": x.decode(), "y": y.decode()}, annotation, strict=False)

    app = TypedASGI(routes=[Route("/", create, methods=["POST"])])
    app.body_decoders["text/csv"] = decode_csv
    client = TestClient(app)
    csv = {"content-type": "text/csv; charset=utf-8"}
    assert client.post("/", content=b"1,2", headers=csv).json() == {"x": 1, "y": 2}
    assert errors_of(client.post("/", content=b"1,b", headers=csv)) == [("body", "y")]
    assert client.post("/", content=b"1", headers=csv).status_code == 400
    assert client.post("/", content=b"1,2", headers={"content-type": "text/tsv"}).status_code == 415


# ------------------------------------------------------------------ errors are customisable


def test_validation_error_handler_override_by_class_and_by_status() -> None:
    async def handler(n: int) -> int:
        return n

    def by_class(request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse({"problems": len(exc.errors), "first": exc.errors[0]["field"]}, status_code=400)

    client = client_for(Route("/", handler), exception_handlers={RequestValidationError: by_class})
    assert client.get("/").json() == {"problems": 1, "first": "n"}
    assert client.get("/").status_code == 400
    client = client_for(Route("/", handler), exception_handlers={422: lambda request, exc: PlainTextResponse("no", 422)})
    assert client.get("/").text == "no"


def test_a_route_without_an_app_still_answers_422() -> None:
    async def handler(n: int) -> int:
        return n

    client = TestClient(Router(routes=[Route("/", handler)]))
    assert errors_of(client.get("/?n=x")) == [("query", "n")]


def test_a_failing_typed_handler_gives_its_error_handler_the_request_with_the_body_read() -> None:
    """Served inline by the app like a plain endpoint, a typed handler still hands its Request on."""

    class Refused(Exception):
        pass

    async def create(point: Point) -> Point:
        raise Refused(point.x)

    async def on_refused(request: Request, exc: Exception) -> Response:
        assert framework_keys(request.scope).get("request") is request
        return JSONResponse({"read": await request.json(), "arg": str(exc)}, status_code=409)

    client = client_for(Route("/", create, methods=["POST"]), exception_handlers={Refused: on_refused})
    response = client.post("/", json={"x": 1, "y": 2})
    assert (response.status_code, response.json()) == (409, {"read": {"x": 1, "y": 2}, "arg": "1"})


def test_head_of_a_typed_route_sends_the_length_of_the_body_it_leaves_out() -> None:
    async def point() -> Point:
        return Point(1, 2)

    for client in (client_for(Route("/", point)), TestClient(Router(routes=[Route("/", point)]))):
        full, head = client.get("/"), client.head("/")
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-length"] == full.headers["content-length"] == str(len(full.content))
        assert full.json() == {"x": 1, "y": 2}


# ------------------------------------------------------------------ decorators and the plain path


def test_decorators_register_each_method_and_return_the_handler() -> None:
    app = TypedASGI()

    async def read(item_id: int) -> str:
        return f"read {item_id}"

    assert app.get("/items/{item_id}")(read) is read

    @app.post("/items/{item_id}", status_code=201)
    async def create(item_id: int) -> str:
        return f"create {item_id}"

    @app.put("/items/{item_id}")
    def replace(item_id: int) -> str:
        return f"replace {item_id}"

    @app.patch("/items/{item_id}")
    async def update(item_id: int) -> str:
        return f"update {item_id}"

    @app.delete("/items/{item_id}")
    async def delete(item_id: int) -> None:
        return None

    @app.route("/plain")
    async def plain(request: Request) -> Response:
        return PlainTextResponse("plain")

    client = TestClient(app)
    assert client.get("/items/1").json() == "read 1"
    assert (client.post("/items/2").status_code, client.post("/items/2").json()) == (201, "create 2")
    assert client.put("/items/3").json() == "replace 3"
    assert client.patch("/items/4").json() == "update 4"
    assert client.delete("/items/5").status_code == 204
    assert client.get("/plain").text == "plain"


def test_plain_endpoints_keep_the_plain_path() -> None:
    async def plain(request: Request) -> Response:
        return PlainTextResponse("ok")

    def untyped(request):  # type: ignore[no-untyped-def]  # the Starlette style, unannotated
        return PlainTextResponse("ok")

    async def returns_dict(request: Request) -> dict[str, str]:
        return {"path": request.url.path}

    assert Route("/", plain).handler is None
    assert Route("/", untyped).handler is None
    assert Route("/", returns_dict).handler is not None  # a typed return value: compiled
    assert TestClient(TypedASGI(routes=[Route("/d", returns_dict)])).get("/d").json() == {"path": "/d"}


# ------------------------------------------------------------------ registration errors


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: Route("/", _query_dict), r"_query_dict, parameter 'filters': unsupported annotation"),
        (lambda: Route("/", _missing_path), r"parameter 'ident': the route path has no parameter \{id\}"),
        (lambda: Route("/", _two_bodies, methods=["POST"]), r"parameter 'b': a handler takes one body"),
        (lambda: Route("/", _var_kwargs), r"parameter 'extra': \*args, \*\*kwargs"),
        (lambda: Route("/", _cookie_list), r"parameter 'c': a cookie has one value"),
        (lambda: Route("/", _generator_handler), r"is a generator"),
        (lambda: Route("/", _custom_body), r"parameter 'thing': unsupported annotation"),
        (lambda: Route("/", _two_markers), r"parameter 'x': more than one of"),
        (lambda: Route("/", _websocket_on_http), r"parameter 'ws': a HTTP route gives a Request"),
    ],
)
def test_unsupported_signatures_fail_at_registration(build: Any, match: str) -> None:
    with pytest.raises(HandlerSignatureError, match=match):
        build()


async def _query_dict(filters: Annotated[dict[str, int], Query()]) -> int:
    return 0


async def _missing_path(ident: Annotated[int, Path(alias="id")]) -> int:
    return 0


async def _two_bodies(a: Point, b: Line) -> int:
    return 0


async def _var_kwargs(**extra: str) -> int:
    return 0


async def _cookie_list(c: Annotated[list[str], Cookie()]) -> int:
    return 0


async def _generator_handler() -> AsyncIterator[int]:
    yield 1


class Opaque:
    pass


async def _custom_body(thing: Opaque) -> int:
    return 0


async def _two_markers(x: Annotated[int, Query(), Header()]) -> int:
    return 0


async def _websocket_on_http(ws: WebSocket) -> int:
    return 0


def test_unresolvable_annotation_names_the_handler() -> None:
    namespace: dict[str, Any] = {}
    exec("async def late(x: 'Missing') -> int:\n    return 0", namespace)
    with pytest.raises(HandlerSignatureError, match="late: cannot resolve its annotations"):
        Route("/", namespace["late"])
