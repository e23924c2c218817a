"""Starlette endpoints stay Starlette endpoints: the one parameter gets the Request, whatever its annotation says."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.datastructures import State
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse, PlainTextResponse, Response
from typedasgi.routing import Route
from typedasgi.testclient import TestClient


class MyRequest(Request):
    pass


def describe(request: object) -> Response:
    assert isinstance(request, Request)
    return PlainTextResponse(f"{type(request).__name__} {request.url.path} {request.query_params.get('request')}")


async def annotated_any(request: Any) -> Any:
    return describe(request)


async def unannotated(request):  # type: ignore[no-untyped-def]  # the point: Starlette code has no annotations
    return describe(request)


def annotated_object(request: object) -> Response:
    return describe(request)


async def a_subclass(request: MyRequest) -> Response:
    return describe(request)


async def generic(request: Request[State]) -> Response:
    return describe(request)


async def no_return_annotation(request: Request):  # type: ignore[no-untyped-def]  # Starlette code often omits it
    return describe(request)


ENDPOINTS: list[Callable[..., Any]] = [
    annotated_any, unannotated, annotated_object, a_subclass, generic, no_return_annotation,
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.__name__)
def test_the_one_parameter_gets_the_request_even_when_the_query_has_its_name(endpoint: Callable[..., Any]) -> None:
    client = TestClient(TypedASGI(routes=[Route("/p", endpoint)]))
    response = client.get("/p", params={"request": "q"})
    assert (response.status_code, response.text) == (200, "Request /p q")


def test_an_untyped_parameter_with_a_data_return_annotation_gets_the_request_and_is_rendered() -> None:
    def data(request: Any) -> dict[str, str]:
        assert isinstance(request, Request)
        return {"path": request.url.path}

    response = TestClient(TypedASGI(routes=[Route("/d", data)])).get("/d?request=x")
    assert response.json() == {"path": "/d"}


def login_required(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    @functools.wraps(endpoint)
    async def wrapper(*args: Any, **kwargs: Any) -> Response:
        request = args[0]
        assert isinstance(request, Request)
        if "user" not in request.query_params:
            return PlainTextResponse("login first", status_code=401)
        return await endpoint(*args, **kwargs)

    return wrapper


def counted(endpoint: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    async def wrapper(*args: Any, **kwargs: Any) -> Response:  # no functools.wraps
        return await endpoint(*args, **kwargs)

    return wrapper


@login_required
async def profile(request: Request) -> Response:
    return PlainTextResponse(f"hello {request.query_params['user']}")


@counted
async def counted_profile(request):  # type: ignore[no-untyped-def]  # Starlette code
    return describe(request)


def test_a_wrapped_starlette_endpoint_gets_the_request() -> None:
    client = TestClient(TypedASGI(routes=[Route("/me", profile), Route("/c", counted_profile)]))
    assert client.get("/me").status_code == 401
    assert client.get("/me?user=ann").text == "hello ann"
    assert client.get("/c?request=z").text == "Request /c z"


def test_typed_handlers_keep_reading_parameters() -> None:
    def greet(name: str) -> dict[str, str]:
        return {"hello": name}

    async def two(request: Request, name: str = "x") -> JSONResponse:
        return JSONResponse({"path": request.url.path, "name": name})

    client = TestClient(TypedASGI(routes=[Route("/g", greet), Route("/t", two)]))
    assert client.get("/g?name=ann").json() == {"hello": "ann"}
    assert client.get("/g").status_code == 422
    assert client.get("/t?name=bo").json() == {"path": "/t", "name": "bo"}


class NotAMsgspecType:
    """What a validation library's own model is to typedasgi: a type it cannot read parameters into."""


def validated(endpoint: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """A validation decorator as spectree writes one: it is called with the request and supplies the rest."""

    @functools.wraps(endpoint)
    async def wrapper(*args: Any, **kwargs: Any) -> Response:
        request = args[0]
        return await endpoint(request, payload=NotAMsgspecType(), limit=int(request.query_params.get("limit", default="3")))

    return wrapper


@validated
async def search(request, payload: NotAMsgspecType, limit: int) -> Response:  # type: ignore[no-untyped-def]  # Starlette code
    return PlainTextResponse(f"{request.url.path} {type(payload).__name__} {limit}")


def test_starlette_shaped_endpoints_with_more_parameters_get_the_request() -> None:
    """``(request, ...)`` that Starlette calls with the request alone: defaults, or a wrapper that fills the rest."""
    pages = [Route(f"/{name}", lambda request, name=name: PlainTextResponse(name)) for name in ("a", "b")]
    client = TestClient(TypedASGI(routes=[*pages, Route("/s", search)]))
    assert (client.get("/a").text, client.get("/b").text) == ("a", "b")  # the closure-capture idiom
    assert client.get("/s?limit=7").text == "/s NotAMsgspecType 7"
    assert client.get("/s").text == "/s NotAMsgspecType 3"


def test_mapping_get_takes_its_default_by_keyword_as_starlette_does() -> None:
    async def endpoint(request: Request) -> Response:
        return PlainTextResponse(request.query_params.get("q", default="-") + request.headers.get("x-h", default="-"))

    client = TestClient(TypedASGI(routes=[Route("/", endpoint)]))
    assert client.get("/").text == "--"
    assert client.get("/?q=a", headers={"x-h": "b"}).text == "ab"
