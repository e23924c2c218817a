"""typedasgi-msgpack: MessagePack for typed handlers, by content negotiation.

Installed, it adds itself to every typedasgi app (entry point ``msgpack``):

* a typed handler's return value is sent as ``application/msgpack`` when the
  request's ``Accept`` ranks it above ``application/json`` (JSON stays the default);
* a typed handler's body parameter is decoded from ``application/msgpack`` (or
  ``application/x-msgpack``) bodies into its declared type, checked like JSON.

Plain endpoints use :class:`MsgPackResponse` and :func:`read_msgpack` directly.
Encoders and decoders are msgspec's, made once (decoders once per target type).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import msgspec

from typedasgi.exceptions import MalformedBody
from typedasgi.hooks import BodyDecoder, PluginApp, ResponseRenderer, hookimpl
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse

__all__ = ["MEDIA_TYPE", "MsgPackPlugin", "MsgPackResponse", "decode", "encode", "plugin", "read_msgpack"]

T = TypeVar("T")

MEDIA_TYPE = "application/msgpack"
encode = msgspec.msgpack.Encoder().encode

_decoders: dict[object, msgspec.msgpack.Decoder[Any]] = {}
_DECODER_CACHE_LIMIT = 1024


def _decoder(annotation: Any) -> msgspec.msgpack.Decoder[Any]:
    try:
        return _decoders[annotation]
    except KeyError:
        decoder = msgspec.msgpack.Decoder(annotation)
        if len(_decoders) < _DECODER_CACHE_LIMIT:  # handlers' types are few; a bound keeps odd callers in check
            _decoders[annotation] = decoder
        return decoder
    except TypeError:  # an unhashable type form: no caching
        return msgspec.msgpack.Decoder(annotation)


def decode(body: bytes, annotation: Any) -> object:
    """``body`` as ``annotation`` (any type msgspec knows); raises msgspec's ValidationError or DecodeError."""
    result: object = _decoder(annotation).decode(body)
    return result


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
        return [ResponseRenderer(MEDIA_TYPE, encode)]

    @hookimpl.body_decoders
    def body_decoders(self, app: PluginApp) -> Sequence[BodyDecoder]:
        return [BodyDecoder((MEDIA_TYPE, "application/x-msgpack"), decode)]


plugin = MsgPackPlugin()
"""The instance the entry point loads."""
