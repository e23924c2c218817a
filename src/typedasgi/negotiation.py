"""Choosing a plugin's renderer for a typed handler's return value: by its type, or by ``Accept``.

JSON is the default and wins ties, so installing a renderer plugin never
changes what a client that asks for nothing in particular gets. Accept
headers are parsed with bounds (ranges counted, cache sized), and a short
header once per distinct value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from typedasgi.accept import accept_ranges, quality_of
from typedasgi.hooks import ResponseRenderer
from typedasgi.requests import Request
from typedasgi.responses import Response

__all__ = ["RendererTable"]

_CACHE_LIMIT = 256


class RendererTable:
    """The plugins' renderers for one app; also the ``Renderer`` typed handlers call.

    Renderers with ``types`` serve values of those types; the others are
    picked by ``Accept`` when it ranks their media type above JSON. Look-ups
    are cached per value type and per ``Accept`` value (both bounded).
    """

    def __init__(self, renderers: Sequence[tuple[str, ResponseRenderer[Any]]]) -> None:
        """``renderers``: (the plugin's name, its renderer) pairs, in plugin order."""
        self._owners = {id(renderer): owner for owner, renderer in renderers}
        self._by_type = [(kind, renderer) for _, renderer in renderers for kind in renderer.types]
        self._by_media: list[ResponseRenderer[Any]] = []
        for _, renderer in renderers:
            if not renderer.types and all(r.media_type != renderer.media_type for r in self._by_media):
                self._by_media.append(renderer)
        self._type_cache: dict[type, ResponseRenderer[Any] | None] = {}
        self._accept_cache: dict[str, ResponseRenderer[Any] | None] = {}

    def for_type(self, value_type: type) -> ResponseRenderer[Any] | None:
        try:
            return self._type_cache[value_type]
        except KeyError:
            pass
        found = next((renderer for kind, renderer in self._by_type if issubclass(value_type, kind)), None)
        if len(self._type_cache) >= _CACHE_LIMIT:
            self._type_cache.clear()
        self._type_cache[value_type] = found
        return found

    def for_accept(self, accept: str) -> ResponseRenderer[Any] | None:
        if accept in self._accept_cache:
            return self._accept_cache[accept]
        ranges = accept_ranges(accept)
        best: ResponseRenderer[Any] | None = None
        best_quality = max(quality_of(ranges, "application/json"), 0.0)
        for renderer in self._by_media:
            quality = quality_of(ranges, renderer.media_type)
            if quality > best_quality:
                best, best_quality = renderer, quality
        if len(accept) <= 256:
            if len(self._accept_cache) >= _CACHE_LIMIT:
                self._accept_cache.clear()
            self._accept_cache[accept] = best
        return best

    def find(self, value_type: type, accept: str | None) -> ResponseRenderer[Any] | None:
        """The renderer for a value of ``value_type`` asked for with ``accept``; None means JSON."""
        found = self.for_type(value_type) if self._by_type else None
        if found is None and accept and self._by_media:
            found = self.for_accept(accept)
        return found

    def __call__(self, value: object, request: Request[Any], status_code: int, /) -> Response | None:
        if status_code < 200 or status_code in (204, 304):
            return None
        by_type = self.for_type(type(value)) if self._by_type else None
        if by_type is not None:
            return self._render(by_type, value, status_code, None)
        if not self._by_media:
            return None
        accept = request.headers.get("accept")
        renderer = self.for_accept(accept) if accept else None
        if renderer is None:
            return None
        return self._render(renderer, value, status_code, {"vary": "accept"})

    def _render(
        self, renderer: ResponseRenderer[Any], value: object, status_code: int, headers: dict[str, str] | None
    ) -> Response:
        try:
            body = renderer.render(value)
        except Exception as exc:
            exc.add_note(f"while rendering {renderer.media_type} with plugin {self._owners[id(renderer)]!r}")
            raise
        return Response(body, status_code=status_code, headers=headers, media_type=renderer.media_type)
