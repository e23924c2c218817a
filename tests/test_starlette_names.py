"""Every public name of Starlette's modules exists at the same path in typedasgi.

The list is generated from the Starlette sdist by ``python -m compat.names
--write tests/starlette_names.py`` and checked in, so this test needs no
network. ``python -m compat.names`` also reports what is still missing.
"""

from __future__ import annotations

import asyncio
import importlib
import warnings

import pytest

from tests.starlette_names import NAMES
from typedasgi.exceptions import TypedASGIDeprecationWarning
from typedasgi.middleware.gzip import unattached_send

@pytest.mark.parametrize("module", sorted(NAMES))
def test_every_public_name_of_the_starlette_module_is_importable_from_the_typedasgi_one(module: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TypedASGIDeprecationWarning)  # deprecated modules warn on import
        loaded = importlib.import_module(module)
    assert [name for name in NAMES[module] if not hasattr(loaded, name)] == []


def test_unattached_send_refuses_to_send() -> None:
    with pytest.raises(RuntimeError, match="before the responder was called"):
        asyncio.run(unattached_send({"type": "http.response.body", "body": b""}))


def test_the_list_covers_the_modules_starlette_code_imports_most() -> None:
    for module in ("typedasgi.types", "typedasgi.routing", "typedasgi.responses", "typedasgi.middleware.wsgi"):
        assert module in NAMES
    assert "Message" in NAMES["typedasgi.types"]
    assert "Starlette" in NAMES["typedasgi.applications"]
