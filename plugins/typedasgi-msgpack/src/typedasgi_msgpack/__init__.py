"""typedasgi-msgpack: MessagePack for typed handlers, by content negotiation.

Installed, it adds itself to every typedasgi app (entry point ``msgpack``):

* a typed handler's return value is sent as ``application/msgpack`` when the
  request's ``Accept`` ranks it above ``application/json`` (JSON stays the default);
* a typed handler's body parameter is decoded from ``application/msgpack`` (or
  ``application/x-msgpack``) bodies into its declared type, checked like JSON.
  Where that type leaves a part open (``Any``), the part must be one JSON can
  carry too: MessagePack's other map keys (nil, booleans, arrays) and extension
  types are a 400, so a handler that answers with what it got never meets a
  value its JSON answer cannot encode (which would be a 500).

Plain endpoints use :class:`MsgPackResponse` and :func:`read_msgpack` directly.
Encoders and decoders are msgspec's, made once (decoders once per target type).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, cast

import msgspec
import msgspec.inspect

from typedasgi.exceptions import HTTPException, MalformedBody
from typedasgi.hooks import BodyDecoder, PluginApp, ResponseRenderer, hookimpl
from typedasgi.jsoncodec import encode_json
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse

__all__ = [
    "MEDIA_TYPE",
    "MsgPackPlugin",
    "MsgPackResponse",
    "decode",
    "encode",
    "plugin",
    "read_msgpack",
    "render_negotiated",
]

T = TypeVar("T")

MEDIA_TYPE = "application/msgpack"
encode = msgspec.msgpack.Encoder().encode

_decoders: dict[object, tuple[msgspec.msgpack.Decoder[Any], bool]] = {}
_DECODER_CACHE_LIMIT = 1024


def _holds_any(info: msgspec.inspect.Type, seen: set[int]) -> bool:
    """Whether ``info`` leaves some part open (``Any``), where MessagePack values reach the handler unchecked."""
    if isinstance(info, msgspec.inspect.AnyType):
        return True
    if id(info) in seen:  # a recursive Struct
        return False
    seen.add(id(info))
    for part in msgspec.structs.astuple(info):
        # a type's parts: one type, or a tuple of them (union members, a Struct's fields)
        items = cast("tuple[object, ...]", part) if isinstance(part, tuple) else (part,)
        for item in items:
            inner = item.type if isinstance(item, msgspec.inspect.Field) else item
            if isinstance(inner, msgspec.inspect.Type) and _holds_any(inner, seen):
                return True
    return False


def _decoder(annotation: Any) -> tuple[msgspec.msgpack.Decoder[Any], bool]:
    """The decoder for ``annotation`` and whether its results need the JSON check (made once per type)."""
    try:
        return _decoders[annotation]
    except KeyError:
        made = (msgspec.msgpack.Decoder(annotation), _holds_any(msgspec.inspect.type_info(annotation), set()))
        if len(_decoders) < _DECODER_CACHE_LIMIT:  # handlers' types are few; a bound keeps odd callers in check
            _decoders[annotation] = made
        return made
    except TypeError:  # an unhashable type form: no caching
        return msgspec.msgpack.Decoder(annotation), _holds_any(msgspec.inspect.type_info(annotation), set())


def decode(body: bytes, annotation: Any) -> object:
    """``body`` as ``annotation`` (any type msgspec knows); raises msgspec's ValidationError or DecodeError.

    Open (``Any``) parts must hold values JSON can carry, as a JSON body's would: a map key that is nil,
    a boolean or an array, or an extension type, is a DecodeError (a 400 for typed handlers).
    """
    decoder, open_parts = _decoder(annotation)
    result: object = decoder.decode(body)
    if open_parts:
        try:
            encode_json(result)
        except TypeError as error:
            raise msgspec.DecodeError(f"a value JSON cannot carry: {error}") from None
    return result


def render_negotiated(value: object) -> bytes:
    """``value`` as MessagePack for a client that asked for it; a 406 for an integer past 64 bits.

    JSON writes any integer, MessagePack only 64-bit ones: an answer holding a
    bigger one (a client's ``?n=99999999999999999999`` handed back) cannot be
    given in the format the client ranked first, which is what 406 says.
    """
    try:
        return encode(value)
    except OverflowError:
        raise HTTPException(
            406,
            "The answer holds an integer past 64 bits, which MessagePack cannot carry: ask for application/json",
            headers={"vary": "accept"},
        ) from None


class MsgPackResponse(JSONResponse):
    """A response whose content (anything msgspec encodes) is sent as MessagePack.

    It reuses :class:`~typedasgi.responses.JSONResponse` for its typed ``content: object`` constructor and
    swaps only the media type and the encoder (so ``isinstance(r, JSONResponse)`` is true for it too)."""

    media_type = MEDIA_TYPE

    def render(self, content: object) -> bytes:
        return encode(content)


async def read_msgpack(request: Request[Any], into: type[T]) -> T:
    """The request body decoded as ``into``; a malformed body or a wrong shape is a 400."""
    try:
        return msgspec.msgpack.decode(await request.body(), type=into)
    except (msgspec.DecodeError, RecursionError) as error:
        raise MalformedBody(f"Invalid MessagePack body: {error}") from None


class MsgPackPlugin:
    """The plugin: a renderer and a body decoder for MessagePack."""

    plugin_name = "msgpack"

    @hookimpl.renderers
    def renderers(self, app: PluginApp) -> Sequence[ResponseRenderer[Any]]:
        return [ResponseRenderer(MEDIA_TYPE, render_negotiated)]

    @hookimpl.body_decoders
    def body_decoders(self, app: PluginApp) -> Sequence[BodyDecoder]:
        return [BodyDecoder((MEDIA_TYPE, "application/x-msgpack"), decode)]


plugin = MsgPackPlugin()
"""The instance the entry point loads."""
