"""The OpenAPI 3.1 document generated from routes, and the pages that serve it."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pytest
from openapi_spec_validator import validate

from typedasgi.applications import TypedASGI
from typedasgi.openapi import openapi_document
from typedasgi.params import Body, Cookie, Depends, Header, Query
from typedasgi.requests import Request
from typedasgi.responses import HTMLResponse, PlainTextResponse, Response
from typedasgi.routing import Mount, Route, Router
from typedasgi.testclient import TestClient


class Pet(msgspec.Struct):
    name: str
    age: Annotated[int, msgspec.Meta(ge=0)]
    owner: Owner | None = None


class Owner(msgspec.Struct):
    name: str


def session_user(sid: Annotated[str, Cookie(description="Session id")]) -> str:
    return sid


async def get_pet(
    pet_id: int,
    verbose: bool = False,
    fields: Annotated[list[str], Query(alias="field", deprecated=True)] = [],  # noqa: B006
    trace: Annotated[str | None, Header(alias="X-Trace")] = None,
    user: Annotated[str, Depends(session_user)] = "",
    hidden: Annotated[int, Query(include_in_schema=False)] = 0,
) -> Pet:
    """Fetch one pet.

    More words about it.
    """
    return Pet("rex", 3)


async def create_pet(pet: Annotated[Pet, Body(description="The new pet")], user: Annotated[str, Depends(session_user)]) -> Pet:
    return pet


async def delete_pet(pet_id: int) -> None:
    return None


async def plain(request: Request) -> Response:
    return PlainTextResponse("plain")


async def no_params() -> str:
    return "x"


def document(*routes: Any) -> dict[str, Any]:
    doc = openapi_document(list(routes), title="Pets", version="2.0")
    validate(doc)  # every document the tests look at is valid OpenAPI 3.1
    return doc


def test_parameters_from_every_source_with_their_schemas() -> None:
    doc = document(Route("/pets/{pet_id:int}", get_pet))
    operation = doc["paths"]["/pets/{pet_id}"]["get"]
    params = {(p["in"], p["name"]): p for p in operation["parameters"]}
    assert set(params) == {("path", "pet_id"), ("query", "verbose"), ("query", "field"), ("header", "x-trace"),
                           ("cookie", "sid")}
    assert params[("path", "pet_id")] == {"name": "pet_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    assert params[("query", "verbose")]["schema"] == {"type": "boolean", "default": False}
    assert params[("query", "verbose")]["required"] is False
    field = params[("query", "field")]
    assert (field["deprecated"], field["explode"], field["schema"]["type"]) == (True, True, "array")
    assert params[("cookie", "sid")]["required"] is True
    assert params[("cookie", "sid")]["description"] == "Session id"
    assert operation["summary"] == "Get pet"
    assert operation["description"] == "Fetch one pet.\n\nMore words about it."
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Pet"}
    assert "422" in operation["responses"]


def test_request_body_responses_and_components() -> None:
    doc = document(
        Route("/pets", create_pet, methods=["POST"], status_code=201),
        Route("/pets/{pet_id:int}", delete_pet, methods=["DELETE"]),
    )
    create = doc["paths"]["/pets"]["post"]
    assert create["requestBody"] == {
        "required": True, "description": "The new pet",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}},
    }
    assert create["responses"]["201"]["description"] == "Created"
    delete = doc["paths"]["/pets/{pet_id}"]["delete"]
    assert delete["responses"]["204"] == {"description": "No Content"}
    schemas = doc["components"]["schemas"]
    assert schemas["Pet"]["properties"]["age"] == {"type": "integer", "minimum": 0}
    assert schemas["Pet"]["properties"]["owner"]["anyOf"][0] == {"$ref": "#/components/schemas/Owner"}
    assert set(schemas["ValidationErrorResponse"]["required"]) == {"detail", "errors"}
    assert schemas["ValidationErrorItem"]["properties"]["location"]["enum"] == ["body", "cookie", "header", "path", "query"]


def test_route_level_documentation_options() -> None:
    doc = document(
        Route("/a", no_params, summary="Custom summary", description="Custom text", tags=["x", "y"], deprecated=True),
        Route("/b", no_params, include_in_schema=False),
        Route("/c", no_params, response_class=HTMLResponse),
    )
    a = doc["paths"]["/a"]["get"]
    assert (a["summary"], a["description"], a["tags"], a["deprecated"]) == ("Custom summary", "Custom text", ["x", "y"], True)
    assert "422" not in a["responses"]  # nothing to validate
    assert "/b" not in doc["paths"]
    assert list(doc["paths"]["/c"]["get"]["responses"]["200"]["content"]) == ["text/html"]
    assert "components" not in doc or "ValidationErrorResponse" not in doc["components"]["schemas"]


def test_plain_endpoints_mounts_and_operation_ids() -> None:
    inner = Router(routes=[Route("/{pet_id:int}", get_pet, name="show"), Route("/", plain, name="index")])
    doc = document(
        Mount("/owners/{owner}/pets", app=inner, name="pets"),
        Route("/both", no_params, methods=["GET", "POST"]),
        Route("/ping", plain),
    )
    paths = doc["paths"]
    assert set(paths) == {"/owners/{owner}/pets/{pet_id}", "/owners/{owner}/pets/", "/both", "/ping"}
    show = paths["/owners/{owner}/pets/{pet_id}"]["get"]
    assert {(p["in"], p["name"]) for p in show["parameters"]} >= {("path", "owner"), ("path", "pet_id")}
    index = paths["/owners/{owner}/pets/"]["get"]
    assert index["parameters"] == [{"name": "owner", "in": "path", "required": True, "schema": {"type": "string"}}]
    assert paths["/ping"]["get"]["responses"] == {"200": {"description": "OK"}}
    ids = [op["operationId"] for ops in paths.values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert {paths["/both"]["get"]["operationId"], paths["/both"]["post"]["operationId"]} == {"no_params_get", "no_params_post"}


def test_a_parameter_named_like_a_mounts_path_parameter_is_documented_as_that_one() -> None:
    async def pets(owner: int, limit: int = 10) -> list[str]:
        return []

    doc = document(Mount("/owners/{owner}", routes=[Route("/pets", pets)]))
    parameters = doc["paths"]["/owners/{owner}/pets"]["get"]["parameters"]
    assert [(p["in"], p["name"], p["schema"]["type"]) for p in parameters] == [
        ("path", "owner", "integer"), ("query", "limit", "integer"),
    ]


def test_the_app_serves_the_document_and_the_docs_page() -> None:
    app = TypedASGI(openapi_url="/openapi.json", title="Pets API", version="3.1")
    app.get("/pets/{pet_id:int}")(get_pet)
    client = TestClient(app)
    doc = client.get("/openapi.json").json()
    validate(doc)
    assert doc["info"] == {"title": "Pets API", "version": "3.1"}
    assert set(doc["paths"]) == {"/pets/{pet_id}"}  # the document and docs routes are not in it
    page = client.get("/docs")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '"/openapi.json"' in page.text and "<title>Pets API</title>" in page.text
    app.post("/pets")(create_pet)  # added later: the document follows
    assert "/pets" in client.get("/openapi.json").json()["paths"]


def test_root_path_reaches_servers_and_the_page() -> None:
    app = TypedASGI(openapi_url="/spec.json", docs_url="/reference")
    client = TestClient(app, root_path="/api")
    assert client.get("/spec.json").json()["servers"] == [{"url": "/api"}]
    assert '"/api/spec.json"' in client.get("/reference").text


@pytest.mark.parametrize("options", [{}, {"openapi_url": None}, {"docs_url": None}])
def test_openapi_is_opt_in(options: dict[str, Any]) -> None:
    app = TypedASGI(**options)
    client = TestClient(app)
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 404
    assert not [route for route in app.routes if getattr(route, "path", None) in ("/docs", "/openapi.json")]


def test_the_docs_page_escapes_the_title() -> None:
    client = TestClient(TypedASGI(openapi_url="/o.json", title="<script>x</script>"))
    assert "<script>x</script>" not in client.get("/docs").text
