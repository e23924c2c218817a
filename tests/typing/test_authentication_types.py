"""What mypy sees of the authentication API (this module is type-checked with the tree).

``requires`` must hand back the endpoint's own signature (a ``ParamSpec``):
``assert_type`` cannot compare named callables, so the checks go through calls,
keyword names and assignments. The second half runs mypy on snippets that must
*fail*, so a loosened type (``Any`` creeping in) fails this test.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from mypy import api
from typing_extensions import assert_type

from typedasgi.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    BaseUser,
    SimpleUser,
    has_required_scope,
    requires,
)
from typedasgi.middleware import Middleware
from typedasgi.middleware.authentication import AuthenticationMiddleware
from typedasgi.requests import HTTPConnection, Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.websockets import WebSocket

ROOT = Path(__file__).resolve().parents[2]


@requires("authenticated")
async def async_endpoint(request: Request, *, page: int = 1) -> Response:
    return PlainTextResponse(str(page))


@requires(["a", "b"], status_code=404)
def sync_endpoint(request: Request) -> PlainTextResponse:
    return PlainTextResponse("")


@requires("chat")
async def websocket_endpoint(websocket: WebSocket) -> None:
    await websocket.close()


class Backend:
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        return AuthCredentials(["a"]), SimpleUser("x")


async def check_requires_keeps_signatures(request: Request, websocket: WebSocket) -> None:
    assert_type(await async_endpoint(request), Response)
    assert_type(await async_endpoint(request=request, page=2), Response)
    assert_type(sync_endpoint(request), PlainTextResponse)
    assert_type(await websocket_endpoint(websocket), None)
    as_callable: Callable[[Request], Coroutine[Any, Any, Response]] = async_endpoint
    del as_callable


async def check_values(conn: HTTPConnection) -> None:
    assert_type(AuthCredentials().scopes, list[str])
    assert_type(SimpleUser("a").display_name, str)
    assert_type(SimpleUser("a").is_authenticated, bool)
    assert_type(has_required_scope(conn, ["a"]), bool)
    backend: AuthenticationBackend = Backend()  # structural: no base class needed
    assert_type(await backend.authenticate(conn), tuple[AuthCredentials, BaseUser] | None)
    Middleware(AuthenticationMiddleware, backend=Backend())


FAILING = '''
from typedasgi.authentication import AuthCredentials, AuthenticationBackend, BaseUser, requires
from typedasgi.middleware import Middleware
from typedasgi.middleware.authentication import AuthenticationMiddleware
from typedasgi.requests import HTTPConnection, Request
from typedasgi.responses import Response
from typedasgi.websockets import WebSocket


@requires("a")
async def endpoint(request: Request, *, page: int = 1) -> Response:
    raise NotImplementedError


class WrongBackend:
    async def authenticate(self, conn: HTTPConnection) -> str:
        return "x"


class Unfinished(AuthenticationBackend):
    pass


async def main(request: Request, websocket: WebSocket) -> None:
    await endpoint(websocket)  # E: arg-type
    await endpoint(request, page="2")  # E: arg-type
    await endpoint(request, size=2)  # E: call-arg
    x: int = await endpoint(request)  # E: assignment
    requires(1)  # E: arg-type
    Middleware(AuthenticationMiddleware, backend=WrongBackend())  # E: arg-type
    Unfinished()  # E: abstract
'''


def test_misuse_is_rejected_by_mypy(tmp_path: Path) -> None:
    source = textwrap.dedent(FAILING)
    snippet = tmp_path / "auth_misuse.py"
    snippet.write_text(source)
    expected = {
        number: line.rsplit("# E: ", 1)[1].strip()
        for number, line in enumerate(source.splitlines(), start=1)
        if "# E: " in line
    }
    stdout, stderr, _ = api.run(["--config-file", str(ROOT / "mypy.ini"), "--no-error-summary", str(snippet)])
    assert not stderr, stderr
    found: dict[int, set[str]] = {}
    for line in stdout.splitlines():
        path, _, rest = line.partition(":")
        if Path(path).name == snippet.name and ": error: " in rest:  # mypy may name a cached copy's path
            number = int(rest.split(":", 1)[0])
            found.setdefault(number, set()).add(line.rsplit("[", 1)[1].rstrip("]"))
    assert found == {number: {code} for number, code in expected.items()}, stdout
