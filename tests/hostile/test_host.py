"""Points 1-3 of the hostile-input suite: the Host header and the raw path never choose a URL's host (a
malformed Host is ignored for the server's address, as in Starlette 1.10); TrustedHostMiddleware validates;
the framework's redirects never leave the origin. Through a real uvicorn."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from typedasgi.datastructures import URL
from typedasgi.middleware.httpsredirect import HTTPSRedirectMiddleware
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse
from typedasgi.routing import Host, Route, Router
from typedasgi.urls import parse_host, valid_port

from tests.hostile.app import app
from tests.hostile.guards import Target, get_with_host, raw_exchange, same_origin
from tests.support import ServerURL, call_app, http_scope, running_server

VALID_HOSTS = [b"example.com", b"example.com:8080", b"EXAMPLE.com:0", b"127.0.0.1:65535", b"[::1]", b"[::1]:8000",
               b"xn--bcher-kva.example", b"a_b~c.example"]
HOSTILE_HOSTS = [
    b"evil.com@example.com",      # userinfo: the URL's host would be example.com... or evil.com
    b"example.com:80@evil.com",
    b"example.com/evil",          # a path
    b"example.com?x=1",           # a query
    b"example.com#frag",          # a fragment
    b"example.com\\evil.com",     # a backslash, which browsers read as "/"
    b"example.com\\@evil.com",
    b"exa mple.com",              # whitespace inside
    b"example.com:99999",         # port out of range
    b"example.com:http",          # port not a number
    b"example.com:-1",
    b"example.com:",              # an empty port
    b"example.com:80:80",
    b"example.com:" + b"0" * 5000 + b"80",  # in range, but past int()'s 4,300 digits: URL.port raised
    b"[::1",                      # unbalanced bracket
    b"[not-ipv6]",
    b"::1",                       # an IPv6 literal without brackets
    b"example.com\x7f",           # a control character
]


@pytest.mark.parametrize("host", VALID_HOSTS, ids=lambda host: host.decode())
def test_a_valid_host_builds_every_url(server: ServerURL, served: Target, host: bytes) -> None:
    with served.nothing_leaks():
        status, _, body = get_with_host(server, "/url", host)
    assert status == 200
    origin = f"http://{host.decode()}"
    assert body.decode() == f"{origin}/url|{origin}/|{origin}/url"


@pytest.mark.parametrize("host", HOSTILE_HOSTS, ids=lambda host: repr(host[:40]))
def test_a_hostile_host_never_becomes_the_urls_host(server: ServerURL, served: Target, host: bytes) -> None:
    """Ignored for the server's own address (what the client connected to), in every URL built."""
    with served.nothing_leaks():
        status, _, body = get_with_host(server, "/url", host)
    if status == 200:
        assert body.decode() == f"{server}/url|{server}/|{server}/url"
    else:  # the server itself refused it (uvicorn does, for some controls)
        assert status == 400 and b"evil" not in body


@pytest.mark.parametrize("hosts", [(b"example.com", b"evil.com"), (b"example.com", b"example.com")], ids=repr)
def test_more_than_one_host_header_is_ignored(server: ServerURL, served: Target, hosts: tuple[bytes, ...]) -> None:
    with served.nothing_leaks():
        status, _, body = get_with_host(server, "/url", *hosts)
    assert (status, body.decode()) == (200, f"{server}/url|{server}/|{server}/url")


def test_a_request_without_host_uses_the_servers_address(server: ServerURL, served: Target) -> None:
    with served.nothing_leaks():
        status, _, body = raw_exchange(server, b"GET /url HTTP/1.0\r\n\r\n")
    assert status == 200
    assert body.decode().startswith(server + "/url|")


@pytest.mark.parametrize("path", ["@evil.com", "@evil.com/x", "evil.com/x", "//evil.com/x", "http://evil.com/x",
                                  "\\\\evil.com/x", "/\\evil.com", "/\t/evil.com", "/\n/evil.com/x", "\r\n//evil.com"])
@pytest.mark.parametrize("headers", [[(b"host", b"good.example")], []], ids=["host", "no-host"])
def test_a_raw_path_never_becomes_the_host(path: str, headers: list[tuple[bytes, bytes]]) -> None:
    """Servers other than uvicorn may pass any path: it stays a path (the ASGI level; no server normalises it)."""
    url = URL(scope=http_scope(path=path, headers=headers, server=None))
    assert url.hostname == ("good.example" if headers else None)
    assert same_origin(str(url), "good.example")


def test_parse_host() -> None:
    assert parse_host("Example.com:8080") == ("Example.com", "8080")
    assert parse_host("[::1]:0") == ("[::1]", "0")
    assert parse_host("[v1.future]") == ("[v1.future]", None)
    assert parse_host("example.com") == ("example.com", None)
    assert valid_port("000080") and valid_port("65535") and not valid_port("65536") and not valid_port("9" * 50)
    for host in HOSTILE_HOSTS:
        parsed = parse_host(host.decode("latin-1"))
        assert parsed is None or not valid_port(parsed[1])


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/a?b#c", "/a%3Fb%23c"), ("/\\evil.com", "/%5Cevil.com"), ("@evil.com", "/@evil.com")],
)
def test_path_delimiters_stay_in_the_path(path: str, expected: str) -> None:
    url = URL(scope=http_scope(path=path, query_string=b"q=1", headers=[(b"host", b"good.example")]))
    assert (url.hostname, url.path, url.query) == ("good.example", expected, "q=1")


# ------------------------------------------------------------------ TrustedHostMiddleware


@pytest.mark.parametrize(
    ("hosts", "status"),
    [
        ((b"example.com",), 200),
        ((b"api.example.com:8443",), 200),
        ((b"evil.com",), 400),
        ((b"*.example.com",), 400),                   # the wildcard pattern sent literally
        ((b"*",), 400),
        ((b"example.com:abc",), 400),                 # a port that is not a number
        ((b"example.com:99999",), 200),              # a number, if out of range: the URL ignores it
        ((b"evil.com@example.com",), 400),
        ((b"api.example.com/x",), 400),
        ((b"example.com", b"example.com"), 400),      # more than one Host header, even when equal
        ((b"example.com", b"evil.com"), 400),
        ((), 400),
    ],
    ids=repr,
)
def test_trusted_host_validates(server: ServerURL, served: Target, hosts: tuple[bytes, ...], status: int) -> None:
    with served.nothing_leaks():
        got, _, body = get_with_host(server, "/trusted/x", *hosts)
    assert got == status
    if status == 400:
        assert body == b"Invalid host header"
    else:
        origin = server if hosts[0].endswith(b":99999") else f"http://{hosts[0].decode()}"  # bad port: ignored
        assert body == f"inner {origin}/trusted/x".encode()


# ------------------------------------------------------------------ no open redirects

REDIRECT_PATHS = ["//evil.com", "//evil.com/", "/\\evil.com", "/%5Cevil.com", "//evil.com%2F", "///evil.com",
                  "//user@evil.com", "/static/docs", "/static//docs", "/secure//evil.com", "/secure/\\evil.com"]


@pytest.mark.parametrize("path", REDIRECT_PATHS)
@pytest.mark.parametrize("host", [b"good.example", b"good.example:8000"])
def test_redirects_stay_on_the_origin(server: ServerURL, served: Target, path: str, host: bytes) -> None:
    """Slash redirects, StaticFiles' directory redirects and HTTPSRedirect, whatever the path."""
    with served.nothing_leaks():
        status, headers, _ = get_with_host(server, path, host)
    assert status in (200, 307, 404), (status, headers)
    if status == 307:
        assert same_origin(headers["location"], host.decode()), headers["location"]


@pytest.mark.parametrize("path", ["//evil.com", "/static/docs", "/secure/x", "/trusted/x"])
@pytest.mark.parametrize(
    "host", [b"evil.com@good.example", b"good.example\\evil.com", b"good.example:x", b"good.example:" + b"0" * 5000 + b"80"],
    ids=lambda host: repr(host[:40]),
)
def test_no_redirect_is_built_from_a_hostile_host(server: ServerURL, served: Target, path: str, host: bytes) -> None:
    """The redirect goes to the server's own address; TrustedHostMiddleware refuses the request outright."""
    with served.nothing_leaks():
        status, headers, _ = get_with_host(server, path, host)
    if path.startswith("/trusted"):
        assert status == 400 and "location" not in headers
    else:
        assert status == 307
        server_host = server.removeprefix("http://")
        location = headers["location"]
        assert same_origin(location.replace("https://", "http://"), server_host), location


@pytest.mark.parametrize(
    "path", ["//evil.com", "/\\evil.com", "///evil.com/", "/static/docs", "/secure/x", "/\t/evil.com", "/\r\n/evil.com/x"]
)
def test_redirects_without_any_host(local: Target, path: str) -> None:
    """No Host header and no server address (a bare ASGI server): never a scheme-relative Location."""
    with local.nothing_leaks():
        messages = call_app(app, http_scope(path=path, server=None))
    start = messages[0]
    assert start["type"] == "http.response.start"
    assert start["status"] in (200, 307, 400, 404)
    location = dict(start["headers"]).get(b"location")
    if start["status"] == 307:
        assert location is not None and same_origin(location.decode(), "")
    else:
        assert location is None


@pytest.mark.parametrize("path", ["/\t/evil.com", "/\n/evil.com/x", "/\r\n/evil.com"])
def test_https_redirect_without_any_host_never_reads_the_path_as_one(path: str) -> None:
    """Tab, CR and LF (``/%09/evil.com`` decoded) are escaped, not dropped as ``urlsplit`` and browsers drop them:
    the path once read as ``//evil.com``, so the redirect went to ``https://evil.com``."""
    messages = call_app(HTTPSRedirectMiddleware(PlainTextResponse("inner")), http_scope(path=path, server=None))
    start = messages[0]
    assert start["type"] == "http.response.start"
    assert (start["status"], dict(start["headers"]).get(b"location")) == (400, None)


@pytest.mark.parametrize("value", ["\t/evil.com", "\n/evil.com", "\r\n/evil.com", "\\evil.com", "/evil.com"])
def test_url_path_for_never_starts_a_path_a_browser_reads_as_a_host(value: str) -> None:
    """A ``{rest:path}`` value at the start of the path: browsers drop tab, CR and LF in a link's URL and read a
    backslash as ``/``, so each is escaped (and a leading ``//`` broken) where the path is built."""
    router = Router([Route("/{rest:path}", PlainTextResponse("x"), name="rest")])
    path = router.url_path_for("rest", rest=value)
    assert same_origin(path, "") and path.endswith("evil.com"), path


@pytest.fixture(scope="module")
def unix_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerURL]:
    """The suite's app on uvicorn over a unix socket: its scope's ``server`` is ``[socket path, None]``."""
    socket_path = tmp_path_factory.mktemp("uds") / "app.sock"
    with running_server("tests.hostile.app:app", command="uvicorn", uds=socket_path, args=("--log-level", "warning")) as base:
        yield base


@pytest.mark.parametrize(
    ("path", "status", "location"),
    [(b"/dir", 307, "/dir/"), (b"/static/docs", 307, "/static/docs/"), (b"/%09/evil.com", 307, "/%09/evil.com/"),
     (b"/secure/x", 400, None), (b"/url", 200, None)],
)
def test_a_unix_socket_is_no_host(
    unix_server: ServerURL, path: bytes, status: int, location: str | None
) -> None:
    """Without a Host, a unix socket's path is not the URL's authority: ``http:///run/app.sock/dir/`` sends a
    browser to the host ``run``. The URLs are paths, as with no server address at all."""
    got, headers, body = raw_exchange(unix_server, b"GET " + path + b" HTTP/1.0\r\n\r\n")
    assert (got, headers.get("location")) == (status, location), body
    if path == b"/url":
        assert body == b"/url|/|/url"
    assert raw_exchange(unix_server, b"GET /url HTTP/1.0\r\nHost: good.example\r\n\r\n")[2] == (
        b"http://good.example/url|http://good.example/|http://good.example/url"
    )


@pytest.mark.parametrize(
    ("proto", "dir_location", "secure"),
    [(b"ws", "http://good.example/dir/", (307, "https://good.example/secure/x")),
     (b"wss", "https://good.example/dir/", (200, None)),
     (b"javascript", "http://good.example/dir/", (307, "https://good.example/secure/x"))],
)
def test_x_forwarded_proto_of_the_other_protocol(
    server: ServerURL, served: Target, proto: bytes, dir_location: str, secure: tuple[int, str | None]
) -> None:
    """The suite's server trusts proxy headers from 127.0.0.1, and uvicorn puts ``ws``/``wss`` into an HTTP
    request's scope as sent: a redirect must still be to http(s), which a browser can follow."""
    forwarded = b"X-Forwarded-Proto: " + proto + b"\r\n"
    with served.nothing_leaks():
        head = b"GET %s HTTP/1.1\r\nHost: good.example\r\n" + forwarded + b"Connection: close\r\n\r\n"
        status, headers, _ = raw_exchange(server, head % b"/dir")
        assert (status, headers["location"]) == (307, dir_location)
        status, headers, _ = raw_exchange(server, head % b"/secure/x")
        assert (status, headers.get("location")) == secure
        origin = dir_location.partition("/dir")[0]
        assert raw_exchange(server, head % b"/url")[2].decode() == f"{origin}/url|{origin}/|{origin}/url"


def test_https_redirect_keeps_the_validated_host(server: ServerURL) -> None:
    status, headers, _ = get_with_host(server, "/secure/a?b=1", b"good.example:80")
    assert (status, headers["location"]) == (307, "https://good.example/secure/a?b=1")


@pytest.mark.parametrize(
    ("hosts", "answer"),
    [
        ([b"a.example.org"], b"tenant a"),
        ([b"A.Example.org:8000"], b"tenant a"),
        ([b"a.example.org", b"b.example.org"], b"no tenant"),  # two Hosts: which one would a proxy have acted on?
        ([b"a.example.org", b"a.example.org"], b"no tenant"),
        ([b"a.example.org:99999"], b"tenant a"),  # the port is not read, as in Starlette (its suite asserts it)
        ([b"a.example.org@evil.com"], b"no tenant"),
    ],
    ids=repr,
)
def test_a_repeated_or_malformed_host_picks_no_host_route(hosts: list[bytes], answer: bytes) -> None:
    """A Host route reads the Host as request.url does: a repeated or malformed Host picks no host's routes."""

    async def tenant(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"tenant {request.path_params['tenant']}")

    tenants = Router(routes=[Route("/", tenant)])
    app = Router(routes=[Host("{tenant}.example.org", app=tenants), Route("/", PlainTextResponse("no tenant"))])
    messages = call_app(app, http_scope(headers=[(b"host", host) for host in hosts]))
    assert messages[1].get("body") == answer
