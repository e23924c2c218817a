"""A plain ``pip install typedasgi``: files are served without any extra, and each feature that needs an extra
fails where it is set up (construction, registration, start-up) with the extra's name, never per request.

Each check runs in a fresh interpreter whose imports of the extras' packages are blocked (a ``sys.meta_path``
finder), as if they were not installed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.support import ROOT

BLOCK_EXTRAS = """
import sys

EXTRAS = {"aiofiles", "jinja2", "python_multipart", "multipart", "httpx2", "uvicorn"}


class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in EXTRAS:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled())
"""


def run_without_extras(code: str) -> subprocess.CompletedProcess[str]:
    script = BLOCK_EXTRAS + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


def test_file_response_and_static_files_need_no_extra() -> None:
    result = run_without_extras(
        """
        import tempfile, pathlib
        from tests.support import call_app, http_scope
        from typedasgi.responses import FileResponse
        from typedasgi.staticfiles import StaticFiles

        folder = pathlib.Path(tempfile.mkdtemp())
        (folder / "page.txt").write_bytes(b"0123456789" * 10000)
        whole = call_app(FileResponse(folder / "page.txt"), http_scope("GET", "/"))
        print(whole[0]["status"], sum(len(m.get("body", b"")) for m in whole[1:]))
        part = call_app(FileResponse(folder / "page.txt"), http_scope("GET", "/", headers={"range": "bytes=5-14"}))
        print(part[0]["status"], b"".join(m.get("body", b"") for m in part[1:]).decode())
        static = call_app(StaticFiles(directory=folder), http_scope("GET", "/page.txt"))
        print(static[0]["status"], sum(len(m.get("body", b"")) for m in static[1:]))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["200 100000", "206 5678901234", "200 100000"]


@pytest.mark.parametrize(
    ("code", "extra"),
    [
        ("from typedasgi.templating import Jinja2Templates\nJinja2Templates(directory='.')", "templates"),
        ("import typedasgi.testclient", "testclient"),
        (
            "from typing import Annotated\n"
            "from typedasgi.applications import TypedASGI\n"
            "from typedasgi.datastructures import UploadFile\n"
            "from typedasgi.markers import File\n"
            "app = TypedASGI()\n"
            "@app.post('/upload')\n"
            "async def upload(file: Annotated[UploadFile, File()]) -> str:\n"
            "    return file.filename or ''\n",
            "forms",
        ),
        ("from typedasgi.cli import run\nraise SystemExit(run(['run', 'examples.hello:app']))", "standard"),
    ],
    ids=["templates-at-construction", "testclient-at-import", "uploads-at-registration", "cli-at-start"],
)
def test_a_missing_extra_fails_at_set_up_naming_it(code: str, extra: str) -> None:
    result = run_without_extras(code)
    assert result.returncode != 0
    assert f"typedasgi[{extra}]" in result.stderr, result.stderr


def test_a_multipart_body_without_the_forms_extra_is_a_415_and_a_log_line_naming_it() -> None:
    result = run_without_extras(
        """
        from tests.support import call_app, http_scope
        from typedasgi.applications import TypedASGI
        from typedasgi.requests import Request
        from typedasgi.responses import PlainTextResponse

        app = TypedASGI()

        @app.route("/", methods=["POST"])
        async def form(request: Request) -> PlainTextResponse:
            return PlainTextResponse(str(dict(await request.form())))

        body = b"--b\\r\\nContent-Disposition: form-data; name=\\"a\\"\\r\\n\\r\\n1\\r\\n--b--\\r\\n"
        multipart = {"content-type": "multipart/form-data; boundary=b"}
        urlencoded = {"content-type": "application/x-www-form-urlencoded"}
        print(call_app(app, http_scope("POST", "/", headers=multipart), body=body)[0]["status"])
        print(call_app(app, http_scope("POST", "/", headers=urlencoded), body=b"a=1")[0]["status"])
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["415", "200"]
    assert "pip install 'typedasgi[forms]'" in result.stderr
