"""What a route says about itself for the OpenAPI document, beyond its signature.

``Route(..., responses={404: ResponseDoc("No such item", NotFound)})`` (or
simply ``{404: NotFound}``) documents answers other than the success the
return annotation describes, such as the errors a handler raises.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TypeAlias

__all__ = ["ResponseDoc", "Responses"]


@dataclasses.dataclass(frozen=True, slots=True)
class ResponseDoc:
    """One documented answer: its description and, if it has a body, the body's type."""

    description: str | None = None
    """None: the status code's reason phrase."""
    model: object = None
    """The body's type (a Struct, dataclass, TypedDict, ``list[T]``...); None for no body."""
    media_type: str = "application/json"


Responses: TypeAlias = Mapping[int, "ResponseDoc | type[object]"]
"""``{status: ResponseDoc(...)}``, or ``{status: BodyType}`` for a body with the reason phrase as description."""
