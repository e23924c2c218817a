"""typedasgi.status: every code present, named as Starlette names it, with the right value."""

from __future__ import annotations

import http
import re

import pytest

from typedasgi import status
from typedasgi.exceptions import StarletteDeprecationWarning

RFC_9110_NAMES = {
    413: "CONTENT_TOO_LARGE",
    414: "URI_TOO_LONG",
    416: "RANGE_NOT_SATISFIABLE",
    422: "UNPROCESSABLE_CONTENT",
}


def _constants(prefix: str) -> dict[str, int]:
    return {name: getattr(status, name) for name in status.__all__ if name.startswith(prefix)}


def test_every_http_status_of_the_stdlib_has_a_constant() -> None:
    for code in http.HTTPStatus:
        name = RFC_9110_NAMES.get(code.value, code.name)
        assert getattr(status, f"HTTP_{code.value}_{name}") == code.value


def test_rfc_9110_names_are_the_exported_ones() -> None:
    for code, name in RFC_9110_NAMES.items():
        assert getattr(status, f"HTTP_{code}_{name}") == code
        assert f"HTTP_{code}_{name}" in status.__all__


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("HTTP_413_REQUEST_ENTITY_TOO_LARGE", "HTTP_413_CONTENT_TOO_LARGE", 413),
        ("HTTP_414_REQUEST_URI_TOO_LONG", "HTTP_414_URI_TOO_LONG", 414),
        ("HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE", "HTTP_416_RANGE_NOT_SATISFIABLE", 416),
        ("HTTP_422_UNPROCESSABLE_ENTITY", "HTTP_422_UNPROCESSABLE_CONTENT", 422),
    ],
)
def test_old_names_still_work_but_warn_once_naming_the_new_one(old: str, new: str, code: int) -> None:
    with pytest.warns(StarletteDeprecationWarning) as record:
        assert getattr(status, old) == code
    assert len(record) == 1
    assert str(record[0].message) == f"'{old}' is deprecated. Use '{new}' instead."
    assert record[0].filename == __file__
    assert old not in status.__all__


def test_typed_use_of_an_old_name_warns_at_the_caller() -> None:
    with pytest.warns(StarletteDeprecationWarning, match="HTTP_422_UNPROCESSABLE_CONTENT"):
        assert status.HTTP_422_UNPROCESSABLE_ENTITY == 422


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'typedasgi.status' has no attribute 'HTTP_999_NOPE'"):
        getattr(status, "HTTP_999_NOPE")


def test_codes_outside_http_status_and_the_newer_ones() -> None:
    assert status.HTTP_306_RESERVED == 306
    assert status.HTTP_103_EARLY_HINTS == 103
    assert status.HTTP_421_MISDIRECTED_REQUEST == 421
    assert status.HTTP_425_TOO_EARLY == 425
    assert status.HTTP_451_UNAVAILABLE_FOR_LEGAL_REASONS == 451
    assert status.HTTP_100_CONTINUE == 100
    assert status.HTTP_511_NETWORK_AUTHENTICATION_REQUIRED == 511


def test_names_carry_their_value_and_are_all_exported() -> None:
    http_codes = _constants("HTTP_")
    ws_codes = _constants("WS_")
    assert len(http_codes) == len(http.HTTPStatus) + 1
    for name, value in {**http_codes, **ws_codes}.items():
        match = re.fullmatch(r"(?:HTTP|WS)_(\d+)_[A-Z0-9_]+", name)
        assert match is not None, name
        assert int(match.group(1)) == value
        assert type(value) is int
    public = {name for name in vars(status) if re.match(r"(HTTP|WS)_\d", name)}
    assert public == set(status.__all__)


def test_websocket_close_codes() -> None:
    assert _constants("WS_") == {
        "WS_1000_NORMAL_CLOSURE": 1000,
        "WS_1001_GOING_AWAY": 1001,
        "WS_1002_PROTOCOL_ERROR": 1002,
        "WS_1003_UNSUPPORTED_DATA": 1003,
        "WS_1005_NO_STATUS_RCVD": 1005,
        "WS_1006_ABNORMAL_CLOSURE": 1006,
        "WS_1007_INVALID_FRAME_PAYLOAD_DATA": 1007,
        "WS_1008_POLICY_VIOLATION": 1008,
        "WS_1009_MESSAGE_TOO_BIG": 1009,
        "WS_1010_MANDATORY_EXT": 1010,
        "WS_1011_INTERNAL_ERROR": 1011,
        "WS_1012_SERVICE_RESTART": 1012,
        "WS_1013_TRY_AGAIN_LATER": 1013,
        "WS_1014_BAD_GATEWAY": 1014,
        "WS_1015_TLS_HANDSHAKE": 1015,
    }
