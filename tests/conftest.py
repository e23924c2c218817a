"""Shared fixtures."""

from __future__ import annotations

import pytest

from tests.support import ServerFactory, running_server


@pytest.fixture
def serve() -> ServerFactory:
    """``with serve("examples.hello:app") as base_url: ...``"""
    return running_server
