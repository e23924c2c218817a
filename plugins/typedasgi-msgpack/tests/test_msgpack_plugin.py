"""typedasgi-msgpack: negotiated responses, decoded bodies, the helpers for plain endpoints."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

import typedasgi_msgpack
from typedasgi.applications import TypedASGI
from typedasgi.requests import Request
from typedasgi.responses import Response
from typedasgi.testclient import TestClient
from typedasgi_msgpack import MsgPackPlugin, MsgPackResponse, read_msgpack


class Point(msgspec.Struct):
    x: int
    y: int


def make_app() -> TypedASGI:
    app = TypedASGI(plugins=[MsgPackPlugin()], autoload_plugins=False)

    @app.get("/point")
    async def point() -> Point:
        return Point(1, 2)

    @app.post("/mirror")
    async def mirror(point: Point) -> Point:
        return Point(point.y, point.x)

    return app


def test_msgpack_when_accept_prefers_it_json_otherwise() -> None:
    client = TestClient(make_app())
    packed = client.get("/point", headers={"accept": "application/msgpack"})
    assert packed.headers["content-type"] == "application/msgpack"
    assert msgspec.msgpack.decode(packed.content, type=Point) == Point(1, 2)
    assert client.get("/point").json() == {"x": 1, "y": 2}
    assert client.get("/point", headers={"accept": "application/json, application/msgpack"}).json() == {"x": 1, "y": 2}
    low = client.get("/point", headers={"accept": "application/json;q=0.1, application/msgpack;q=0.9"})
    assert low.headers["content-type"] == "application/msgpack"


@pytest.mark.parametrize("media_type", ["application/msgpack", "application/x-msgpack"])
def test_msgpack_bodies_are_decoded_and_validated(media_type: str) -> None:
    client = TestClient(make_app())
    body = msgspec.msgpack.encode({"x": 3, "y": 4})
    response = client.post("/mirror", content=body, headers={"content-type": media_type})
    assert response.json() == {"x": 4, "y": 3}
    wrong = client.post("/mirror", content=msgspec.msgpack.encode({"x": "three"}), headers={"content-type": media_type})
    assert wrong.status_code == 422
    malformed = client.post("/mirror", content=b"\xc1", headers={"content-type": media_type})
    assert malformed.status_code == 400


class Note(msgspec.Struct):
    title: str
    extra: dict[str, Any]


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (msgspec.msgpack.Ext(5, b"x"), 400),  # an extension type: JSON has none
        ({None: 1}, 400),  # map keys JSON cannot carry
        ({True: 1}, 400),
        ({(1, 2): 1}, 400),
        ({1: "a"}, 200),  # keys JSON writes as strings
        (b"raw", 200),
    ],
)
def test_open_parts_of_a_body_hold_only_what_json_carries(value: object, status: int) -> None:
    app = TypedASGI(plugins=[MsgPackPlugin()], autoload_plugins=False)

    @app.post("/echo")
    async def echo(body: dict[str, Any]) -> dict[str, Any]:
        return body

    @app.post("/note")
    async def note(body: Note) -> Note:
        return body

    client = TestClient(app, raise_server_exceptions=False)
    headers = {"content-type": "application/msgpack"}
    for path, body in [("/echo", {"a": [value]}), ("/note", {"title": "t", "extra": {"a": value}})]:
        response = client.post(path, content=msgspec.msgpack.encode(body), headers=headers)
        assert response.status_code == status, response.text  # answered in JSON: never a 500
        if status == 400:
            assert "a value JSON cannot carry" in response.json()["detail"]


@pytest.mark.parametrize("n", [2**64, -(2**63) - 1, 10**30])
def test_an_integer_msgpack_cannot_carry_is_a_406_for_msgpack_and_fine_in_json(n: int) -> None:
    app = TypedASGI(plugins=[MsgPackPlugin()], autoload_plugins=False)

    @app.get("/n")
    async def echo(n: int) -> dict[str, int]:
        return {"n": n}

    client = TestClient(app, raise_server_exceptions=False)
    packed = client.get(f"/n?n={n}", headers={"accept": "application/msgpack"})
    assert (packed.status_code, packed.headers["vary"]) == (406, "accept")  # before: OverflowError, a 500
    assert "application/json" in packed.text
    assert client.get(f"/n?n={n}").json() == {"n": n}
    assert msgspec.msgpack.decode(client.get("/n?n=-5", headers={"accept": "application/msgpack"}).content) == {"n": -5}


def test_without_the_plugin_msgpack_bodies_are_415() -> None:
    app = TypedASGI(autoload_plugins=False)

    @app.post("/mirror")
    async def mirror(point: Point) -> Point:
        return point

    response = TestClient(app).post("/mirror", content=b"\x80", headers={"content-type": "application/msgpack"})
    assert response.status_code == 415


def test_helpers_for_plain_endpoints() -> None:
    async def endpoint(request: Request) -> Response:
        point = await read_msgpack(request, Point)
        return MsgPackResponse({"sum": point.x + point.y}, status_code=201)

    app = TypedASGI(autoload_plugins=False)
    app.add_route("/sum", endpoint, methods=["POST"])
    client = TestClient(app)
    response = client.post("/sum", content=msgspec.msgpack.encode(Point(2, 5)))
    assert (response.status_code, response.headers["content-type"]) == (201, "application/msgpack")
    assert msgspec.msgpack.decode(response.content) == {"sum": 7}
    assert client.post("/sum", content=b"\xc1").status_code == 400
    assert client.post("/sum", content=msgspec.msgpack.encode({"x": 1})).status_code == 400


def test_installed_it_is_found_through_its_entry_point() -> None:
    app = TypedASGI(autoload_plugins=True)
    assert app.plugins.get("msgpack") is typedasgi_msgpack.plugin

    @app.get("/n")
    async def n() -> int:
        return 5

    response = TestClient(app).get("/n", headers={"accept": "application/msgpack"})
    assert msgspec.msgpack.decode(response.content) == 5
