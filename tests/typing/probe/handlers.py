"""Expected errors for typed handlers: each marked line must be a mypy error with the marked code and text."""

import msgspec

from typedasgi.applications import TypedASGI
from typedasgi.params import Depends, Header, Query, RequestValidationError
from typedasgi.routing import Route


class Item(msgspec.Struct):
    name: str


app = TypedASGI()


@app.get("/items/{item_id:int}")
async def read_item(item_id: int) -> Item:
    return {"name": "not an Item"}  # E: return-value: expected "Item" ## reportReturnType


@app.post("/items", status_code="201")  # E: arg-type: expected "int | None" ## reportArgumentType
async def create_item(item: Item) -> Item:
    return item


@app.get("/tags", tags=["books", 2])  # E: list-item: expected "str" ## reportArgumentType
async def tags() -> list[str]:
    return []


@app.get("/other", summery="typo")  # E: call-arg: Unexpected keyword argument "summery" ## reportCallIssue
async def other() -> None:
    return None


async def caller() -> None:
    await read_item("7")  # E: arg-type: expected "int" ## reportArgumentType
    item: str = await read_item(7)  # E: assignment: variable has type "str" ## reportAssignmentType


route = Route("/", read_item, status_code=200.5)  # E: arg-type: expected "int | None" ## reportArgumentType


def markers() -> None:
    Query(alias=5)  # E: arg-type: expected "str | None" ## reportArgumentType
    Header(convert_underscores="no")  # E: arg-type: expected "bool" ## reportArgumentType
    Depends(42)  # E: arg-type: expected "Callable[..., object] | None" ## reportArgumentType


def handler(exc: RequestValidationError) -> None:
    exc.errors[0]["loc"]  # E: typeddict-item: "loc" ## reportGeneralTypeIssues
