"""Error answers have one shape: JSON ``{"detail": ...}`` for typed routes and JSON clients, plain text otherwise."""

from __future__ import annotations

import msgspec
import pytest

from typedasgi.applications import TypedASGI
from typedasgi.exceptions import HTTPException
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import Route, Router
from typedasgi.testclient import TestClient

JSON = {"accept": "application/json"}


class Item(msgspec.Struct):
    name: str


async def typed_get(item_id: int) -> Item:
    if item_id == 0:
        raise HTTPException(404, {"missing": item_id, "hint": ["try", 1]})
    raise HTTPException(403)


async def typed_post(item: Item) -> Item:
    return item


async def plain(request: Request) -> Response:
    if "body" in request.query_params:
        await request.body()
    raise HTTPException(409, "Conflict here")


def make_client() -> TestClient:
    app = TypedASGI(max_body_size=16, routes=[
        Route("/typed/{item_id:int}", typed_get),
        Route("/typed", typed_post, methods=["POST"]),
        Route("/plain", plain, methods=["GET", "POST"]),
    ])
    return TestClient(app)


def test_typed_routes_answer_every_error_in_json_whatever_the_client_accepts() -> None:
    client = make_client()
    answer = client.get("/typed/0", headers={"accept": "text/plain"})
    assert (answer.status_code, answer.json()) == (404, {"detail": {"missing": 0, "hint": ["try", 1]}})
    assert client.get("/typed/1").json() == {"detail": "Forbidden"}
    malformed = client.post("/typed", content=b"{not json", headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.json()["detail"].startswith("Malformed JSON body")
    too_large = client.post("/typed", json={"name": "x" * 100})
    assert (too_large.status_code, too_large.json()) == (413, {"detail": "Request body is larger than the limit of 16 bytes"})
    method = client.delete("/typed")
    assert (method.status_code, method.json(), method.headers["allow"]) == (405, {"detail": "Method Not Allowed"}, "POST")
    invalid = client.get("/typed/x1")
    assert invalid.status_code == 404  # {item_id:int} does not match: no route
    unprocessable = client.post("/typed", json={"name": 5})
    assert unprocessable.status_code == 422
    assert unprocessable.json()["detail"] == "Request validation failed"


def test_starlette_style_routes_stay_plain_text_unless_the_client_prefers_json() -> None:
    client = make_client()
    for path, method, status, text in [
        ("/plain", "GET", 409, "Conflict here"),
        ("/nowhere", "GET", 404, "Not Found"),
        ("/plain", "DELETE", 405, "Method Not Allowed"),
        ("/plain?body=1", "POST", 413, "Request body is larger than the limit of 16 bytes"),
    ]:
        answer = client.request(method, path, content=b"x" * 100 if method == "POST" else None)
        assert (answer.status_code, answer.text) == (status, text), path
        assert answer.headers["content-type"].startswith("text/plain")
        as_json = client.request(method, path, headers=JSON, content=b"x" * 100 if method == "POST" else None)
        assert (as_json.status_code, as_json.json()) == (status, {"detail": text}), path


@pytest.mark.parametrize(
    ("accept", "is_json"),
    [
        ("application/json", True),
        ("text/plain, application/json;q=0.5", False),
        ("application/*", True),
        ("*/*", False),  # a tie: Starlette's plain text
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),  # a browser
        ("application/json;q=0", False),
        ("application/json;q=0.4, text/plain;q=0.3", True),
    ],
)
def test_accept_decides_for_starlette_style_routes(accept: str, is_json: bool) -> None:
    answer = make_client().get("/nowhere", headers={"accept": accept})
    assert answer.headers["content-type"].startswith("application/json" if is_json else "text/plain")


def test_a_detail_that_is_not_text_is_always_json_and_standalone_routers_share_the_shape() -> None:
    async def structured(request: Request) -> Response:
        raise HTTPException(400, ["a", "b"])

    assert make_client().get("/typed/0").json()["detail"]["missing"] == 0
    app = TypedASGI(routes=[Route("/s", structured)])
    answer = TestClient(app).get("/s")
    assert (answer.status_code, answer.json()) == (400, {"detail": ["a", "b"]})
    router = Router(routes=[Route("/only", lambda request: PlainTextResponse("ok"), methods=["POST"])])
    client = TestClient(router)
    assert client.get("/missing").text == "Not Found"
    assert client.get("/missing", headers=JSON).json() == {"detail": "Not Found"}
    assert client.get("/only", headers=JSON).json() == {"detail": "Method Not Allowed"}


def test_an_endpoint_taking_only_the_request_and_returning_none_stays_starlette_style() -> None:
    def refuse(request: Request) -> None:
        raise HTTPException(406)

    answer = TestClient(TypedASGI(routes=[Route("/", refuse)])).get("/")
    assert (answer.status_code, answer.text) == (406, "Not Acceptable")
