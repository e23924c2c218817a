"""Form bodies: url-encoded (built in) and multipart (the ``forms`` extra).

Placeholder interface; the full parser lands with the toolkit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qsl

from typedasgi.datastructures import FormData, Headers
from typedasgi.exceptions import HTTPException


@dataclass(frozen=True)
class FormLimits:
    """Limits applied while parsing one form; each breach is a 400/413 with a clear message."""

    max_files: int = 1000
    max_fields: int = 1000
    max_part_size: int = 1024 * 1024


async def parse_form(headers: Headers, stream: AsyncIterator[bytes], limits: FormLimits) -> FormData:
    content_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        body = b"".join([chunk async for chunk in stream])
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
        if len(pairs) > limits.max_fields:
            raise HTTPException(400, f"Too many fields: the limit is {limits.max_fields}")
        return FormData(pairs)
    return FormData()
