"""Find the app ``typedasgi run MODULE:ATTRIBUTE`` names, and check it is an ASGI app before serving.

A server handed something that is not an app (a list, a router factory not
called, a handler function) starts fine and then fails on every request or
at its lifespan; checking here turns that into one clear message and a
non-zero exit before anything listens.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import sys
from collections.abc import Callable
from typing import cast

__all__ = ["AppNotFound", "check_asgi_app", "load_app"]

ASGI_SHAPE = "an ASGI app is an async callable taking (scope, receive, send)"


class AppNotFound(Exception):
    """``MODULE:ATTRIBUTE`` cannot be served; the message says why and what to do."""


def load_app(spec: str, app_dir: str, *, factory: bool) -> object:
    """Import ``spec`` (``MODULE:ATTRIBUTE``) with ``app_dir`` first on ``sys.path`` and check what it names."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise AppNotFound(f"expected MODULE:ATTRIBUTE, got {spec!r}")
    if not os.path.isdir(app_dir):
        raise AppNotFound(f"--app-dir {app_dir!r} is not a directory")
    sys.path.insert(0, os.path.abspath(app_dir))
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise AppNotFound(f"no module {module_name!r} (searched {os.path.abspath(app_dir)} first)") from exc
        raise AppNotFound(f"importing {module_name!r} failed: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:
        raise AppNotFound(f"importing {module_name!r} failed: {type(exc).__name__}: {exc}") from exc
    found: object = module
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise AppNotFound(f"module {module_name!r} has no attribute {attribute!r}")
        found = getattr(found, part)
    if factory:
        if not callable(found):
            raise AppNotFound(f"{spec} is a {type(found).__name__}: --factory needs a callable that returns the app")
        try:
            found = found()
        except Exception as exc:
            raise AppNotFound(f"the factory {spec} failed: {type(exc).__name__}: {exc}") from exc
        spec = f"{spec}()"
    check_asgi_app(found, spec, factory=factory)
    return found


def check_asgi_app(app: object, name: str, *, factory: bool = False) -> None:
    """Raise :class:`AppNotFound` unless ``app`` looks like an ASGI 3 app (or an ASGI 2 class)."""
    if inspect.isclass(app):
        if _is_asgi2_class(app):
            return
        hint = "" if factory else f", or --factory if calling {name} builds the app"
        raise AppNotFound(f"{name} is a class, not an app: serve an instance of it{hint}")
    if not callable(app):
        raise AppNotFound(f"{name} is a {type(app).__name__}, not an app: {ASGI_SHAPE}")
    if not _takes_three(app):
        hint = "" if factory else " (if calling it builds the app, add --factory)"
        raise AppNotFound(f"{name} takes {_describe(app)}, not (scope, receive, send): {ASGI_SHAPE}{hint}")
    if not _is_async(app):  # servers tell ASGI 3 from ASGI 2 by this
        raise AppNotFound(f"{name} is not async: {ASGI_SHAPE}")


def _is_async(app: object) -> bool:
    if isinstance(app, functools.partial) or inspect.isroutine(app):
        return inspect.iscoroutinefunction(cast(object, app))  # a partial's parameters do not matter here
    return inspect.iscoroutinefunction(getattr(type(app), "__call__", None))


def _is_asgi2_class(cls: type) -> bool:
    """ASGI 2: ``cls(scope)`` makes an instance whose ``async __call__(receive, send)`` runs the connection."""
    call = getattr(cls, "__call__", None)
    return inspect.iscoroutinefunction(call) and _positional(call) == (2, 2, False)


def _takes_three(call: Callable[..., object]) -> bool:
    required, allowed, star = _positional(call)
    return required <= 3 and (allowed >= 3 or star)


def _positional(call: Callable[..., object]) -> tuple[int, int, bool]:
    """Required and allowed positional parameters (after ``self`` for methods), and whether ``*args`` is taken."""
    try:
        parameters = list(inspect.signature(call).parameters.values())
    except (TypeError, ValueError):
        return 3, 3, False  # no signature to read (a builtin): give it the benefit of the doubt
    if parameters and parameters[0].name == "self" and inspect.isfunction(call):  # an unbound method
        parameters = parameters[1:]
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = sum(1 for p in positional if p.default is p.empty)
    return required, len(positional), any(p.kind is p.VAR_POSITIONAL for p in parameters)


def _describe(call: Callable[..., object]) -> str:
    required, allowed, star = _positional(call)
    if star:
        return f"at least {required} arguments"
    if required == allowed:
        return f"{required} argument{'s' if required != 1 else ''}"
    return f"{required} to {allowed} arguments"
