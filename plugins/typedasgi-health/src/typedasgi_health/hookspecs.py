"""The hook typedasgi-health adds for other plugins (only specifications live here: pluggy scans this module)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from typedasgi.hooks import PluginApp, hookspec


@dataclass(frozen=True, slots=True)
class ReadinessCheck:
    """``check()`` answers whether a dependency is usable; False, an error or ``timeout`` means not ready."""

    name: str
    check: Callable[[], Awaitable[bool]]
    timeout: float = 2.0


@hookspec
def typedasgi_health_checks(app: PluginApp) -> Sequence[ReadinessCheck]:
    """Readiness checks to run on every ``GET /health/ready``; collected once per app, in plugin order."""
    raise NotImplementedError
