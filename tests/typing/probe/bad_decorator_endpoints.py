"""The decorators check what the add_* methods check: an HTTP endpoint is no WebSocket endpoint, a str no response."""

from typedasgi.applications import TypedASGI
from typedasgi.exceptions import HTTPException
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.websockets import WebSocket

app = TypedASGI()


async def http_endpoint(request: Request) -> Response:
    return PlainTextResponse("hi")


def returns_str(request: Request, exc: Exception) -> str:
    return "oops"


async def ws_endpoint(websocket: WebSocket) -> None:
    await websocket.close()


async def on_http_error(request: Request, exc: HTTPException) -> Response:
    return PlainTextResponse(str(exc.detail), status_code=exc.status_code)


app.websocket_route("/ws")(http_endpoint)  # E: type-var: Value of type variable "WebSocketF" ## reportArgumentType
app.exception_handler(500)(returns_str)  # E: type-var: Value of type variable "HandlerF" ## reportArgumentType
app.websocket_route("/ws-ok")(ws_endpoint)  # fine
app.exception_handler(HTTPException)(on_http_error)  # fine
