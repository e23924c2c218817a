"""StaticFiles: serving, conditional requests, html mode, packages, and hostile paths."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.exceptions import HTTPException
from typedasgi.responses import Response
from typedasgi.routing import Mount
from typedasgi.staticfiles import PathLike, StaticFiles
from typedasgi.types import HTTPScope
from typedasgi.testclient import TestClient

from tests.support import call_app, http_scope


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """static/ (served) beside outside/ (must never be served)."""
    static = tmp_path / "static"
    (static / "sub").mkdir(parents=True)
    (static / "empty_dir").mkdir()
    (static / "hello.txt").write_text("hello, world")
    (static / "style.css").write_text("body { color: red }")
    (static / "sub" / "index.html").write_text("<h1>sub index</h1>")
    (static / "sub" / "page.txt").write_text("page")
    (static / "404.html").write_text("<h1>custom not found</h1>")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("TOP SECRET")
    (static / "link_out").symlink_to(outside / "secret.txt")
    (static / "dir_out").symlink_to(outside, target_is_directory=True)
    (static / "link_in").symlink_to(static / "hello.txt")
    os.mkfifo(static / "fifo")
    return tmp_path


def make_app(directory: Path, *, html: bool = False, follow_symlink: bool = False) -> TypedASGI:
    files = StaticFiles(directory=directory, html=html, follow_symlink=follow_symlink)
    return TypedASGI(routes=[Mount("/static", app=files, name="static")])


@pytest.fixture
def client(tree: Path) -> Iterator[TestClient]:
    with TestClient(make_app(tree / "static")) as client:
        yield client


@pytest.fixture
def html_client(tree: Path) -> Iterator[TestClient]:
    with TestClient(make_app(tree / "static", html=True), follow_redirects=False) as client:
        yield client


def raw_request(app: TypedASGI, path: str, method: str = "GET") -> tuple[int, bytes]:
    """Send ``path`` exactly as given (HTTP clients would normalise ``..`` away)."""
    scope = http_scope(
        method,
        path,
        raw_path=path.encode("utf-8", "surrogateescape"),
        headers={"host": "testserver"},
        client=("127.0.0.1", 1234),
        server=("testserver", 80),
        extensions={},
    )
    sent = call_app(app, scope)
    status = next(message["status"] for message in sent if message["type"] == "http.response.start")
    body = b"".join(message["body"] for message in sent if message["type"] == "http.response.body")
    return status, body


# ------------------------------------------------------------------ serving


def test_serves_a_file_with_validators(client: TestClient) -> None:
    response = client.get("/static/hello.txt")
    assert response.status_code == 200
    assert response.text == "hello, world"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-length"] == "12"
    assert "etag" in response.headers and "last-modified" in response.headers
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")
    assert client.get("/static/sub/page.txt").text == "page"
    assert client.get("/static/link_in").text == "hello, world"  # a symlink that stays inside


def test_head_sends_headers_only(client: TestClient) -> None:
    response = client.head("/static/hello.txt")
    assert response.status_code == 200
    assert response.headers["content-length"] == "12"
    assert response.content == b""


def test_conditional_requests_and_ranges(client: TestClient) -> None:
    first = client.get("/static/hello.txt")
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get("/static/hello.txt", headers={"if-none-match": etag}).status_code == 304
    assert client.get("/static/hello.txt", headers={"if-modified-since": last_modified}).status_code == 304
    assert client.get("/static/hello.txt", headers={"if-none-match": '"other"'}).status_code == 200
    partial = client.get("/static/hello.txt", headers={"range": "bytes=0-4"})
    assert partial.status_code == 206
    assert partial.text == "hello"


def test_other_methods_are_405_with_allow(client: TestClient) -> None:
    response = client.post("/static/hello.txt")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert client.get("/static/hello.txt").status_code == 200


def test_missing_files_and_directories_are_404(client: TestClient) -> None:
    assert client.get("/static/nope.txt").status_code == 404
    assert client.get("/static/sub").status_code == 404  # a directory, without html mode
    assert client.get("/static/hello.txt/more").status_code == 404
    assert client.get("/static/fifo").status_code == 404  # not a regular file: never opened


def test_url_for_the_mount(client: TestClient, tree: Path) -> None:
    app = make_app(tree / "static")
    assert app.url_path_for("static", path="/hello.txt") == "/static/hello.txt"


# ---------------------------------------------------------------- html mode


def test_html_mode_serves_index_and_redirects_to_the_slash(html_client: TestClient) -> None:
    redirect = html_client.get("/static/sub?x=1")
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "http://testserver/static/sub/?x=1"
    index = html_client.get("/static/sub/")
    assert index.status_code == 200
    assert index.text == "<h1>sub index</h1>"
    assert index.headers["content-type"].startswith("text/html")


def test_html_mode_serves_the_404_page(html_client: TestClient, tree: Path) -> None:
    for path in ("/static/nope.txt", "/static/empty_dir/", "/static/%2e%2e/outside/secret.txt"):
        response = html_client.get(path)
        assert response.status_code == 404
        assert response.text == "<h1>custom not found</h1>"
    app = make_app(tree / "static", html=True)
    assert raw_request(app, "/static/../outside/secret.txt") == (404, b"<h1>custom not found</h1>")


def test_html_mode_without_a_404_page(tree: Path) -> None:
    (tree / "static" / "404.html").unlink()
    with TestClient(make_app(tree / "static", html=True)) as client:
        assert client.get("/static/nope").status_code == 404
        assert client.get("/static/sub/").text == "<h1>sub index</h1>"


# ------------------------------------------------------------- configuration


def test_check_dir(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        StaticFiles(directory=tmp_path / "missing")
    lazy = StaticFiles(directory=tmp_path / "missing", check_dir=False)
    app = TypedASGI(routes=[Mount("/static", app=lazy)])
    with TestClient(app) as client, pytest.raises(RuntimeError, match="does not exist"):
        client.get("/static/x")
    (tmp_path / "missing").mkdir()
    (tmp_path / "missing" / "x").write_text("now here")
    with TestClient(app) as client:
        assert client.get("/static/x").text == "now here"


def test_needs_a_directory_or_packages() -> None:
    with pytest.raises(ValueError, match="directory or packages"):
        StaticFiles()


def test_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "pkgroot" / "sf_test_pkg"
    (package / "statics").mkdir(parents=True)
    (package / "assets").mkdir()
    (package / "__init__.py").write_text("")
    (package / "statics" / "p.txt").write_text("from statics")
    (package / "assets" / "a.txt").write_text("from assets")
    monkeypatch.syspath_prepend(str(tmp_path / "pkgroot"))
    monkeypatch.delitem(sys.modules, "sf_test_pkg", raising=False)
    static = tmp_path / "own"
    static.mkdir()
    (static / "p.txt").write_text("own wins")
    files = StaticFiles(directory=static, packages=["sf_test_pkg", ("sf_test_pkg", "assets")])
    with TestClient(TypedASGI(routes=[Mount("/s", app=files)])) as client:
        assert client.get("/s/p.txt").text == "own wins"  # the directory comes first
        assert client.get("/s/a.txt").text == "from assets"
        assert client.get("/s/__init__.py").status_code == 404  # only the statics folders are served
    with pytest.raises(RuntimeError, match="not installed"):
        StaticFiles(packages=["no_such_package_for_sure"])
    with pytest.raises(RuntimeError, match="could not be found"):
        StaticFiles(packages=[("sf_test_pkg", "nothing")])


def test_follow_symlink_serves_links_leading_out(tree: Path) -> None:
    app = make_app(tree / "static", follow_symlink=True)
    assert raw_request(app, "/static/link_out") == (200, b"TOP SECRET")
    assert raw_request(app, "/static/dir_out/secret.txt") == (200, b"TOP SECRET")
    assert raw_request(app, "/static/../outside/secret.txt")[0] == 404  # '..' is still refused


# -------------------------------------------------------------- hostile paths

HOSTILE = [
    "/static/../outside/secret.txt",
    "/static/sub/../../outside/secret.txt",
    "/static/sub/../hello.txt",
    "/static/..",
    "/static/%2e%2e/outside/secret.txt",  # left encoded by a server that does not decode
    "/static/%252e%252e/outside/secret.txt",
    "/static/..%2foutside%2fsecret.txt",
    "/static/..\\outside\\secret.txt",
    "/static/..%5coutside%5csecret.txt",
    "/static/hello.txt\x00.png",
    "/static/%00",
    "/static/link_out",
    "/static/dir_out/secret.txt",
    "/static//etc/passwd",
    "/static/" + "a" * 5000,
    "/static/" + "x/" * 2000 + "y",
    "/static/fifo",
]


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_paths_are_4xx_and_the_next_request_succeeds(tree: Path, path: str) -> None:
    app = make_app(tree / "static")
    status, body = raw_request(app, path)
    assert 400 <= status < 500, (status, body)
    assert b"SECRET" not in body
    assert raw_request(app, "/static/hello.txt") == (200, b"hello, world")


def test_absolute_path_of_an_outside_file(tree: Path) -> None:
    app = make_app(tree / "static")
    status, body = raw_request(app, "/static/" + str(tree / "outside" / "secret.txt"))
    assert status == 404 and b"SECRET" not in body


def test_hostile_paths_through_the_test_client(client: TestClient) -> None:
    for path in ("/static/%2e%2e/outside/secret.txt", "/static/..%2Foutside/secret.txt", "/static/x%00y"):
        response = client.get(path)
        assert response.status_code == 404
        assert "SECRET" not in response.text
        assert client.get("/static/hello.txt").status_code == 200


def test_alone_or_inside_another_framework_missing_files_are_404_not_500(tmp_path: Path) -> None:
    from typedasgi.testclient import TestClient as _Client
    from typedasgi.types import Receive as _Receive
    from typedasgi.types import Scope as _Scope
    from typedasgi.types import Send as _Send

    (tmp_path / "a.txt").write_text("a")
    static = StaticFiles(directory=tmp_path)

    class ForeignApp:  # another framework: sets scope["app"] to itself, knows nothing of our exceptions
        async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
            scope["app"] = self  # type: ignore[typeddict-unknown-key]  # what foreign frameworks do
            await static(scope, receive, send)

    for app in (static, ForeignApp()):
        client = _Client(app)
        assert client.get("/a.txt").text == "a"
        assert client.get("/missing.txt").status_code == 404
        assert client.post("/a.txt").status_code == 405


# -- Starlette's override points: get_path, lookup_path, check_config, get_response, file_response, is_not_modified


@pytest.mark.parametrize(
    "path", ["/../outside/secret.txt", "/sub/../../outside/secret.txt", "/dir_out/secret.txt", "/link_out", "/%2e%2e/x"]
)
def test_get_path_then_get_response_never_leaves_the_directory(tree: Path, path: str) -> None:
    static = StaticFiles(directory=tree / "static")
    with pytest.raises(HTTPException) as caught:
        asyncio.run(static.get_response(static.get_path(http_scope(path=path)), http_scope(path=path)))
    assert caught.value.status_code == 404


@pytest.mark.parametrize("path", ["/etc/passwd", "\\\\server\\share", "../outside/secret.txt", "a\x00b", "dir_out/secret.txt"])
def test_lookup_path_refuses_with_an_empty_result(tree: Path, path: str) -> None:
    assert StaticFiles(directory=tree / "static").lookup_path(path) == ("", None)


def test_lookup_path_finds_a_file_with_its_stat(tree: Path) -> None:
    full, stat_result = StaticFiles(directory=tree / "static").lookup_path("sub/page.txt")
    assert full == str((tree / "static" / "sub" / "page.txt").resolve())
    assert stat_result is not None and stat_result.st_size == len("page")


def test_a_path_longer_than_any_file_system_takes_is_refused_unread(
    tree: Path, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resolving a path costs a look-up per segment on an ever longer string: a 64 KB URL of ``a/a/...``
    took 0.14 s of CPU. No file system opens a path over 4,096 characters, so one is refused at once."""
    real_lstat, real_stat = os.lstat, os.stat
    touched: list[str] = []

    def lstat(path: str, *args: Any, **kwargs: Any) -> os.stat_result:
        touched.append(path)
        return real_lstat(path, *args, **kwargs)

    def stat(path: str, *args: Any, **kwargs: Any) -> os.stat_result:
        touched.append(path)
        return real_stat(path, *args, **kwargs)

    files = StaticFiles(directory=tree / "static")
    monkeypatch.setattr(os, "lstat", lstat)  # what os.path.realpath resolves each segment with
    monkeypatch.setattr(os, "stat", stat)
    assert files.lookup_path("a/" * 2049) == ("", None)
    assert touched == []
    assert files.lookup_path("a/" * 2047 + "b")[1] is None and touched  # up to the limit, the disk is asked
    monkeypatch.undo()
    assert client.get("/static/" + "a/" * 3000).status_code == 404
    assert client.get("/static/hello.txt").text == "hello, world"


def test_config_is_checked_once_through_the_overridable_check(tree: Path) -> None:
    calls: list[None] = []

    class Counting(StaticFiles):
        async def check_config(self) -> None:
            calls.append(None)
            await super().check_config()

    static = Counting(directory=tree / "static")
    assert static.config_checked is False
    client = TestClient(static)
    assert client.get("/hello.txt").status_code == 200
    assert client.get("/missing").status_code == 404
    assert (static.config_checked, len(calls)) == (True, 1)


def test_an_unreadable_entry_is_401_and_overrides_shape_responses(tree: Path) -> None:
    class Custom(StaticFiles):
        def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
            if path == "locked.txt":
                raise PermissionError(path)
            return super().lookup_path(path)

        def file_response(
            self, full_path: PathLike, stat_result: os.stat_result, scope: HTTPScope, status_code: int = 200
        ) -> Response:
            response = super().file_response(full_path, stat_result, scope, status_code)
            response.headers["x-served-by"] = "custom"
            return response

        def is_not_modified(self, response_headers: Mapping[str, str], request_headers: Mapping[str, str]) -> bool:
            return request_headers.get("x-client-has") == "it" or super().is_not_modified(response_headers, request_headers)

    client = TestClient(TypedASGI(routes=[Mount("/static", app=Custom(directory=tree / "static"))]))
    assert (client.get("/static/locked.txt").status_code, client.get("/static/locked.txt").text) == (401, "Unauthorized")
    served = client.get("/static/hello.txt")
    assert (served.status_code, served.headers["x-served-by"]) == (200, "custom")
    cached = client.get("/static/hello.txt", headers={"x-client-has": "it"})
    assert (cached.status_code, cached.content, cached.headers["etag"]) == (304, b"", served.headers["etag"])
    assert client.get("/static/hello.txt", headers={"if-none-match": '"foo,*,bar"'}).status_code == 200
