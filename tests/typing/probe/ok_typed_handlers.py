"""Typed handlers: a msgspec body in, a msgspec struct out, a typed path parameter."""

import msgspec

from typedasgi.applications import TypedASGI


class Item(msgspec.Struct):
    name: str
    price: float


app = TypedASGI()


@app.get("/items/{item_id:int}")
async def read_item(item_id: int, q: str | None = None) -> Item:
    return Item(name=q or f"item {item_id}", price=1.5)


@app.post("/items", status_code=201)
async def create_item(item: Item) -> Item:
    return item
