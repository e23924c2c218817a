"""Reading an ``Accept`` header: media ranges, qualities, and which of two types a client prefers."""

from __future__ import annotations

__all__ = ["accept_ranges", "prefers", "quality_of"]

_MAX_ACCEPT_RANGES = 32


def accept_ranges(header: str) -> list[tuple[str, float]]:
    """``Accept``'s media ranges with their qualities; at most 32 are read, a malformed q counts as 0."""
    ranges: list[tuple[str, float]] = []
    for part in header.split(",", _MAX_ACCEPT_RANGES)[:_MAX_ACCEPT_RANGES]:
        media, *params = part.split(";")
        media = media.strip().lower()
        if not media:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = 0.0
                if not 0.0 <= quality <= 1.0:  # also NaN
                    quality = 0.0
        ranges.append((media, quality))
    return ranges


def quality_of(ranges: list[tuple[str, float]], media_type: str) -> float:
    """The quality of the most specific range that covers ``media_type``; -1 if none does."""
    wildcard = media_type.partition("/")[0] + "/*"
    best, specificity = -1.0, -1
    for media, quality in ranges:
        rank = 2 if media == media_type else 1 if media == wildcard else 0 if media == "*/*" else -1
        if rank > specificity:
            best, specificity = quality, rank
    return best


def prefers(accept: str, media_type: str, over: str) -> bool:
    """True when ``accept`` ranks ``media_type`` above ``over`` (a tie, as with ``*/*``, is False)."""
    ranges = accept_ranges(accept)
    return quality_of(ranges, media_type) > max(quality_of(ranges, over), 0.0)
