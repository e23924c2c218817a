"""Point 4 of the hostile-input suite: no way of setting a response header lets a value add headers or
attributes: CR, LF, NUL (any control but tab) in a value, or a name that is not a token, is refused when set."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from typedasgi.datastructures import MutableHeaders
from typedasgi.headers import InvalidHeaderError
from typedasgi.middleware.pure import on_response_start
from typedasgi.responses import FileResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from typedasgi.testclient import TestClient
from typedasgi.types import HTTPResponseStartEvent, Receive, Scope, Send

from tests.hostile.app import SITE
from tests.hostile.guards import Target

BAD_VALUES = ["a\r\nX-Injected: 1", "a\nX-Injected: 1", "a\rb", "a\x00b", "a\x0bb", "\x7f"]
BAD_NAMES = ["X Injected", "X-Injected:", "X-Injected\r\n", "", "X-Ünï", "X-(paren)", "X\x00"]
SETTERS: dict[str, Callable[[str, str], object]] = {
    "Response(headers=)": lambda name, value: Response(b"", headers={name: value}),
    "JSONResponse(headers=)": lambda name, value: JSONResponse({}, headers={name: value}),
    "StreamingResponse(headers=)": lambda name, value: StreamingResponse(iter([b""]), headers={name: value}),
    "FileResponse(headers=)": lambda name, value: FileResponse(SITE / "index.html", headers={name: value}),
    "headers[...] =": lambda name, value: Response().headers.__setitem__(name, value),
    "headers.append": lambda name, value: Response().headers.append(name, value),
    "headers.setdefault": lambda name, value: Response().headers.setdefault(name, value),
    "headers.update": lambda name, value: Response().headers.update({name: value}),
    "headers |=": lambda name, value: Response().headers.__ior__({name: value}),
    "MutableHeaders(headers=)": lambda name, value: MutableHeaders(headers={name: value}),
}


@pytest.mark.parametrize("setter", SETTERS.values(), ids=SETTERS.keys())
@pytest.mark.parametrize("value", BAD_VALUES, ids=repr)
def test_a_value_with_controls_is_refused(setter: Callable[[str, str], object], value: str) -> None:
    with pytest.raises(InvalidHeaderError, match="X-Fine.*control character"):
        setter("X-Fine", value)


@pytest.mark.parametrize("setter", SETTERS.values(), ids=SETTERS.keys())
@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_a_name_that_is_not_a_token_is_refused(setter: Callable[[str, str], object], name: str) -> None:
    with pytest.raises(InvalidHeaderError, match="Invalid header name"):
        setter(name, "fine")


def test_good_headers_still_pass() -> None:
    response = PlainTextResponse("x", headers={"X-Tab": "a\tb", "X-Latin": "café", "Cache-Control": "no-store"})
    response.headers["x-set"] = "1"
    response.headers.append("Vary", "Accept")
    assert (b"x-tab", b"a\tb") in response.raw_headers and (b"x-latin", "café".encode("latin-1")) in response.raw_headers
    assert (b"x-set", b"1") in response.raw_headers and (b"vary", b"Accept") in response.raw_headers


COOKIES: dict[str, dict[str, str]] = {
    "key CRLF": {"key": "a\r\nX-Injected"},
    "key space": {"key": "a b"},
    "key ;": {"key": "a;b"},
    "path CRLF": {"path": "/\r\nX-Injected: 1"},
    "path ;": {"path": "/; Domain=evil.com"},
    "domain LF": {"domain": "example.com\nX-Injected: 1"},
    "domain ;": {"domain": "example.com; Secure"},
    "expires CR": {"expires": "Wed, 21 Oct 2015 07:28:00 GMT\rX: 1"},
    "expires ;": {"expires": "x; Path=/admin"},
    "samesite": {"samesite": "lax\r\nX-Injected: 1"},
}


@pytest.mark.parametrize("params", COOKIES.values(), ids=COOKIES.keys())
def test_set_cookie_refuses_injection_in_every_parameter(params: dict[str, str]) -> None:
    response = Response()
    before = list(response.raw_headers)
    arguments: dict[str, str] = {"key": "session", "value": "v", **params}
    with pytest.raises(ValueError, match="cookie|samesite|control"):
        response.set_cookie(**arguments)  # type: ignore[arg-type]  # a hostile samesite on purpose
    assert response.raw_headers == before


def test_set_cookie_quotes_a_hostile_value() -> None:
    response = Response()
    response.set_cookie("session", "a\r\nSet-Cookie: admin=1; Path=/")
    [(name, value)] = [(n, v) for n, v in response.raw_headers if n == b"set-cookie"]
    assert b"\r" not in value and b"\n" not in value and value.count(b";") == value.count(b"; ")  # only attributes
    assert value.startswith(b'session="a\\015\\012Set-Cookie: admin=1\\073 Path=/"')


async def injecting_middleware_app(scope: Scope, receive: Receive, send: Send) -> None:
    def edit(message: HTTPResponseStartEvent, headers: MutableHeaders) -> None:
        headers["x-request"] = "id\r\nSet-Cookie: admin=1"

    await PlainTextResponse("ok")(scope, receive, on_response_start(send, edit))


def test_middleware_editing_the_response_head_is_refused(local: Target) -> None:
    with pytest.raises(InvalidHeaderError):
        TestClient(injecting_middleware_app).get("/")
    client = TestClient(injecting_middleware_app, raise_server_exceptions=False)
    assert client.get("/").status_code == 500  # its loop thread exists before the baseline
    with local.nothing_leaks():
        response = client.get("/")
    assert response.status_code == 500 and "set-cookie" not in response.headers and "x-request" not in response.headers
