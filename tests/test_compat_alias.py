"""The import hook that ``dev.py compat --third-party`` runs third-party packages with.

Its figures mean something only if ``import starlette.x`` really gives
typedasgi's module (the same object, so patches and ``isinstance`` agree) and
never Starlette's, which this environment also has installed. It runs in a
subprocess so the hook does not touch this test session's imports.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import compat.starlette_alias
import starlette
import starlette.middleware.cors as cors
from starlette.responses import JSONResponse
from starlette.testclient import TestClient
import typedasgi, typedasgi.middleware.cors, typedasgi.responses

import importlib.metadata
assert starlette.__version__ == importlib.metadata.version("starlette") != typedasgi.__version__
assert starlette.middleware is typedasgi.middleware and starlette.__file__ == typedasgi.__file__
assert cors is typedasgi.middleware.cors
assert JSONResponse is typedasgi.responses.JSONResponse
assert sys.modules["starlette.responses"] is typedasgi.responses
try:
    import starlette._utils
except ModuleNotFoundError as error:
    print("missing:", error.name)

async def app(scope, receive, send):
    await JSONResponse({"via": JSONResponse.__module__})(scope, receive, send)

print(TestClient(app).get("/").json()["via"])
"""


def test_starlette_imports_resolve_to_typedasgi_modules() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import sys\n" + PROBE], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["missing: starlette._utils", "typedasgi.responses"]
