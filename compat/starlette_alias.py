"""``import starlette.x`` gives the module ``typedasgi.x`` itself, not a copy.

``compat/thirdparty.py`` installs this file (and a ``.pth`` line that imports
it) into a throwaway virtual environment, so a third-party package and its tests
run unchanged with every Starlette import resolved to typedasgi. The alias is
the same module object, so ``starlette.responses.Response is
typedasgi.responses.Response`` and ``mock.patch("starlette.x.y")`` patches
typedasgi. A name typedasgi lacks fails as ``No module named 'starlette.x'``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Sequence
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

ALIAS = "starlette"
TARGET = "typedasgi"


def target_name(fullname: str) -> str | None:
    """``typedasgi.x`` for ``starlette.x``; None for any other module."""
    if fullname == ALIAS or fullname.startswith(ALIAS + "."):
        return TARGET + fullname[len(ALIAS) :]
    return None


class _AliasLoader(Loader):
    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return None  # a placeholder; exec_module swaps in the real module

    def exec_module(self, module: ModuleType) -> None:
        target = target_name(module.__name__)
        assert target is not None
        # The import system returns whatever sys.modules holds for the name after exec_module.
        sys.modules[module.__name__] = importlib.import_module(target)


class StarletteAlias(MetaPathFinder):
    """Finds ``starlette`` and its submodules as typedasgi's."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        name = target_name(fullname)
        if name is None:
            return None
        real = importlib.util.find_spec(name)
        if real is None:
            return None
        return ModuleSpec(fullname, _AliasLoader(), is_package=real.submodule_search_locations is not None)


def install() -> None:
    if not any(isinstance(finder, StarletteAlias) for finder in sys.meta_path):
        sys.meta_path.insert(0, StarletteAlias())


install()
