"""A small typed CRUD service: ``typedasgi run examples.crud:app``, then open /docs.

Books live in memory. Reads are open; writes need the ``x-api-key`` header
(a dependency). Everything a handler takes is declared in its signature, and
the OpenAPI document at /openapi.json is generated from those signatures.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import AsyncIterator
from typing import Annotated, Literal

import msgspec

from typedasgi.applications import TypedASGI
from typedasgi.exceptions import HTTPException
from typedasgi.params import Depends, Header, Query

Genre = Literal["fiction", "history", "science", "poetry"]
MAX_TAGS = 20
"""Tags per book, and per query: a list request costs (books x tags asked for), so both are bounded."""
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]


class NewBook(msgspec.Struct, forbid_unknown_fields=True):
    """What a client sends to create or replace a book."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    author: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    year: Annotated[int, msgspec.Meta(ge=1450, le=2100)]
    genre: Genre = "fiction"
    tags: Annotated[list[Tag], msgspec.Meta(max_length=MAX_TAGS)] = []


class BookPatch(msgspec.Struct, forbid_unknown_fields=True):
    """A partial update: only the fields sent change."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | msgspec.UnsetType = msgspec.UNSET
    author: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | msgspec.UnsetType = msgspec.UNSET
    year: Annotated[int, msgspec.Meta(ge=1450, le=2100)] | msgspec.UnsetType = msgspec.UNSET
    genre: Genre | msgspec.UnsetType = msgspec.UNSET
    tags: Annotated[list[Tag], msgspec.Meta(max_length=MAX_TAGS)] | msgspec.UnsetType = msgspec.UNSET


class Book(msgspec.Struct):
    """A stored book."""

    id: int
    title: str
    author: str
    year: int
    genre: Genre
    tags: list[str]
    created: datetime.datetime


class BookPage(msgspec.Struct):
    items: list[Book]
    total: int
    limit: int
    offset: int


class Store:
    """An in-memory table of books; a real app would hold a database pool here."""

    def __init__(self) -> None:
        self.books: dict[int, Book] = {}
        self.ids = itertools.count(1)

    def add(self, new: NewBook) -> Book:
        book = Book(id=next(self.ids), created=datetime.datetime.now(datetime.timezone.utc), **msgspec.structs.asdict(new))
        self.books[book.id] = book
        return book

    def get(self, book_id: int) -> Book:
        book = self.books.get(book_id)
        if book is None:
            raise HTTPException(404, f"No book with id {book_id}")
        return book


STORE = Store()
API_KEYS = {"let-me-write"}


async def get_store() -> AsyncIterator[Store]:
    """One store for the app; a generator, as a database session would be (closed after the response)."""
    yield STORE


def require_writer(x_api_key: Annotated[str | None, Header(description="A key allowed to write")] = None) -> str:
    """Writes need a known API key."""
    if x_api_key not in API_KEYS:
        raise HTTPException(401, "A valid x-api-key header is required to change books")
    return x_api_key


StoreDep = Annotated[Store, Depends(get_store)]
Writer = Annotated[str, Depends(require_writer, sync_to_thread=False)]

app = TypedASGI(openapi_url="/openapi.json", docs_url="/docs", title="Books", version="1.0.0")


@app.get("/books", tags=["books"], summary="List books")
async def list_books(
    store: StoreDep,
    limit: Annotated[int, msgspec.Meta(ge=1, le=100), Query(description="Page size")] = 20,
    offset: Annotated[int, msgspec.Meta(ge=0)] = 0,
    genre: Genre | None = None,
    tag: Annotated[
        list[Tag], msgspec.Meta(max_length=MAX_TAGS), Query(description="Books having every one of these tags")
    ] = [],  # noqa: B006
) -> BookPage:
    """Books in id order, optionally filtered by genre and tags."""
    books = [
        book for book in store.books.values()
        if (genre is None or book.genre == genre) and all(t in book.tags for t in tag)
    ]
    return BookPage(items=books[offset : offset + limit], total=len(books), limit=limit, offset=offset)


@app.get("/books/{book_id:int}", tags=["books"])
async def get_book(book_id: int, store: StoreDep) -> Book:
    """One book by id (404 when there is none)."""
    return store.get(book_id)


@app.post("/books", status_code=201, tags=["books"])
async def create_book(book: NewBook, store: StoreDep, writer: Writer) -> Book:
    """Add a book."""
    return store.add(book)


@app.put("/books/{book_id:int}", tags=["books"])
async def replace_book(book_id: int, book: NewBook, store: StoreDep, writer: Writer) -> Book:
    """Replace every field of a book."""
    old = store.get(book_id)
    new = Book(id=old.id, created=old.created, **msgspec.structs.asdict(book))
    store.books[book_id] = new
    return new


@app.patch("/books/{book_id:int}", tags=["books"])
async def update_book(book_id: int, patch: BookPatch, store: StoreDep, writer: Writer) -> Book:
    """Change only the fields sent."""
    changes = {k: v for k, v in msgspec.structs.asdict(patch).items() if v is not msgspec.UNSET}
    book = msgspec.structs.replace(store.get(book_id), **changes)
    store.books[book_id] = book
    return book


@app.delete("/books/{book_id:int}", tags=["books"])
async def delete_book(book_id: int, store: StoreDep, writer: Writer) -> None:
    """Remove a book; answers 204."""
    store.get(book_id)
    del store.books[book_id]


@app.get("/health", include_in_schema=False)
def health() -> dict[str, str]:
    return {"status": "ok"}
