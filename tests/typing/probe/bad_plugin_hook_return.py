"""A plugin's routes hook that returns paths instead of routes."""

from collections.abc import Sequence

from typedasgi.hooks import PluginApp, hookimpl


class Plugin:
    @hookimpl.routes  # E: arg-type: Sequence[str] ## reportArgumentType: Sequence[str]
    def routes(self, app: PluginApp) -> Sequence[str]:
        return ["/health"]
