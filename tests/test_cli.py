"""The CLI and the example app behind a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support import ROOT, ServerFactory, http_get


def test_typedasgi_run_serves_the_example_app(serve: ServerFactory) -> None:
    with serve("examples.hello:app") as base:
        status, headers, body = http_get(base + "/")
        assert status == 200
        assert headers["content-type"] == "application/json"
        assert json.loads(body) == {"hello": "world"}
        status, _, body = http_get(base + "/hello/ada")
        assert (status, body) == (200, b"Hello, ada!")
        status, _, body = http_get(base + "/missing")
        assert (status, body) == (404, b"Not Found")


def test_plain_uvicorn_serves_a_typedasgi_app(serve: ServerFactory) -> None:
    with serve("examples.hello:app", command="uvicorn") as base:
        assert http_get(base + "/")[0] == 200


def test_python_dash_m_shows_usage() -> None:
    result = subprocess.run([sys.executable, "-m", "typedasgi", "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert "run" in result.stdout


def test_missing_standard_extra_is_named() -> None:
    code = "import sys; sys.modules['uvicorn'] = None; from typedasgi.cli import run; sys.exit(run(['run', 'examples.hello:app']))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert result.returncode == 1
    assert "pip install 'typedasgi[standard]'" in result.stderr


def test_bad_app_spec_is_a_usage_error() -> None:
    result = subprocess.run([sys.executable, "-m", "typedasgi", "run", "nocolon"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "MODULE:ATTRIBUTE" in result.stderr
