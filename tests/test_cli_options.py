"""``typedasgi run``: what it refuses before serving (one clear line, non-zero exit) and the uvicorn options it passes."""

from __future__ import annotations

import asyncio
import functools
import http.client
import json
import ssl
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support import ROOT, ServerFactory
from typedasgi.applications import TypedASGI
from typedasgi.cli_app import AppNotFound, check_asgi_app
from typedasgi.types import Receive, Scope, Send

APPS = '''
import os
from typedasgi.applications import TypedASGI
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse

items = [1, 2]


def handler(request):
    return None


class Thing:
    def __init__(self, name: str) -> None:
        self.name = name


async def where(request: Request) -> JSONResponse:
    client = request.client.host if request.client else None
    return JSONResponse({
        "root_path": request.scope["root_path"], "scheme": request.url.scheme, "client": client,
        "message": os.environ.get("CLI_TEST_MESSAGE"),
    })


async def echo(websocket) -> None:
    await websocket.accept()
    while True:
        await websocket.send_text(await websocket.receive_text())


app = TypedASGI()
app.add_route("/where", where)
app.add_websocket_route("/echo", echo)


def create() -> TypedASGI:
    print("factory called", flush=True)
    built = TypedASGI()
    built.add_route("/where", where)
    return built
'''


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    (tmp_path / "cliapps.py").write_text(APPS)
    return tmp_path


def typedasgi(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "typedasgi", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--port", "70000"), 2, "70000 is outside 0-65535"),
        (("--port", "-1"), 2, "-1 is outside 0-65535"),
        (("--port", "http"), 2, "'http' is not a port number"),
        (("--workers", "0"), 2, "0 is not at least 1"),
        (("--app-dir", "/no/such/dir"), 2, "--app-dir '/no/such/dir' is not a directory"),
        (("--env-file", "/no/such/.env"), 2, "--env-file '/no/such/.env' is not a file"),
        (("--ssl-keyfile", "/no/key.pem"), 2, "--ssl-keyfile '/no/key.pem' is not a file"),
        (("--ws-max-size", "0"), 2, "0 is not at least 1"),
        (("--limit-concurrency", "many"), 2, "'many' is not a whole number"),
        (("--timeout-keep-alive", "-5"), 2, "-5 is not at least 1"),
    ],
)
def test_bad_options_are_refused_before_serving(app_dir: Path, args: tuple[str, ...], code: int, message: str) -> None:
    result = typedasgi("run", "cliapps:app", "--app-dir", app_dir, *args)
    assert result.returncode == code
    assert message in result.stderr
    assert "Uvicorn running" not in result.stderr


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("cliapps:items", "cliapps:items is a list, not an app"),
        ("cliapps:handler", "cliapps:handler takes 1 argument, not (scope, receive, send)"),
        ("cliapps:Thing", "cliapps:Thing is a class, not an app: serve an instance of it, or --factory"),
        ("cliapps:missing", "module 'cliapps' has no attribute 'missing'"),
        ("nosuchmodule:app", "no module 'nosuchmodule'"),
    ],
)
def test_what_is_not_an_asgi_app_is_refused_before_serving(app_dir: Path, target: str, message: str) -> None:
    result = typedasgi("run", target, "--app-dir", app_dir, "--port", "0")
    assert result.returncode == 1
    assert f"typedasgi run: {message}" in result.stderr
    assert "Uvicorn running" not in result.stderr


def test_version() -> None:
    result = typedasgi("--version")
    assert (result.returncode, result.stdout.strip()) == (0, "typedasgi 0.1.0")


async def asgi3(scope: Scope, receive: Receive, send: Send) -> None:
    return None


class Asgi2:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    async def __call__(self, receive: Receive, send: Send) -> None:
        return None


def sync_three(scope: Scope, receive: Receive, send: Send) -> None:
    return None


def builder() -> TypedASGI:
    return TypedASGI()


@pytest.mark.parametrize(
    "app", [TypedASGI(), asgi3, functools.partial(asgi3), Asgi2], ids=["TypedASGI", "function", "partial", "asgi2-class"]
)
def test_asgi_apps_pass_the_check(app: object) -> None:
    check_asgi_app(app, "app")


@pytest.mark.parametrize(
    ("app", "message"),
    [
        (sync_three, "app is not async"),
        (builder, "app takes 0 arguments, not (scope, receive, send): an ASGI app is an async callable taking "
                  "(scope, receive, send) (if calling it builds the app, add --factory)"),
        ({"a": 1}, "app is a dict, not an app"),
        (TypedASGI, "app is a class, not an app"),
    ],
)
def test_other_objects_fail_the_check_saying_why(app: object, message: str) -> None:
    with pytest.raises(AppNotFound) as failure:
        check_asgi_app(app, "app")
    assert str(failure.value).startswith(message)


def get_json(url: str, headers: dict[str, str] | None = None, context: ssl.SSLContext | None = None) -> object:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10, context=context) as response:
        return json.loads(response.read())


def test_factory_root_path_and_env_file_reach_the_app(serve: ServerFactory, app_dir: Path) -> None:
    env_file = app_dir / "test.env"
    env_file.write_text("CLI_TEST_MESSAGE=from the env file\n")
    args = ("--factory", "--root-path", "/api", "--env-file", str(env_file))
    with serve("cliapps:create", args=args, app_dir=app_dir) as base:
        answer = get_json(base + "/where")
        log = base.log()
    assert answer == {"root_path": "/api", "scheme": "http", "client": "127.0.0.1", "message": "from the env file"}
    assert log.count("factory called") == 1  # checked before serving, and not built twice


def test_workers_import_the_app_from_app_dir_and_serve_it(serve: ServerFactory, app_dir: Path) -> None:
    env_file = app_dir / "test.env"
    env_file.write_text("CLI_TEST_MESSAGE=to every worker\n")
    args = ("--workers", "2", "--factory", "--env-file", str(env_file))
    with serve("cliapps:create", args=args, app_dir=app_dir) as base:
        answer = get_json(base + "/where")
    assert answer == {"root_path": "", "scheme": "http", "client": "127.0.0.1", "message": "to every worker"}


@pytest.mark.parametrize("trusted", [True, False], ids=["proxy-headers", "no-proxy-headers"])
def test_proxy_headers_from_allowed_addresses(serve: ServerFactory, app_dir: Path, trusted: bool) -> None:
    args = ("--proxy-headers", "--forwarded-allow-ips", "127.0.0.1") if trusted else ("--no-proxy-headers",)
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    with serve("cliapps:app", args=args, app_dir=app_dir) as base:
        answer = get_json(base + "/where", headers=forwarded)
    assert isinstance(answer, dict)
    expected = ("203.0.113.7", "https") if trusted else ("127.0.0.1", "http")
    assert (answer["client"], answer["scheme"]) == expected


def self_signed(folder: Path) -> tuple[Path, Path]:
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    return key, cert


def test_tls_options_serve_https(serve: ServerFactory, app_dir: Path) -> None:
    key, cert = self_signed(app_dir)
    args = ("--ssl-keyfile", str(key), "--ssl-certfile", str(cert))
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False
    with serve("cliapps:app", args=args, app_dir=app_dir) as base:
        answer = get_json(base.replace("http://", "https://") + "/where", context=context)
    assert isinstance(answer, dict) and answer["scheme"] == "https"


def test_tls_needs_both_files(app_dir: Path) -> None:
    key, _ = self_signed(app_dir)
    result = typedasgi("run", "cliapps:app", "--app-dir", app_dir, "--ssl-keyfile", key)
    assert result.returncode == 2 and "TLS needs both --ssl-keyfile and --ssl-certfile" in result.stderr



def test_ws_max_size_closes_on_a_bigger_message(serve: ServerFactory, app_dir: Path) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    async def talk(ws_base: str) -> tuple[str, int | None]:
        async with connect(ws_base + "/echo", max_size=None) as ws:
            await ws.send("a" * 500)
            echoed = str(await asyncio.wait_for(ws.recv(), 10))
            await ws.send("b" * 2000)
            try:
                await asyncio.wait_for(ws.recv(), 10)
            except ConnectionClosed as closed:
                return echoed, closed.rcvd.code if closed.rcvd is not None else None
            return echoed, None

    with serve("cliapps:app", args=("--ws-max-size", "1024"), app_dir=app_dir) as base:
        echoed, code = asyncio.run(talk(base.replace("http://", "ws://")))
    assert echoed == "a" * 500 and code == 1009  # 1009: message too big


def test_limit_concurrency_answers_503_past_it(serve: ServerFactory, app_dir: Path) -> None:
    with serve("cliapps:app", args=("--limit-concurrency", "1"), app_dir=app_dir) as base:  # the connection itself is one
        with pytest.raises(urllib.error.HTTPError) as refused:
            get_json(base + "/where")
    assert refused.value.code == 503


def test_timeout_keep_alive_closes_an_idle_connection(serve: ServerFactory, app_dir: Path) -> None:
    with serve("cliapps:app", args=("--timeout-keep-alive", "1"), app_dir=app_dir) as base:
        host, port = base.removeprefix("http://").rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", "/where")
        assert connection.getresponse().read()
        assert connection.sock is not None
        connection.sock.settimeout(4)  # past the 1 s asked for, within uvicorn's default 5 s
        assert connection.sock.recv(1) == b""  # the server closed the idle connection
        connection.close()
