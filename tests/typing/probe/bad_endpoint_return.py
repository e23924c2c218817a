"""An endpoint method that returns a str instead of a Response."""

from typedasgi.endpoints import HTTPEndpoint
from typedasgi.requests import Request
from typedasgi.responses import Response


class Items(HTTPEndpoint):
    async def get(self, request: Request) -> Response:
        return "items"  # E: return-value: expected "Response" ## reportReturnType: return type "Response"
