"""The hello-world app from the README: ``typedasgi run examples.hello:app``."""

from typedasgi.applications import TypedASGI
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse, PlainTextResponse

app = TypedASGI()


@app.route("/")
def homepage(request: Request) -> JSONResponse:
    """A sync endpoint: typedasgi runs it in the thread pool, never on the event loop."""
    return JSONResponse({"hello": "world"})


@app.route("/hello/{name}")
async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"Hello, {request.path_params['name']}!")
