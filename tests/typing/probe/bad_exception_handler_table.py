"""A handler table whose keys are neither status codes nor exception classes, or whose values are not handlers."""

from typedasgi.applications import Starlette
from typedasgi.requests import Request
from typedasgi.responses import Response


async def handler(request: Request, exc: Exception) -> Response:
    return Response("x")


by_name = {"404": handler}
not_handlers = {404: "not found"}

Starlette(exception_handlers=by_name)  # E: arg-type: Argument "exception_handlers" to "TypedASGI" has incompatible type ## reportArgumentType: is incompatible with protocol "ExceptionHandlerTable"
Starlette(exception_handlers=not_handlers)  # E: arg-type: Argument "exception_handlers" to "TypedASGI" has incompatible type ## reportArgumentType: is incompatible with protocol "ExceptionHandlerTable"
