"""A typed handler that returns a dict where it declares a msgspec struct."""

import msgspec

from typedasgi.applications import TypedASGI


class Item(msgspec.Struct):
    name: str


app = TypedASGI()


@app.get("/item")
async def item() -> Item:
    return {"name": "x"}  # E: return-value: expected "Item" ## reportReturnType: return type "Item"
