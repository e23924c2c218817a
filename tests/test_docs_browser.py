"""The /docs page in a real headless Chromium: Swagger UI renders every operation, offline.

The app runs under uvicorn on 127.0.0.1; Chromium (Debian's package, which
``dev.py`` installs) is driven over the DevTools protocol. Every request the page
makes is recorded, and each must go to 127.0.0.1: the page's assets come from the
``docs`` extra, served by the app. A screenshot is left in the test's temporary
folder for a person to look at.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from websockets.sync.client import ClientConnection, connect

from tests.support import ServerFactory

DEADLINE = 90.0  # seconds for the whole browser session: a bound, not a measurement


def chromium_or_fail() -> str:
    """Chromium's path; without it the test fails (CI, root: dev.py should have installed it) or skips."""
    found = shutil.which("chromium")
    if found is not None:
        return found
    if os.environ.get("CI") or (hasattr(os, "geteuid") and os.geteuid() == 0):
        pytest.fail("chromium is missing: `python3 dev.py setup` installs it (apt-get install chromium)")
    pytest.skip("chromium is not installed and this user is not root: apt-get install chromium to run this test")


class DevTools:
    """A minimal DevTools protocol client over one websocket: commands, and the events seen meanwhile."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        message_id = next(self.ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv(timeout=30))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result
            self.events.append(reply)

    def evaluate(self, expression: str, session: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        return result["result"].get("value")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    executable = chromium_or_fail()
    profile = tmp_path / "profile"
    command = [
        executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0", "--window-size=1280,2000",
        # a request to any other host fails at once instead of waiting for a network this machine may lack
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "about:blank",
    ]
    log = (tmp_path / "chromium.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().split()) == 2):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chromium did not start:\n{(tmp_path / 'chromium.log').read_text()[-2000:]}")
            time.sleep(0.05)
        port, path = port_file.read_text().split()
        with connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=10) as socket:
            yield DevTools(socket)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        log.close()


def test_docs_page_renders_every_operation_with_no_request_off_the_machine(
    serve: ServerFactory, browser: DevTools, tmp_path: Path
) -> None:
    with serve("examples.crud:app") as base_url:
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        browser.call("Network.enable", {}, session)
        browser.call("Page.enable", {}, session)
        browser.call("Page.navigate", {"url": f"{base_url}/docs"}, session)
        rendered: list[str] = []
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            rendered = browser.evaluate(
                "Array.from(document.querySelectorAll('.opblock-summary')).map("
                "(op) => op.querySelector('.opblock-summary-method').textContent + ' ' + "
                "op.querySelector('.opblock-summary-path').getAttribute('data-path'))",
                session,
            ) or []
            if len(rendered) >= 6:
                break
            time.sleep(0.1)
        screenshot = browser.call("Page.captureScreenshot", {"format": "png"}, session)
        (tmp_path / "docs.png").write_bytes(base64.b64decode(screenshot["data"]))
        title = browser.evaluate("document.querySelector('.info .title') && document.querySelector('.info .title').textContent", session)
    assert sorted(rendered) == [
        "DELETE /books/{book_id}", "GET /books", "GET /books/{book_id}", "PATCH /books/{book_id}",
        "POST /books", "PUT /books/{book_id}",
    ], f"Swagger UI did not render the operations; screenshot: {tmp_path / 'docs.png'}"
    assert title is not None and title.startswith("Books")
    requested = [
        event["params"]["request"]["url"] for event in browser.events
        if event.get("method") == "Network.requestWillBeSent"
    ]
    assert any(url.endswith("/docs/assets/swagger-ui-bundle.js") for url in requested)
    off_machine = [url for url in requested if urlsplit(url).scheme not in ("data", "blob")
                   and urlsplit(url).hostname != "127.0.0.1"]
    assert not off_machine, f"the docs page reached other hosts: {off_machine}"
