"""``local_url``: a redirect target the client chose (``?next=``) stays on this site, read as a browser reads it."""

from __future__ import annotations

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.redirects import local_url
from typedasgi.requests import Request
from typedasgi.responses import RedirectResponse
from typedasgi.routing import Route
from typedasgi.testclient import TestClient


async def after_login(request: Request) -> RedirectResponse:
    return RedirectResponse(local_url(request.query_params.get("next"), fallback="/home"), status_code=303)


client = TestClient(TypedASGI(routes=[Route("/login", after_login)]), follow_redirects=False)


@pytest.mark.parametrize(
    "target",
    ["/account", "/search?q=a+b#top", "/%2F/still-here", "/a\\b"],
)
def test_a_path_on_this_site_is_kept(target: str) -> None:
    assert local_url(target) == target
    answer = client.get("/login", params={"next": target})
    assert (answer.status_code, answer.headers["location"]) == (303, target.replace("\\", "%5C"))


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.com/",
        "//evil.com",
        "/\\evil.com",  # browsers read a backslash as a slash
        "/\t/evil.com",  # and drop tabs and line breaks
        "/\r\n/evil.com",
        "\t //evil.com",  # and leading spaces and controls
        "\x00//evil.com",
        "javascript:alert(1)",
        "evil.com",  # relative: to whatever path the client asked for
        "../admin",
        "",
    ],
)
def test_another_origin_a_scheme_or_a_relative_path_gets_the_fallback(target: str) -> None:
    assert local_url(target, fallback="/home") == "/home"
    answer = client.get("/login", params={"next": target})
    assert answer.headers["location"] == "/home"


def test_no_target_gets_the_fallback_and_what_is_kept_is_what_a_browser_reads() -> None:
    assert local_url(None) == "/"
    assert client.get("/login").headers["location"] == "/home"
    assert local_url(" /account\t") == "/account"
