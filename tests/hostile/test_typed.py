"""Typed handlers under attack: hostile parameter values are a 422 naming the parameter, and a value a client
sends reaches only the parameter declared for it, with one reading per request. In process (TestClient)."""

from __future__ import annotations

import datetime
import enum
import uuid
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
import pytest

from typedasgi.applications import TypedASGI
from typedasgi.datastructures import UploadFile
from typedasgi.params import Depends, HandlerSignatureError, Header, Query
from typedasgi.requests import Request
from typedasgi.routing import Host, Mount, Route
from typedasgi.security import APIKeyHeader
from typedasgi.testclient import TestClient


if TYPE_CHECKING:  # a name the annotations use that does not exist at run time
    from decimal import Decimal as Cache


class Colour(enum.Enum):
    RED = "red"


app = TypedASGI()


@app.get("/int")
async def an_int(n: int) -> int:
    return n


@app.get("/bounded")
async def bounded(
    n: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0, x: Annotated[float, msgspec.Meta(ge=0, le=10)] = 0.0,
    s: Annotated[str, msgspec.Meta(max_length=5)] = "",
) -> list[object]:
    return [n, x, s]


@app.get("/kinds")
async def kinds(
    colour: Colour | None = None, day: datetime.date | None = None, id: uuid.UUID | None = None,  # noqa: A002
    flag: bool = False, many: list[int] = [],  # noqa: B006
) -> list[object]:
    return [colour, day, id, flag, len(many)]


api_key = APIKeyHeader("X-Token")


def token_checked(request: Request) -> str:
    return request.headers["x-token"]


@app.get("/token")
async def token(
    x_token: Annotated[str, Header()], scheme: Annotated[str, Depends(api_key)],
    checked: Annotated[str, Depends(token_checked)], x_tag: Annotated[list[str], Header()] = [],  # noqa: B006
) -> dict[str, object]:
    return {"param": x_token, "scheme": scheme, "dependency": checked, "tags": x_tag}


class Note(msgspec.Struct):
    text: object


class Upload(msgspec.Struct):
    title: str
    file: UploadFile | None = None


@app.post("/note")
async def note(note: Note) -> Note:
    return note


@app.post("/mapping")
async def mapping(fields: dict[str, Any]) -> dict[str, Any]:
    return fields


@app.post("/upload")
async def upload(form: Upload) -> dict[str, object]:
    return {"title": form.title, "file": None if form.file is None else (await form.file.read()).decode()}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


HOSTILE = {
    "an int of 5000 digits": ("/int", {"n": "9" * 5000}, "n"),
    "an int in another script": ("/int", {"n": "١٢"}, "n"),
    "an int with underscores": ("/int", {"n": "1_000"}, "n"),
    "NUL for an int": ("/int", {"n": "\x00"}, "n"),
    "a lone surrogate's bytes for an int": ("/int", "n=%ED%A0%80", "n"),
    "a bounded int of 5000 digits": ("/bounded", {"n": "9" * 5000}, "n"),
    "1e999 for a bounded float": ("/bounded", {"x": "1e999"}, "x"),
    "nan for a bounded float": ("/bounded", {"x": "nan"}, "x"),
    "inf for a bounded float": ("/bounded", {"x": "inf"}, "x"),
    "60 KB against max_length": ("/bounded", {"s": "x" * 60_000}, "s"),
    "not an enum value": ("/kinds", {"colour": "RED"}, "colour"),
    "February 30th": ("/kinds", {"day": "2024-02-30"}, "day"),
    "a UUID in braces": ("/kinds", {"id": "{123e4567-e89b-12d3-a456-426614174000}"}, "id"),
    "a bool spelt y": ("/kinds", {"flag": "y"}, "flag"),
    "6,000 repeated keys, one not an int": ("/kinds", [("many", "1")] * 6_000 + [("many", "x")], "many[6000]"),
}


@pytest.mark.parametrize(("path", "params", "field"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_values_are_a_422_naming_the_parameter(client: TestClient, path: str, params: Any, field: str) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 422, response.text
    assert [(error["location"], error["field"]) for error in response.json()["errors"]] == [("query", field)]


def test_hostile_values_that_fit_are_taken_as_given(client: TestClient) -> None:
    assert client.get("/int", params={"n": "9" * 4300}).text == "9" * 4300  # int()'s own digit limit
    assert client.get("/bounded", params={"x": "-0"}).json() == [0, 0.0, ""]
    assert client.get("/kinds", params="many=1&" * 6_000).json() == [None, None, None, False, 6_000]


def test_a_repeated_header_has_one_reading(client: TestClient) -> None:
    """A typed header, a security scheme and ``request.headers`` all read the first of repeated lines: a client
    sending two must not get one value checked (the scheme, a dependency) and another used (the handler's)."""
    lines = [("x-token", "first"), ("x-token", "second"), ("x-tag", "a"), ("x-tag", "b")]
    assert client.get("/token", headers=lines).json() == {
        "param": "first", "scheme": "first", "dependency": "first", "tags": ["a", "b"],
    }


@pytest.mark.parametrize("path", ["/note", "/mapping"])
def test_a_file_part_never_fills_an_open_field(client: TestClient, path: str) -> None:
    """An ``object``/``Any`` field of a form-read body took an ``UploadFile``, and echoing it was a 500."""
    response = client.post(path, files={"text": ("a.txt", b"file body")})
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"location": "body", "field": "text", "message": "Expected a text field, got a file"},
    ]
    assert client.post(path, data={"text": "plain"}).json() == {"text": "plain"}


def test_a_file_part_fills_a_field_typed_upload(client: TestClient) -> None:
    response = client.post("/upload", data={"title": "t"}, files={"file": ("a.txt", b"body"), "extra": ("b", b"x")})
    assert response.json() == {"title": "t", "file": "body"}  # a file under a key the type lacks is ignored
    response = client.post("/upload", files={"title": ("a.txt", b"body")})
    assert response.json()["errors"][0]["field"] == "title"


async def items(user_id: int, sub: str = "-", q: Annotated[str, Query(alias="user_id")] = "-") -> list[object]:
    return [user_id, sub, q]


below = TypedASGI(routes=[
    Mount("/users/{user_id:int}", routes=[Route("/items", items)]),
    Mount("/named/{user_id}", app=TypedASGI(routes=[Route("/items", items)])),
    Host("{sub}.example.com", app=TypedASGI(routes=[Route("/hosted/{user_id:int}", items)])),
])


def test_a_parameter_named_like_a_mounts_path_parameter_is_that_parameter() -> None:
    """The route is compiled before it is mounted, so ``user_id`` looked like a query parameter: the client's
    ``?user_id=2`` filled it while the URL (which a mount's middleware may have checked) named user 1."""
    client = TestClient(below, raise_server_exceptions=False)
    assert client.get("/users/1/items?user_id=2").json() == [1, "-", "2"]  # Query() still reads the query
    assert client.get("/named/1/items").json() == [1, "-", "-"]
    assert client.get("http://evil.example.com/hosted/1?sub=good").json() == [1, "evil", "-"]
    response = client.get("/named/one/items?user_id=1")
    assert [(error["location"], error["field"]) for error in response.json()["errors"]] == [("path", "user_id")]


class Service:
    def __init__(self, limit: int = 10, cache: Cache | None = None) -> None:
        self.limit, self.cache = limit, cache


def test_a_dependency_class_whose_annotations_do_not_resolve_is_refused() -> None:
    """Its ``__init__`` hints were dropped whole, so every parameter was a query string: ``?limit=3&cache=EVIL``
    built the class with the strings ``'3'`` and ``'EVIL'``. A function's unresolvable hints were refused already."""

    async def handler(service: Annotated[Service, Depends()]) -> int:
        return service.limit

    with pytest.raises(HandlerSignatureError, match=r"Service, parameter 'limit': .* do not resolve"):
        Route("/", handler)


def test_a_connection_in_a_union_is_refused() -> None:
    """``request: Request | None = None`` was read as a JSON body: never the request, and a client's ``null``
    filled it. A Request, WebSocket, BackgroundTasks or Response is given only to the class alone."""

    async def handler(request: Request | None = None) -> int:
        return 0

    with pytest.raises(HandlerSignatureError, match=r"'request': .*Request \| None is never given"):
        Route("/", handler, methods=["POST"])
