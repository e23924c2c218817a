"""Markers written as defaults (``user: str = Depends(current_user)``) are refused, never read from the query."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.params import Body, Cookie, Depends, HandlerSignatureError, Header, Path, Query
from typedasgi.routing import Route
from typedasgi.testclient import TestClient


async def current_user() -> str:
    return "alice"


def test_dependency_value_never_comes_from_the_client() -> None:
    async def me(user: Annotated[str, Depends(current_user)]) -> dict[str, str]:
        return {"user": user}

    client = TestClient(TypedASGI(routes=[Route("/me", me)]))
    assert client.get("/me?user=admin").json() == {"user": "alice"}
    assert client.get("/me", headers={"user": "admin", "cookie": "user=admin"}).json() == {"user": "alice"}


def test_dependency_as_default_is_refused_with_the_annotated_spelling() -> None:
    async def me(user: str = Depends(current_user)) -> dict[str, str]:  # type: ignore[assignment]  # the refused spelling
        return {"user": user}

    with pytest.raises(HandlerSignatureError) as raised:
        Route("/me", me)
    message = str(raised.value)
    assert "parameter 'user'" in message
    assert "`user: Annotated[str, Depends(current_user)]`" in message


@pytest.mark.parametrize(
    ("marker", "spelled"),
    [
        (Query(), "Query()"),
        (Query(alias="page-size"), "Query(alias='page-size')"),
        (Header(convert_underscores=False), "Header(convert_underscores=False)"),
        (Cookie(), "Cookie()"),
        (Path(), "Path()"),
        (Body(), "Body()"),
        (Depends(current_user, use_cache=False), "Depends(current_user, use_cache=False)"),
    ],
)
def test_every_marker_as_default_is_refused(marker: Any, spelled: str) -> None:
    async def handler(value: int = marker) -> int:
        return value

    with pytest.raises(HandlerSignatureError, match=r"Annotated\[int, " + spelled.replace("(", r"\(").replace(")", r"\)")):
        TypedASGI().get("/{value}")(handler)


async def header_dependency(token: list[str] = Header()) -> str:  # type: ignore[assignment]  # the refused spelling
    return token[0]


def test_marker_default_in_a_dependency_is_refused_too() -> None:
    async def handler(token: Annotated[str, Depends(header_dependency)]) -> str:
        return token

    with pytest.raises(HandlerSignatureError, match=r"`token: Annotated\[list\[str\], Header\(\)\]`"):
        Route("/", handler)
