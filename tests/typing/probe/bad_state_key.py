"""A lifespan state key that the declared state does not have."""

from typing import TypedDict

from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response


class State(TypedDict):
    pool: str


async def handler(request: Request[State]) -> Response:
    return PlainTextResponse(request.state["pol"])  # E: typeddict-item: TypedDict "State" has no key "pol" ## reportGeneralTypeIssues: "pol" is not a defined key in "State"
