"""The typed CRUD example, end to end: every operation, its errors, and its OpenAPI document."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from openapi_spec_validator import validate

from examples import crud
from typedasgi.testclient import TestClient

WRITER = {"x-api-key": "let-me-write"}
DUNE = {"title": "Dune", "author": "Frank Herbert", "year": 1965, "genre": "fiction", "tags": ["sf", "classic"]}
SPQR = {"title": "SPQR", "author": "Mary Beard", "year": 2015, "genre": "history", "tags": ["rome"]}


@pytest.fixture
def client() -> Iterator[TestClient]:
    crud.STORE.books.clear()  # a fresh, empty store per test
    crud.STORE.ids = itertools.count(1)
    with TestClient(crud.app) as client:
        yield client


def test_create_read_list_update_delete(client: TestClient) -> None:
    created = client.post("/books", json=DUNE, headers=WRITER)
    assert created.status_code == 201
    book = created.json()
    assert {key: book[key] for key in DUNE} == DUNE
    assert book["id"] == 1 and book["created"].endswith("Z")
    client.post("/books", json=SPQR, headers=WRITER)

    assert client.get("/books/1").json() == book
    page = client.get("/books").json()
    assert (page["total"], [b["title"] for b in page["items"]]) == (2, ["Dune", "SPQR"])
    assert [b["title"] for b in client.get("/books?genre=history").json()["items"]] == ["SPQR"]
    assert [b["title"] for b in client.get("/books?tag=sf&tag=classic").json()["items"]] == ["Dune"]
    assert client.get("/books?limit=1&offset=1").json()["items"][0]["title"] == "SPQR"

    patched = client.patch("/books/1", json={"year": 1966}, headers=WRITER).json()
    assert (patched["year"], patched["title"]) == (1966, "Dune")
    replaced = client.put("/books/1", json={**SPQR, "title": "SPQR 2"}, headers=WRITER).json()
    assert (replaced["id"], replaced["title"], replaced["created"]) == (1, "SPQR 2", book["created"])

    deleted = client.delete("/books/1", headers=WRITER)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert client.get("/books/1").status_code == 404
    assert client.get("/books").json()["total"] == 1


def test_writes_need_an_api_key(client: TestClient) -> None:
    assert client.post("/books", json=DUNE).status_code == 401
    assert client.post("/books", json=DUNE, headers={"x-api-key": "guess"}).status_code == 401
    assert client.get("/books").json()["total"] == 0


def test_validation_errors_name_each_problem(client: TestClient) -> None:
    response = client.post("/books", json={"title": "", "author": "A", "year": 1200, "genre": "cooking"}, headers=WRITER)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"location": "body", "field": "title", "message": "Expected `str` of length >= 1"},
    ]  # msgspec stops at the first problem inside one body
    response = client.get("/books?limit=0&offset=-1&genre=cooking")
    assert [(e["location"], e["field"]) for e in response.json()["errors"]] == [
        ("query", "limit"), ("query", "offset"), ("query", "genre"),
    ]
    response = client.patch("/books/1", json={"colour": "red"}, headers=WRITER)
    assert response.json()["errors"][0]["message"] == "Object contains unknown field `colour`"
    assert client.post("/books", content=b"{not json", headers=WRITER).status_code == 400
    assert client.get("/books/abc").status_code == 404  # {book_id:int} does not match: no such route


def test_tags_are_bounded_per_book_and_per_query(client: TestClient) -> None:
    """A list request costs books x tags asked for: a long query of tags must not hold the event loop."""
    many = [f"t{n}" for n in range(crud.MAX_TAGS + 1)]
    assert client.post("/books", json={**DUNE, "tags": many}, headers=WRITER).status_code == 422
    assert client.post("/books", json={**DUNE, "tags": ["x" * 51]}, headers=WRITER).status_code == 422
    assert client.patch("/books/1", json={"tags": many}, headers=WRITER).status_code == 422
    client.post("/books", json={**DUNE, "tags": many[: crud.MAX_TAGS]}, headers=WRITER)
    query = "&".join(f"tag={tag}" for tag in many[: crud.MAX_TAGS])
    assert client.get(f"/books?{query}").json()["total"] == 1
    response = client.get("/books?" + "&".join(["tag=sf"] * 2000))  # before: 200, after 2,000 x books look-ups
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "tag")


def test_the_openapi_document_is_valid_and_complete(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    validate(doc)
    assert doc["info"] == {"title": "Books", "version": "1.0.0"}
    assert set(doc["paths"]) == {"/books", "/books/{book_id}"}  # /health is left out
    assert set(doc["paths"]["/books"]) == {"get", "post"}
    assert set(doc["paths"]["/books/{book_id}"]) == {"get", "put", "patch", "delete"}
    create = doc["paths"]["/books"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/NewBook"}
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Book"}
    assert {(p["in"], p["name"]) for p in create["parameters"]} == {("header", "x-api-key")}
    listing = doc["paths"]["/books"]["get"]
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
    assert doc["paths"]["/books/{book_id}"]["delete"]["responses"]["204"] == {"description": "No Content"}
    schemas = doc["components"]["schemas"]
    assert set(schemas) >= {"Book", "NewBook", "BookPatch", "BookPage", "ValidationErrorResponse"}
    assert "required" not in schemas["BookPatch"] or schemas["BookPatch"]["required"] == []
    assert schemas["NewBook"]["required"] == ["title", "author", "year"]


def test_docs_page_and_health(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "/openapi.json" in page.text
    assert client.get("/health").json() == {"status": "ok"}
