"""Exception handler tables kept in variables, as Starlette's docs write them: any key type that fits."""

from typedasgi.applications import Starlette
from typedasgi.exceptions import HTTPException
from typedasgi.requests import Request
from typedasgi.responses import HTMLResponse, PlainTextResponse, Response


async def not_found(request: Request, exc: HTTPException) -> HTMLResponse:
    return HTMLResponse(content="<h1>404</h1>", status_code=exc.status_code)


async def bad_value(request: Request, exc: ValueError) -> Response:
    return PlainTextResponse(str(exc), status_code=400)


by_status = {404: not_found, 500: not_found}
by_class = {ValueError: bad_value}

Starlette(exception_handlers=by_status)
Starlette(exception_handlers=by_class)
Starlette(exception_handlers={HTTPException: not_found, 404: not_found})
