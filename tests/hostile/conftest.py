"""Fixtures of the hostile-input suite: one real uvicorn per module (its own TMPDIR), and leak-checked targets."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator

import pytest

from typedasgi.testclient import TestClient

from tests.hostile.app import app
from tests.hostile.guards import Target, client_target, server_target
from tests.support import ServerURL, running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerURL]:
    """``tests.hostile.app`` on a real uvicorn on 127.0.0.1, started once per module, stopped within its bound."""
    with contextlib.ExitStack() as stack:
        with pytest.MonkeyPatch.context() as env:  # read by the server process at start: its temp files are countable
            env.setenv("TMPDIR", str(tmp_path_factory.mktemp("server-tmp")))
            # The head bound lifted: these tests send megabyte header values to the app itself, as a
            # server without one (plain uvicorn with httptools) would pass them on.
            args = ("--log-level", "warning", "--max-head-size", str(64 * 1024 * 1024))
            base = stack.enter_context(running_server("tests.hostile.app:app", args=args))
        yield base


@pytest.fixture
def served(server: ServerURL) -> Target:
    return server_target(server)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app in process; errors become 500s as a server answers them, redirects are not followed.

    Temporary files go to a directory of the module's own (``/tmp`` is shared), so they can be counted."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("client-tmp")))
        with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as test_client:
            test_client.get("/ok")  # the loop thread and its descriptors exist before any baseline
            yield test_client


@pytest.fixture
def local(client: TestClient) -> Target:
    return client_target(client)
