"""The one JSON encoder and decoder every part of typedasgi uses.

Made once at import (msgspec's fastest use), and shared so that a value is
encoded the same way whether a ``JSONResponse``, a typed handler, a WebSocket
or the TestClient sends it.
"""

from __future__ import annotations

from typing import Final

import msgspec

__all__ = ["decode_json", "encode_json"]

encode_json: Final = msgspec.json.Encoder().encode
"""dicts, lists, dataclasses, ``msgspec.Struct``, datetimes, UUIDs, Decimals, ... -> bytes."""

decode_json: Final = msgspec.json.Decoder().decode
"""JSON bytes or str -> plain Python values (use ``msgspec.json.decode(..., type=T)`` for a type)."""
