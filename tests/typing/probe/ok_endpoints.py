"""Class endpoints: HTTP methods and WebSocket events."""

from typing import Any

from typedasgi.applications import TypedASGI
from typedasgi.endpoints import HTTPEndpoint, WebSocketEndpoint
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse, PlainTextResponse, Response
from typedasgi.routing import Route, WebSocketRoute
from typedasgi.websockets import WebSocket


class Items(HTTPEndpoint):
    async def get(self, request: Request) -> Response:
        return JSONResponse({"items": [], "page": request.query_params.get("page", "1")})

    async def post(self, request: Request) -> Response:
        body = await request.body()
        return PlainTextResponse(f"{len(body)} bytes", status_code=201)


class Echo(WebSocketEndpoint):
    encoding = "text"

    async def on_receive(self, websocket: WebSocket, data: Any) -> None:
        await websocket.send_text(str(data))


app = TypedASGI(routes=[Route("/items", Items), WebSocketRoute("/echo", Echo)])
