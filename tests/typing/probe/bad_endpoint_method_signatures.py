"""An HTTPEndpoint's method handlers take the request and give a Response (or an awaitable of one), sync or async."""

from typedasgi.endpoints import HTTPEndpoint
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response


class Items(HTTPEndpoint):
    async def get(self, request: Request) -> str:  # E: override: Return type "Coroutine[Any, Any, str]" of "get" incompatible ## reportIncompatibleMethodOverride
        return "items"

    def put(self) -> Response:  # E: override: Signature of "put" incompatible with supertype ## reportIncompatibleMethodOverride
        return PlainTextResponse("put")

    def delete(self, request: Request) -> Response:  # a sync handler: fine
        return PlainTextResponse("deleted")
