"""The one JSON encoder and decoder every part of typedasgi uses.

Made once at import (msgspec's fastest use), and shared so that a value is
encoded the same way whether a ``JSONResponse``, a typed handler, a WebSocket
or the TestClient sends it.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

__all__ = ["decode_json", "decoder_for", "encode_json"]

def _as_builtin(value: object) -> object:
    """What msgspec cannot encode itself but ``json.dumps`` can: a subclass of str, int or float (markupsafe's
    ``Markup``, an app's ``class UserId(str)``), encoded as its base value. Called only for such values."""
    if not isinstance(value, bool):  # a bool reaches here only as a map key, which JSON cannot carry
        for base in (str, int, float):
            if isinstance(value, base):
                return base(value)
    raise TypeError(f"Encoding objects of type {type(value).__name__} is unsupported")  # msgspec's own words


encode_json: Final = msgspec.json.Encoder(enc_hook=_as_builtin).encode
"""dicts, lists, dataclasses, ``msgspec.Struct``, datetimes, UUIDs, Decimals, ... -> bytes."""

decode_json: Final = msgspec.json.Decoder().decode
"""JSON bytes or str -> plain Python values (``decoder_for(T).decode`` for a type)."""

_DECODERS: dict[object, msgspec.json.Decoder[Any]] = {}
_MAX_DECODERS = 512  # types a program decodes into are few; past this many, decoders are made per call


def decoder_for(type_: object) -> msgspec.json.Decoder[Any]:
    """A decoder into ``type_``, made once and kept.

    ``msgspec.json.decode(data, type=list[Item])`` analyses the type again on every call
    (about 1 us for a small list of Structs); a kept Decoder does it once.
    """
    try:
        return _DECODERS[type_]
    except KeyError:
        decoder = msgspec.json.Decoder(type_)
        if len(_DECODERS) < _MAX_DECODERS:
            _DECODERS[type_] = decoder
        return decoder
    except TypeError:  # an annotation that cannot be a dict key (Annotated with unhashable metadata)
        return msgspec.json.Decoder(type_)
