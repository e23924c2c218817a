"""OpenAPI completeness: other responses, security schemes through dependencies, app information,
form and upload bodies; and the security schemes at run time."""

from __future__ import annotations

import base64
from typing import Annotated, Any

import msgspec
import pytest
from openapi_spec_validator import validate

from typedasgi.apidocs import ResponseDoc
from typedasgi.applications import TypedASGI
from typedasgi.datastructures import UploadFile
from typedasgi.params import Depends, Form
from typedasgi.routers import APIRouter
from typedasgi.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPCredentials,
)
from typedasgi.testclient import TestClient

bearer = HTTPBearer(bearer_format="JWT", description="A token from /login")
basic = HTTPBasic(realm="admin")
header_key = APIKeyHeader("X-API-Key")
cookie_key = APIKeyCookie("session")
query_key = APIKeyQuery("api_key", auto_error=False)
other_header_key = APIKeyHeader("X-Other")  # the same default scheme_name as header_key: refused in one document


class Problem(msgspec.Struct):
    detail: str


class Pet(msgspec.Struct):
    id: int
    name: str


async def current_user(token: Annotated[HTTPCredentials, Depends(bearer)]) -> str:
    return token.credentials


pets = APIRouter(prefix="/pets", tags=["pets"], dependencies=[Depends(header_key)])


@pets.get("/{pet_id:int}", responses={404: ResponseDoc("No such pet", Problem), 409: Problem, 410: ResponseDoc("Gone")})
async def read_pet(pet_id: int, user: Annotated[str, Depends(current_user)]) -> Pet:
    return Pet(pet_id, user)


def make_app() -> TypedASGI:
    app = TypedASGI(
        openapi_url="/openapi.json", title="Pets", version="2.1.0", description="All the pets.",
        servers=[{"url": "https://api.example.org", "description": "production"}],
    )
    app.include_router(pets)

    @app.get("/admin")
    async def admin(credentials: Annotated[HTTPBasicCredentials, Depends(basic)]) -> str:
        return credentials.username

    @app.get("/session")
    async def session(key: Annotated[str, Depends(cookie_key)], optional: Annotated[str | None, Depends(query_key)]) -> list[str | None]:
        return [key, optional]

    @app.post("/signup")
    async def signup(name: Annotated[str, Form()], age: Annotated[int, Form()] = 0) -> str:
        return name

    @app.post("/avatar")
    async def avatar(picture: UploadFile, caption: Annotated[str | None, Form()] = None) -> int:
        return len(await picture.read())

    return app


def test_document_validates_and_carries_app_information() -> None:
    document = make_app().openapi()
    validate(document)
    assert document["info"] == {"title": "Pets", "version": "2.1.0", "description": "All the pets."}
    assert document["servers"] == [{"url": "https://api.example.org", "description": "production"}]
    served = TestClient(make_app()).get("/openapi.json").json()
    assert served["servers"] == document["servers"]


def test_security_schemes_are_declared_once_and_attached_through_dependencies() -> None:
    document = make_app().openapi()
    assert document["components"]["securitySchemes"] == {
        "HTTPBearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "A token from /login"},
        "APIKeyHeader": {"type": "apiKey", "name": "X-API-Key", "in": "header"},
        "HTTPBasic": {"type": "http", "scheme": "basic"},
        "APIKeyCookie": {"type": "apiKey", "name": "session", "in": "cookie"},
        "APIKeyQuery": {"type": "apiKey", "name": "api_key", "in": "query"},
    }
    paths = document["paths"]
    assert paths["/pets/{pet_id}"]["get"]["security"] == [{"APIKeyHeader": [], "HTTPBearer": []}]
    assert paths["/admin"]["get"]["security"] == [{"HTTPBasic": []}]
    assert paths["/session"]["get"]["security"] == [{"APIKeyCookie": [], "APIKeyQuery": []}]
    assert "security" not in paths["/signup"]["post"]


def test_other_responses_are_documented_with_their_bodies() -> None:
    responses = make_app().openapi()["paths"]["/pets/{pet_id}"]["get"]["responses"]
    assert responses["404"] == {
        "description": "No such pet",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    assert responses["409"]["description"] == "Conflict"
    assert responses["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert responses["410"] == {"description": "Gone"}
    assert set(responses) == {"200", "404", "409", "410", "422"}


def test_form_and_upload_request_bodies() -> None:
    paths = make_app().openapi()["paths"]
    signup = paths["/signup"]["post"]["requestBody"]
    assert signup["required"] is True
    schema = signup["content"]["application/x-www-form-urlencoded"]["schema"]
    assert schema["properties"] == {"name": {"type": "string"}, "age": {"type": "integer"}}
    assert schema["required"] == ["name"]
    upload = paths["/avatar"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["properties"]["picture"] == {"type": "string", "format": "binary"}
    assert upload["required"] == ["picture"]


def test_two_different_schemes_under_one_name_are_refused() -> None:
    app = TypedASGI(openapi_url="/openapi.json")

    @app.get("/a")
    async def a(key: Annotated[str, Depends(header_key)], again: Annotated[str, Depends(other_header_key)]) -> None: ...

    with pytest.raises(ValueError, match="Two different security schemes are named 'APIKeyHeader'"):
        app.openapi()


# ------------------------------------------------------------------ the schemes at run time


def basic_auth(user: str, password: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_schemes_read_credentials_and_refuse_with_a_challenge() -> None:
    client = TestClient(make_app())
    ok = client.get("/pets/1", headers={"x-api-key": "k", "authorization": "Bearer tok"})
    assert ok.json() == {"id": 1, "name": "tok"}
    for headers, challenge in [
        ({"authorization": "Bearer tok"}, "APIKey"),
        ({"x-api-key": "k"}, "Bearer"),
        ({"x-api-key": "k", "authorization": "Basic abc"}, "Bearer"),
    ]:
        refused = client.get("/pets/1", headers=headers)
        assert (refused.status_code, refused.headers["www-authenticate"]) == (401, challenge)
        assert refused.json() == {"detail": "Not authenticated"}
    assert client.get("/admin", headers=basic_auth("ada", "pw:with:colons")).json() == "ada"
    for bad in ({"authorization": "Basic !!!"}, {"authorization": "Basic " + base64.b64encode(b"nocolon").decode()}, {}):
        refused = client.get("/admin", headers=bad)
        assert (refused.status_code, refused.headers["www-authenticate"]) == (401, 'Basic realm="admin"')
    # Not ASCII (base64 refuses the text with a plain ValueError), not UTF-8 once decoded: a 401, never a 500.
    for raw in [b"Basic \xe9\xe9\xe9", b"Basic " + base64.b64encode(b"\xff\xfe:pw")]:
        refused = client.get("/admin", headers=[(b"authorization", raw)])
        assert (refused.status_code, refused.headers["www-authenticate"]) == (401, 'Basic realm="admin"')
    assert client.get("/session", headers={"cookie": "session=s1"}).json() == ["s1", None]
    assert client.get("/session?api_key=q", headers={"cookie": "session=s1"}).json() == ["s1", "q"]
    assert client.get("/session").status_code == 401


def test_forms_post_through_the_documented_endpoints() -> None:
    client = TestClient(make_app())
    assert client.post("/signup", data={"name": "ada"}).json() == "ada"
    files: Any = {"picture": ("p.png", b"12345", "image/png")}
    assert client.post("/avatar", files=files).json() == 5
