"""Forms through ``Request.form()``: url-encoded and multipart, good and hostile input."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Iterator

import pytest

from typedasgi import formparsers
from typedasgi.applications import TypedASGI
from typedasgi.datastructures import FormData, Headers, UploadFile
from typedasgi.exceptions import HTTPException
from typedasgi.formparsers import FormLimits, parse_form
from typedasgi.requests import Request
from typedasgi.responses import JSONResponse
from typedasgi.routing import Route
from typedasgi.testclient import TestClient

closed_uploads: list[UploadFile] = []


async def describe(value: UploadFile | str) -> object:
    if isinstance(value, str):
        return value
    content = await value.read()
    await value.seek(0)
    head = await value.read(3)
    return {
        "filename": value.filename,
        "size": value.size,
        "content_type": value.content_type,
        "headers": dict(value.headers),
        "length": len(content),
        "text": content[:50].decode("utf-8", "replace"),
        "head": head.decode("latin-1"),
        "on_disk": getattr(value.file, "_rolled", False),
    }


async def echo(request: Request) -> JSONResponse:
    limits = {key: int(value) for key, value in request.query_params.items()}
    form = await request.form(**limits)
    result: dict[str, list[object]] = {}
    for key, value in form.multi_items():
        result.setdefault(key, []).append(await describe(value))
    await form.close()
    closed_uploads.extend(value for _, value in form.multi_items() if isinstance(value, UploadFile))
    return JSONResponse(result)


@pytest.fixture
def client() -> Iterator[TestClient]:
    closed_uploads.clear()
    with TestClient(TypedASGI(routes=[Route("/form", echo, methods=["POST"])])) as client:
        yield client


def assert_still_serving(client: TestClient) -> None:
    response = client.post("/form", data={"ok": "yes"})
    assert response.status_code == 200
    assert response.json() == {"ok": ["yes"]}


def multipart(*parts: bytes, boundary: bytes = b"B0uNd") -> bytes:
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return body + b"--" + boundary + b"--\r\n"


def text_part(name: str, value: str | bytes, extra: bytes = b"") -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return f'Content-Disposition: form-data; name="{name}"\r\n'.encode() + extra + b"\r\n" + data


MULTIPART = {"content-type": "multipart/form-data; boundary=B0uNd"}

# ------------------------------------------------------------------ good input


def test_urlencoded_fields_and_multiple_values(client: TestClient) -> None:
    response = client.post(
        "/form",
        content=b"a=1&b=two+words&a=%C3%A9t%C3%A9&empty=&&flag",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert response.json() == {"a": ["1", "été"], "b": ["two words"], "empty": [""], "flag": [""]}


def test_urlencoded_streamed_in_small_chunks(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"na"
        yield b"me=va"
        yield b"lue&oth"
        yield b"er=x"

    response = client.post("/form", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.json() == {"name": ["value"], "other": ["x"]}


def test_urlencoded_byte_by_byte_is_linear() -> None:
    body = b"a=" + b"x" * 200_000 + b"&b=" + b"y" * 200_000
    form = asyncio.run(
        parse_form(Headers({"content-type": "application/x-www-form-urlencoded"}), lambda limit: byte_by_byte(body), FormLimits())
    )
    assert form["a"] == "x" * 200_000 and form["b"] == "y" * 200_000


def test_multipart_text_fields_and_files(client: TestClient) -> None:
    response = client.post(
        "/form",
        data={"title": "héllo", "tag": ["a", "b"]},
        files=[
            ("upload", ("report.txt", b"file contents", "text/plain")),
            ("upload", ("data.bin", b"\x00\x01\x02\x03", "application/octet-stream")),
        ],
    )
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == ["héllo"]
    assert body["tag"] == ["a", "b"]
    first, second = body["upload"]
    assert first["filename"] == "report.txt"
    assert first["size"] == 13
    assert first["content_type"] == "text/plain"
    assert first["text"] == "file contents"
    assert first["head"] == "fil"  # seek(0) then read(3)
    assert first["headers"]["content-disposition"].startswith("form-data")
    assert first["on_disk"] is False
    assert second["filename"] == "data.bin"
    assert second["size"] == 4
    assert second["content_type"] == "application/octet-stream"
    assert len(closed_uploads) == 2
    assert all(upload.file.closed for upload in closed_uploads)


def test_large_file_is_spooled_to_disk(client: TestClient) -> None:
    payload = b"0123456789abcdef" * (1024 * 1024 // 16 * 2)  # 2 MiB: past the 1 MiB spool threshold
    response = client.post("/form", files={"big": ("big.bin", payload, "application/octet-stream")})
    assert response.status_code == 200
    (big,) = response.json()["big"]
    assert big["size"] == big["length"] == len(payload)
    assert big["on_disk"] is True
    assert big["head"] == "012"


def test_part_charset_and_utf8_filename(client: TestClient) -> None:
    body = multipart(
        text_part("latin", "café".encode("latin-1"), b"Content-Type: text/plain; charset=latin-1\r\n"),
        text_part("unknown", "x", b"Content-Type: text/plain; charset=no-such-codec\r\n"),
        'Content-Disposition: form-data; name="f"; filename="résumé.txt"\r\n\r\nCV'.encode(),
    )
    response = client.post("/form", content=body, headers=MULTIPART)
    assert response.status_code == 200
    data = response.json()
    assert data["latin"] == ["café"]
    assert data["unknown"] == ["x"]
    assert data["f"][0]["filename"] == "résumé.txt"
    assert data["f"][0]["content_type"] is None


@pytest.mark.parametrize(
    ("charset", "value", "expected"),
    [
        ("utf-8", "ężć".encode(), "ężć"),
        ("utf-8", b"\xe9", "é"),  # not UTF-8 after all: read as latin-1, never U+FFFD
        ("latin-1", b"\xe9", "é"),
        ("no-such-codec", b"\xe9", "é"),
        ("utf-16-le", "ok".encode("utf-16-le"), "ok"),
    ],
)
def test_form_charset_decodes_text_parts(client: TestClient, charset: str, value: bytes, expected: str) -> None:
    body = multipart(text_part("value", value), text_part("own", "ü".encode(), b"Content-Type: text/plain; charset=utf-8\r\n"))
    headers = {"content-type": f"multipart/form-data; charset={charset}; boundary=B0uNd"}
    response = client.post("/form", content=body, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"value": [expected], "own": ["ü"]}


@pytest.mark.parametrize("charset", ["base64", "zlib", "rot13", "uu", "undefined", "utf\x008"])
def test_a_charset_naming_no_text_codec_reads_as_latin1(client: TestClient, charset: str) -> None:
    # Codecs Python knows that decode no text (bytes-to-bytes, or refusing all input), and a NUL in
    # the name: a client's choice, so read as latin-1 like an unknown name, never a 500 or a 400.
    own = f"Content-Type: text/plain; charset={charset}\r\n".encode("latin-1")
    body = multipart(text_part("value", b"\xe9t\xe9"), text_part("own", b"\xe9", own))
    headers = {b"content-type": f"multipart/form-data; charset={charset}; boundary=B0uNd".encode("latin-1")}
    response = client.post("/form", content=body, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"value": ["été"], "own": ["é"]}


@pytest.mark.parametrize("charset", ["punycode", "PunyCode"])
def test_punycode_is_read_as_latin1_for_its_quadratic_decoder(client: TestClient, charset: str) -> None:
    # Python's punycode decoder takes time quadratic in its input, on the event loop: a 200 KB field
    # naming it held every other request for 10 s. "bcher-kva" is punycode for "bücher".
    own = f"Content-Type: text/plain; charset={charset}\r\n".encode("latin-1")
    body = multipart(text_part("value", b"bcher-kva"), text_part("own", b"bcher-kva", own))
    headers = {"content-type": f"multipart/form-data; charset={charset}; boundary=B0uNd"}
    response = client.post("/form", content=body, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"value": ["bcher-kva"], "own": ["bcher-kva"]}


@pytest.mark.parametrize(
    ("charset", "value"),
    [("utf-7", b"+2AA-"), ("unicode_escape", b"\\ud800\xe9"), ("raw_unicode_escape", b"\\udfff\xe9")],
)
def test_a_charset_yielding_lone_surrogates_reads_as_latin1(client: TestClient, charset: str, value: bytes) -> None:
    # These codecs turn the client's bytes into a str with a lone surrogate, which no UTF-8 body can
    # carry: the echo's JSONResponse (any response, JSON or template writing it out) raised, a 500.
    own = f"Content-Type: text/plain; charset={charset}\r\n".encode("latin-1")
    body = multipart(text_part("value", value), text_part("own", value, own), text_part("plain", "ok"))
    headers = {"content-type": f"multipart/form-data; charset={charset}; boundary=B0uNd"}
    response = client.post("/form", content=body, headers=headers)
    assert response.status_code == 200
    expected = value.decode("latin-1")
    assert response.json() == {"value": [expected], "own": [expected], "plain": ["ok"]}


def test_small_files_share_the_in_memory_limit_and_the_rest_go_to_disk() -> None:
    # Each file is under the 1 MiB one file may keep in memory; together past the route's 2 MiB limit,
    # the later ones roll over to disk, whole and readable.
    app = TypedASGI(routes=[Route("/form", echo, methods=["POST"], max_body_size=2 * 1024 * 1024)])
    files = [b'Content-Disposition: form-data; name="f"; filename="%d"\r\n\r\n' % index + b"%d" % index * 600_000
             for index in range(5)]
    with TestClient(app) as client:
        response = client.post("/form", content=multipart(*files), headers=MULTIPART)
    assert response.status_code == 200
    described = response.json()["f"]
    assert [file["on_disk"] for file in described] == [False, False, False, True, True]
    assert [(file["length"], file["head"]) for file in described] == [(600_000, str(index) * 3) for index in range(5)]


def test_empty_filename_is_still_a_file_and_empty_body_is_an_empty_form(client: TestClient) -> None:
    body = multipart(b'Content-Disposition: form-data; name="f"; filename=""\r\n\r\n')
    response = client.post("/form", content=body, headers=MULTIPART)
    assert response.json()["f"][0]["size"] == 0
    assert client.post("/form", content=b"", headers=MULTIPART).json() == {}


def test_other_content_types_give_an_empty_form(client: TestClient) -> None:
    response = client.post("/form", content=b'{"a": 1}', headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert response.json() == {}


async def byte_by_byte(data: bytes) -> AsyncIterator[bytes]:
    for index in range(len(data)):
        yield data[index : index + 1]


def test_multipart_split_at_every_byte() -> None:
    asyncio.run(split_at_every_byte())


async def split_at_every_byte() -> None:
    body = multipart(text_part("a", "1"), b'Content-Disposition: form-data; name="f"; filename="x"\r\n\r\nabc')
    form = await parse_form(Headers(MULTIPART), lambda limit: byte_by_byte(body), FormLimits())
    assert form["a"] == "1"
    upload = form["f"]
    assert isinstance(upload, UploadFile)
    assert await upload.read() == b"abc"
    await form.close()
    assert upload.file.closed


# --------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    ("url", "kwargs", "message"),
    [
        ("/form?max_fields=3", {"data": {f"f{i}": "x" for i in range(4)}}, "Too many fields"),
        (
            "/form?max_fields=3",
            {"content": b"a=1&b=2&c=3&d=4", "headers": {"content-type": "application/x-www-form-urlencoded"}},
            "Too many fields",
        ),
        ("/form?max_files=2", {"files": [("f", ("x", b"1")), ("f", ("y", b"2")), ("f", ("z", b"3"))]}, "Too many files"),
        ("/form?max_part_size=100", {"data": {"big": "x" * 101}}, "exceeded maximum size"),
        (
            "/form?max_part_size=100",
            {"content": b"big=" + b"x" * 200, "headers": {"content-type": "application/x-www-form-urlencoded"}},
            "exceeded maximum size",
        ),
        ("/form", {"content": multipart(text_part("a", "1")), "headers": {"content-type": "multipart/form-data"}}, "boundary"),
        (
            "/form",
            {"content": b"x", "headers": {"content-type": "multipart/form-data; boundary=" + "b" * 300}},
            "Invalid multipart data",
        ),
        ("/form", {"content": b"garbage, not multipart at all", "headers": MULTIPART}, "Invalid multipart data"),
        (
            "/form",
            {"content": b'--B0uNd\r\nContent-Disposition: form-data; name="a"\r\n\r\nunfinished', "headers": MULTIPART},
            "ended before",
        ),
        (
            "/form",
            {"content": multipart(text_part("a", "1", b"X-Long: " + b"v" * 20_000 + b"\r\n")), "headers": MULTIPART},
            "Invalid multipart data",
        ),
        (
            "/form",
            {"content": multipart(b"Content-Type: text/plain\r\n\r\nno name"), "headers": MULTIPART},
            "Content-Disposition",
        ),
        (
            "/form",
            {"content": multipart(b'Content-Disposition: attachment; filename="x"\r\n\r\n1'), "headers": MULTIPART},
            '"name" must be provided',
        ),
    ],
    ids=[
        "too-many-multipart-fields",
        "too-many-urlencoded-fields",
        "too-many-files",
        "huge-multipart-field",
        "huge-urlencoded-field",
        "missing-boundary",
        "overlong-boundary",
        "garbage",
        "truncated",
        "overlong-part-header",
        "no-content-disposition",
        "not-form-data",
    ],
)
def test_hostile_forms_are_400_and_the_server_keeps_serving(
    client: TestClient, url: str, kwargs: dict[str, object], message: str
) -> None:
    response = client.post(url, **kwargs)  # type: ignore[arg-type]  # parametrized httpx keyword arguments
    assert response.status_code == 400, response.text
    assert message in response.text
    assert_still_serving(client)


def test_files_have_their_own_limits_not_the_body_limit(client: TestClient) -> None:
    payload = b"x" * (16 * 1024 * 1024 + 1)  # the default request body limit plus one byte: files go to disk
    assert client.post("/form", files={"f": ("f", payload)}).json()["f"][0]["length"] == len(payload)
    small = {"f": ("f", b"x" * 1001)}
    too_big = client.post("/form?max_file_size=1000", files=small)
    assert (too_big.status_code, too_big.text) == (413, "Uploaded file 'f' too large: the limit is 1000 bytes")
    assert client.post("/form?max_upload_size=1000", files=small).status_code == 413
    assert_still_serving(client)


def test_form_fields_count_against_the_body_limit() -> None:
    """Fields stay in memory, so a multipart body's fields are held to the request's body limit."""
    app = TypedASGI(routes=[Route("/form", echo, methods=["POST"])], max_body_size=1000)
    client = TestClient(app)
    fields = {f"f{index}": "x" * 100 for index in range(12)}
    response = client.post("/form", data=fields, files={"upload": ("u", b"y" * 5000)})
    assert response.status_code == 413 and "Form fields and part headers too large" in response.text
    assert client.post("/form", data={"a": "1"}, files={"upload": ("u", b"y" * 5000)}).status_code == 200


def test_part_header_limit_and_files_closed_on_error() -> None:
    asyncio.run(part_header_limit())


async def part_header_limit() -> None:
    body = multipart(
        b'Content-Disposition: form-data; name="f"; filename="x"\r\n\r\nfile data',
        text_part("a", "1", b"".join(b"X-%d: %s\r\n" % (i, b"v" * 50) for i in range(5))),
    )
    created: list[UploadFile] = []
    original = UploadFile.__init__

    def spy(self: UploadFile, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]  # forwarding to the real constructor
        created.append(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(UploadFile, "__init__", spy)
        with pytest.raises(HTTPException) as info:
            await parse_form(Headers(MULTIPART), lambda limit: byte_by_byte(body), FormLimits(max_part_header_size=200))
    assert info.value.status_code == 400
    assert "Invalid multipart data" in str(info.value.detail)
    assert len(created) == 1 and created[0].file.closed


def test_part_header_limits_are_ours_and_settable(client: TestClient) -> None:
    """A part's header lines are held to max_part_header_size and max_part_headers, set per form() call.

    python-multipart applies its own per-line and per-part caps (4,224 bytes, 8 lines); the
    parser is given ours instead, so a limit raised by the app is the one that holds.
    """
    long_line = text_part("a", "1", b"X-Long: " + b"v" * 9000 + b"\r\n")
    assert client.post("/form", content=multipart(long_line), headers=MULTIPART).json() == {"a": ["1"]}
    too_long = client.post("/form?max_part_header_size=8000", content=multipart(long_line), headers=MULTIPART)
    assert (too_long.status_code, too_long.text) == (400, "Invalid multipart data.")  # Starlette's words
    huge = client.post("/form", content=multipart(text_part("a", "1", b"X: " + b"v" * 20_000 + b"\r\n")), headers=MULTIPART)
    assert (huge.status_code, huge.text) == (400, "Invalid multipart data.")

    nine_lines = text_part("a", "1", b"".join(b"X-%d: v\r\n" % index for index in range(8)))
    refused = client.post("/form", content=multipart(nine_lines), headers=MULTIPART)
    assert (refused.status_code, refused.text) == (400, "Invalid multipart data.")
    allowed = client.post("/form?max_part_headers=9", content=multipart(nine_lines), headers=MULTIPART)
    assert allowed.json() == {"a": ["1"]}
    assert_still_serving(client)


def test_missing_python_multipart_is_a_415_and_a_log_naming_the_extra(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(formparsers, "_multipart", None)
    monkeypatch.setitem(sys.modules, "python_multipart", None)
    response = client.post("/form", files={"f": ("f", b"1")})
    assert response.status_code == 415
    assert any("pip install 'typedasgi[forms]'" in record.getMessage() for record in caplog.records)


def test_form_data_close_closes_every_upload() -> None:
    asyncio.run(form_data_close())


async def form_data_close() -> None:
    body = multipart(
        b'Content-Disposition: form-data; name="f"; filename="a"\r\n\r\n1',
        b'Content-Disposition: form-data; name="g"; filename="b"\r\n\r\n2',
    )

    async def once() -> AsyncIterator[bytes]:
        yield body

    form = await parse_form(Headers(MULTIPART), lambda limit: once(), FormLimits())
    assert isinstance(form, FormData)
    uploads = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
    assert len(uploads) == 2 and not any(upload.file.closed for upload in uploads)
    await form.close()
    assert all(upload.file.closed for upload in uploads)
