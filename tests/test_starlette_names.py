"""Every public name of Starlette's modules exists at the same path in typedasgi.

The list is generated from the Starlette sdist by ``python -m compat.names
--write tests/starlette_names.py`` and checked in, so this test needs no
network. ``python -m compat.names`` also reports what is still missing.
"""

from __future__ import annotations

import importlib
import warnings

import pytest

from tests.starlette_names import NAMES
from typedasgi.exceptions import TypedASGIDeprecationWarning

# Names still to come (the debug page's template pieces, a gzip internal); everything else must import.
KNOWN_MISSING: dict[str, set[str]] = {
    "typedasgi.middleware.errors": {"CENTER_LINE", "FRAME_TEMPLATE", "JS", "LINE", "STYLES", "TEMPLATE"},
    "typedasgi.middleware.gzip": {"unattached_send"},
}


@pytest.mark.parametrize("module", sorted(NAMES))
def test_every_public_name_of_the_starlette_module_is_importable_from_the_typedasgi_one(module: str) -> None:
    expected = [name for name in NAMES[module] if name not in KNOWN_MISSING.get(module, set())]
    if not expected:
        pytest.skip(f"{module}: every name still to come")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TypedASGIDeprecationWarning)  # deprecated modules warn on import
        loaded = importlib.import_module(module)
    assert [name for name in expected if not hasattr(loaded, name)] == []


def test_the_list_covers_the_modules_starlette_code_imports_most() -> None:
    for module in ("typedasgi.types", "typedasgi.routing", "typedasgi.responses", "typedasgi.middleware.wsgi"):
        assert module in NAMES
    assert "Message" in NAMES["typedasgi.types"]
    assert "Starlette" in NAMES["typedasgi.applications"]
