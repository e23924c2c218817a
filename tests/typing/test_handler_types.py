"""Typed handlers keep their types through the decorators (checked by mypy --strict as part of the tree).

``@app.get`` and friends return the handler itself, so calling it directly (in
a test, from another handler) is checked against its real signature; the
runtime test at the bottom only makes pytest collect this module.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import msgspec
from typing_extensions import assert_type

from typedasgi.applications import TypedASGI
from typedasgi.params import Depends, Header, Query, RequestValidationError, ValidationErrorItem
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse, Response
from typedasgi.routing import Route
from typedasgi.testclient import TestClient


class Item(msgspec.Struct):
    name: str
    price: float


app = TypedASGI()


def token(x_token: Annotated[str, Header()]) -> str:
    return x_token


@app.get("/items/{item_id:int}")
async def read_item(item_id: int, q: Annotated[str | None, Query(alias="query")] = None) -> Item:
    return Item(name=f"{item_id}:{q}", price=1.0)


@app.post("/items", status_code=201, tags=["items"], summary="Create")
async def create_item(item: Item, user: Annotated[str, Depends(token)]) -> Item:
    return item


@app.delete("/items/{item_id:int}")
def delete_item(item_id: int) -> None:
    return None


@app.route("/plain")
async def plain(request: Request) -> Response:
    return JSONResponse({})


# The decorated names are still the functions (assignable to their exact callable types) ...
read_item_type: Callable[[int, str | None], Coroutine[Any, Any, Item]] = read_item
create_item_type: Callable[[Item, str], Coroutine[Any, Any, Item]] = create_item
delete_item_type: Callable[[int], None] = delete_item
plain_type: Callable[[Request], Coroutine[Any, Any, Response]] = plain


async def reuse() -> None:
    # ... and not Any: calling them gives back exactly what they declare.
    assert_type(await read_item(1), Item)
    assert_type(await read_item(1, "x"), Item)
    assert_type(await create_item(Item("a", 1.0), "user"), Item)
    assert_type(delete_item(1), None)


route = Route("/r/{item_id:int}", read_item, status_code=200, response_class=JSONResponse)


def handle(request: Request, exc: RequestValidationError) -> Response:
    assert_type(exc.errors, list[ValidationErrorItem])
    first = exc.errors[0]
    assert_type(first["field"], str)
    return JSONResponse({"where": first["location"]}, status_code=exc.status_code)


app.add_exception_handler(RequestValidationError, handle)


def test_handlers_keep_their_types_at_run_time() -> None:
    client = TestClient(app)
    assert client.get("/items/3?query=x").json() == {"name": "3:x", "price": 1.0}
    assert client.get("/items/x").status_code == 404
    assert client.post("/items", json={"name": "a", "price": 2}).json() == {"where": "header"}
