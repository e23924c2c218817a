"""Shared fixtures."""

from __future__ import annotations

import os

import pytest

# Installed plugins (the first-party ones are, in the dev environment) must not change
# every test's app: autoload is off for the test session; plugin tests opt in with
# ``autoload_plugins=True``. Set at import, since some test modules build apps at import.
os.environ.setdefault("TYPEDASGI_DISABLE_PLUGIN_AUTOLOAD", "1")

from tests.support import ServerFactory, running_server


@pytest.fixture
def serve() -> ServerFactory:
    """``with serve("examples.hello:app") as base_url: ...``"""
    return running_server
