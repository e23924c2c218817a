"""``import starlette.x`` gives the module ``typedasgi.x`` itself, not a copy.

``compat/thirdparty.py`` installs this file (and a ``.pth`` line that imports
it) into a throwaway virtual environment, so a third-party package and its tests
run unchanged with every Starlette import resolved to typedasgi. The alias is
the same module object, so ``starlette.responses.Response is
typedasgi.responses.Response`` and ``mock.patch("starlette.x.y")`` patches
typedasgi. A name typedasgi lacks fails as ``No module named 'starlette.x'``.

The one exception is ``starlette`` itself: a package module that shows
typedasgi's attributes but answers ``__version__`` with the Starlette version
the ``starlette`` distribution record carries (the one measured against), as
packages that branch on ``starlette.__version__`` (Sentry's) must see it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
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
        real = importlib.import_module(target)
        if module.__name__ == ALIAS:
            own = {"__name__", "__spec__", "__loader__"}
            module.__dict__.update((name, value) for name, value in vars(real).items() if name not in own)
            # Submodules still come through this finder as typedasgi's own; a name set on typedasgi later is
            # looked up there (PEP 562).
            module.__dict__["__getattr__"] = lambda name: getattr(real, name)
            module.__dict__["__version__"] = importlib.metadata.version(ALIAS)
            return
        # The import system returns whatever sys.modules holds for the name after exec_module.
        sys.modules[module.__name__] = real


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
