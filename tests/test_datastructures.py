"""typedasgi.datastructures through its public API."""

from __future__ import annotations

import asyncio
import copy
import io
import pickle
import tempfile
import threading
import time
from typing import IO, Any

import pytest
from typing_extensions import assert_type

from typedasgi.datastructures import (
    URL,
    Address,
    CommaSeparatedStrings,
    FormData,
    Headers,
    ImmutableMultiDict,
    MultiDict,
    MutableHeaders,
    QueryParams,
    Secret,
    State,
    UploadFile,
    URLPath,
)
from typedasgi.headers import first_raw_value
from typedasgi.types import HTTPResponseStartEvent

from tests.support import http_scope, websocket_scope


def response_start(headers: list[tuple[bytes, bytes]]) -> HTTPResponseStartEvent:
    return {"type": "http.response.start", "status": 200, "headers": headers, "trailers": False}


# ----------------------------------------------------------------------------- URL


def test_url_components() -> None:
    url = URL("https://user:pw@Example.com:8443/a/b?x=1&y=2#frag")
    assert url.scheme == "https"
    assert url.netloc == "user:pw@Example.com:8443"
    assert url.path == "/a/b"
    assert url.query == "x=1&y=2"
    assert url.fragment == "frag"
    assert url.username == "user"
    assert url.password == "pw"
    assert url.hostname == "example.com"
    assert url.port == 8443
    assert url.is_secure
    assert url.components.netloc == url.netloc
    assert not URL("http://example.com").is_secure
    assert URL("wss://example.com").is_secure
    assert URL("http://example.com").port is None


def test_url_equality_hash_and_str() -> None:
    url = URL("http://example.com/path")
    assert url == "http://example.com/path"
    assert url == URL("http://example.com/path")
    assert url != "http://example.com/other"
    assert url != 42
    assert hash(url) == hash(URL("http://example.com/path"))
    assert str(url) == "http://example.com/path"
    assert {url: 1}[URL("http://example.com/path")] == 1


def test_url_repr_hides_the_password() -> None:
    assert repr(URL("http://example.com/")) == "URL('http://example.com/')"
    shown = repr(URL("https://user:hunter2@example.com/"))
    assert "hunter2" not in shown
    assert shown == "URL('https://user:********@example.com/')"


def test_url_from_components_and_errors() -> None:
    assert URL(scheme="https", netloc="example.com", path="/x", query="a=1") == "https://example.com/x?a=1"
    assert URL(scheme="http", hostname="example.com", port=8000, path="/") == "http://example.com:8000/"
    assert URL() == ""
    with pytest.raises(TypeError):
        URL("http://example.com", path="/x")
    with pytest.raises(TypeError):
        URL("http://example.com", scope=http_scope())


def test_url_replace() -> None:
    url = URL("https://user:pw@example.com:8443/path?x=1#f")
    assert url.replace(scheme="http") == "http://user:pw@example.com:8443/path?x=1#f"
    assert url.replace(path="/other", query="", fragment="") == "https://user:pw@example.com:8443/other"
    assert url.replace(port=None) == "https://user:pw@example.com/path?x=1#f"
    assert url.replace(port=9000) == "https://user:pw@example.com:9000/path?x=1#f"
    assert url.replace(hostname="other.org") == "https://user:pw@other.org:8443/path?x=1#f"
    assert url.replace(username="bob") == "https://bob:pw@example.com:8443/path?x=1#f"
    assert url.replace(password=None) == "https://user@example.com:8443/path?x=1#f"
    assert url.replace(username=None, password=None) == "https://example.com:8443/path?x=1#f"
    assert url.replace(netloc="plain.org") == "https://plain.org/path?x=1#f"
    # The original is untouched.
    assert url == "https://user:pw@example.com:8443/path?x=1#f"


def test_url_replace_keeps_ipv6_brackets() -> None:
    assert URL("http://[::1]:8000/x").replace(port=9000) == "http://[::1]:9000/x"
    assert URL("http://[::1]/x").replace(username="u") == "http://u@[::1]/x"


def test_url_replace_brackets_an_ipv6_hostname() -> None:
    url = URL("https://[fe::2]:12345/p")
    assert url.hostname == "fe::2"
    assert url.replace(hostname=url.hostname) == url
    assert url.replace(hostname="::1") == "https://[::1]:12345/p"
    assert url.replace(hostname="[::1]") == "https://[::1]:12345/p"
    assert URL("https://example.org:8443/p").replace(hostname="fe::3") == "https://[fe::3]:8443/p"
    assert URL("https://example.org:8443/p").replace(hostname="a.org:81", port=None) == "https://a.org:81/p"


def test_url_query_param_helpers() -> None:
    url = URL("http://example.com/?a=1&b=2&a=3&empty=")
    assert url.include_query_params(a="x", c=4) == "http://example.com/?b=2&empty=&a=x&c=4"
    assert url.replace_query_params(z="last word") == "http://example.com/?z=last+word"
    assert url.remove_query_params("a") == "http://example.com/?b=2&empty="
    assert url.remove_query_params(["a", "b", "missing"]) == "http://example.com/?empty="
    assert url.replace_query_params() == "http://example.com/"


def test_url_from_scope_uses_host_header_first() -> None:
    scope = http_scope(
        path="/items", query_string=b"q=1", headers=[(b"host", b"example.org:8080")], server=("10.0.0.1", 9999)
    )
    assert URL(scope=scope) == "http://example.org:8080/items?q=1"


@pytest.mark.parametrize(
    ("scheme", "server", "expected"),
    [
        ("http", ("example.org", 80), "http://example.org/p"),
        ("https", ("example.org", 443), "https://example.org/p"),
        ("http", ("example.org", 8000), "http://example.org:8000/p"),
        ("https", ("example.org", 80), "https://example.org:80/p"),
        ("ws", ("example.org", 80), "ws://example.org/p"),
        ("wss", ("example.org", 443), "wss://example.org/p"),
        ("http", ("::1", 8000), "http://[::1]:8000/p"),
        ("http", ("/run/app.sock", None), "/p"),  # a unix socket's path is no host (http:///run/... reads as host "run")
        ("http", None, "/p"),
    ],
)
def test_url_from_scope_without_host_header(
    scheme: str, server: tuple[str, int | None] | None, expected: str
) -> None:
    build = websocket_scope if scheme.startswith("ws") else http_scope
    assert URL(scope=build(path="/p", scheme=scheme, server=server)) == expected


def test_url_from_a_hand_built_scope_without_a_type() -> None:
    """Starlette's own tests build URLs from scopes of a few keys: the scheme is then taken as it is."""
    scope = {"scheme": "wss", "server": ("example.org", 123), "path": "/p", "query_string": b"a=1", "headers": []}
    assert URL(scope=scope) == "wss://example.org:123/p?a=1"  # type: ignore[arg-type]  # no "type", on purpose


@pytest.mark.parametrize(("scheme", "expected"), [("ws", "http"), ("wss", "https"), ("http", "http"), ("https", "https")])
def test_a_scheme_of_the_other_protocol_is_read_as_this_ones(scheme: str, expected: str) -> None:
    """uvicorn's --proxy-headers puts X-Forwarded-Proto: ws into an HTTP scope as it is (http into a WebSocket's
    it maps): a slash redirect to ws:// is one no browser follows, and url_for's scheme derives from it."""
    headers = [(b"host", b"example.org")]
    assert URL(scope=http_scope(path="/p", scheme=scheme, headers=headers)) == f"{expected}://example.org/p"
    websocket = expected.replace("http", "ws")
    assert URL(scope=websocket_scope(path="/p", scheme=scheme, headers=headers)) == f"{websocket}://example.org/p"


def test_url_from_scope_root_path_in_either_convention() -> None:
    # Current ASGI: path already includes root_path.
    assert URL(scope=http_scope(root_path="/api", path="/api/users")).path == "/api/users"
    assert URL(scope=http_scope(root_path="/api", path="/api")).path == "/api"
    # Older servers: path is relative to root_path.
    assert URL(scope=http_scope(root_path="/api", path="/users")).path == "/api/users"
    assert URL(scope=http_scope(root_path="/api", path="/apiary")).path == "/api/apiary"


def test_url_from_scope_query_string_encodings() -> None:
    utf8 = URL(scope=http_scope(query_string="q=café".encode()))
    assert utf8.query == "q=café"
    raw = URL(scope=http_scope(query_string=b"q=\xff\xfe"))  # not UTF-8: kept, no crash
    assert raw.query == "q=ÿþ"


def test_url_from_websocket_scope() -> None:
    scope = websocket_scope("/ws", scheme="wss", headers=[(b"host", b"example.org")])
    assert URL(scope=scope) == "wss://example.org/ws"


def test_url_path_make_absolute_url() -> None:
    assert URLPath("/users/1", "http").make_absolute_url("https://example.com") == "https://example.com/users/1"
    assert URLPath("/users/1", "http").make_absolute_url("http://example.com/") == "http://example.com/users/1"
    assert URLPath("/ws", "websocket").make_absolute_url(URL("https://example.com/")) == "wss://example.com/ws"
    assert URLPath("/ws", "websocket").make_absolute_url("http://example.com") == "ws://example.com/ws"
    assert URLPath("/x").make_absolute_url("https://example.com/mount/") == "https://example.com/mount/x"
    hosted = URLPath("/x", "http", host="api.example.com")
    assert hosted.make_absolute_url("http://example.com") == "http://api.example.com/x"


def test_url_path_is_a_string_with_protocol_and_host() -> None:
    path = URLPath("/a", protocol="websocket", host="h")
    assert path == "/a"
    assert isinstance(path, str)
    assert (path.protocol, path.host) == ("websocket", "h")
    assert URLPath("/a").protocol == ""
    with pytest.raises(ValueError, match="protocol"):
        URLPath("/a", protocol="ftp")


def test_address() -> None:
    address = Address("127.0.0.1", 8000)
    assert address.host == "127.0.0.1"
    assert address.port == 8000
    host, port = address
    assert (host, port) == ("127.0.0.1", 8000)


# ------------------------------------------------------------------------- Headers


def test_headers_from_mapping_lower_cases_names() -> None:
    headers = Headers({"Content-Type": "text/plain", "X-Token": "abc"})
    assert headers.raw == [(b"content-type", b"text/plain"), (b"x-token", b"abc")]
    assert headers["content-type"] == "text/plain"
    assert headers["CONTENT-TYPE"] == "text/plain"
    assert "X-TOKEN" in headers
    assert "missing" not in headers
    not_a_name: object = 42
    assert not_a_name not in headers


def test_headers_repeated_names() -> None:
    headers = Headers(raw=[(b"a", b"1"), (b"b", b"2"), (b"a", b"3")])
    assert headers["a"] == "1"  # the first line wins for a single lookup
    assert headers.getlist("A") == ["1", "3"]
    assert headers.getlist("missing") == []
    assert list(headers) == ["a", "b", "a"]
    # Lists, as in Starlette: they compare equal to lists, duplicates included.
    assert headers.keys() == ["a", "b", "a"]
    assert headers.values() == ["1", "2", "3"]
    assert headers.items() == [("a", "1"), ("b", "2"), ("a", "3")]
    assert ("a", "3") in headers.items()
    assert ("a", "4") not in headers.items()
    assert "a" in headers.keys()
    assert len(headers) == 3
    assert repr(headers) == "Headers(raw=[(b'a', b'1'), (b'b', b'2'), (b'a', b'3')])"


def test_headers_get_and_missing() -> None:
    headers = Headers({"a": "1"})
    assert headers.get("A") == "1"
    assert headers.get("b") is None
    assert headers.get("b", "default") == "default"
    with pytest.raises(KeyError):
        headers["b"]


def test_headers_latin1_values() -> None:
    headers = Headers(raw=[(b"x-name", "Müller".encode("latin-1"))])
    assert headers["x-name"] == "Müller"
    assert Headers({"x-name": "Müller"}).raw == [(b"x-name", b"M\xfcller")]


def test_headers_equality_and_repr() -> None:
    assert Headers({"a": "1", "b": "2"}) == Headers(raw=[(b"b", b"2"), (b"a", b"1")])
    assert Headers({"a": "1"}) != Headers({"a": "2"})
    assert Headers({"a": "1"}) != {"a": "1"}
    assert repr(Headers({"a": "1"})) == "Headers({'a': '1'})"
    assert Headers() == Headers(raw=[])
    assert len(Headers()) == 0


def test_headers_take_one_source_only() -> None:
    with pytest.raises(TypeError):
        Headers({"a": "1"}, raw=[])
    with pytest.raises(TypeError):
        Headers(raw=[], scope=http_scope())


def test_headers_from_scope_share_the_list_and_parse_on_first_lookup() -> None:
    raw = [(b"host", b"example.org")]
    scope = http_scope(headers=raw)
    headers = Headers(scope=scope)
    assert headers.raw is raw  # no copy at construction
    raw.append((b"late", b"before first lookup"))
    assert headers["late"] == "before first lookup"  # the table is built now, on first use...
    raw.append((b"later", b"after first lookup"))
    assert "later" not in headers  # ...and kept: an immutable view snapshots at first lookup


def test_headers_from_scope_with_a_one_shot_iterable() -> None:
    scope = http_scope()
    scope["headers"] = iter([(b"a", b"1")])
    headers = Headers(scope=scope)
    assert headers["a"] == "1"
    assert list(scope["headers"]) == [(b"a", b"1")]  # still readable by others


def test_mutablecopy_is_independent() -> None:
    headers = Headers({"a": "1"})
    copied = headers.mutablecopy()
    copied["a"] = "2"
    assert headers["a"] == "1"
    assert copied["a"] == "2"
    assert isinstance(copied, MutableHeaders)


def test_mutable_headers_set_replaces_first_and_drops_rest() -> None:
    raw = [(b"a", b"1"), (b"b", b"2"), (b"a", b"3")]
    headers = MutableHeaders(raw=raw)
    headers["A"] = "new"
    assert raw == [(b"a", b"new"), (b"b", b"2")]  # written through, position kept
    headers["c"] = "4"
    assert raw[-1] == (b"c", b"4")


def test_mutable_headers_delete_and_append() -> None:
    raw = [(b"a", b"1"), (b"b", b"2"), (b"a", b"3")]
    headers = MutableHeaders(raw=raw)
    del headers["A"]
    assert raw == [(b"b", b"2")]
    del headers["missing"]  # not an error
    headers.append("Set-Cookie", "x=1")
    headers.append("set-cookie", "y=2")
    assert headers.getlist("set-cookie") == ["x=1", "y=2"]
    assert raw == [(b"b", b"2"), (b"set-cookie", b"x=1"), (b"set-cookie", b"y=2")]


def test_mutable_headers_setdefault_update_and_merge() -> None:
    headers = MutableHeaders({"a": "1"})
    assert headers.setdefault("a", "2") == "1"
    assert headers.setdefault("b", "2") == "2"
    assert headers["b"] == "2"
    headers.update({"a": "10", "c": "3"})
    assert dict(headers) == {"a": "10", "b": "2", "c": "3"}
    headers |= {"d": "4"}
    assert headers["d"] == "4"
    merged = headers | {"a": "merged"}
    assert merged["a"] == "merged"
    assert headers["a"] == "10"
    assert isinstance(merged, MutableHeaders)
    not_a_mapping: Any = {"not", "a mapping"}
    with pytest.raises(TypeError):
        headers | not_a_mapping
    with pytest.raises(TypeError):
        headers |= not_a_mapping


def test_mutable_headers_lookups_see_the_live_list() -> None:
    raw: list[tuple[bytes, bytes]] = []
    headers = MutableHeaders(raw=raw)
    assert "x" not in headers
    raw.append((b"x", b"1"))  # e.g. a response appending to its own raw_headers
    assert headers["x"] == "1"
    raw[0] = (b"x", b"2")
    assert headers.get("x") == "2"


def test_add_vary_header() -> None:
    headers = MutableHeaders()
    headers.add_vary_header("Accept-Encoding")
    assert headers["vary"] == "Accept-Encoding"
    headers.add_vary_header("Origin")
    assert headers["vary"] == "Accept-Encoding, Origin"
    assert headers.getlist("vary") == ["Accept-Encoding, Origin"]


def test_mutable_headers_on_a_message_owns_a_copy() -> None:
    shared = [(b"content-type", b"text/plain")]  # e.g. a Response's raw_headers
    message = response_start(shared)
    headers = MutableHeaders(scope=message)
    headers["x-added"] = "1"
    assert message["headers"] is headers.raw
    assert message["headers"] is not shared
    assert list(message["headers"]) == [(b"content-type", b"text/plain"), (b"x-added", b"1")]
    assert shared == [(b"content-type", b"text/plain")]


def test_mutable_headers_on_a_tuple_message() -> None:
    message = response_start([])
    message["headers"] = ((b"a", b"1"),)
    headers = MutableHeaders(scope=message)
    headers.append("b", "2")
    assert message["headers"] == [(b"a", b"1"), (b"b", b"2")]


# -------------------------------------------------------------------- multi-dicts


def test_immutable_multidict_basics() -> None:
    data = ImmutableMultiDict([("a", "1"), ("b", "2"), ("a", "3")])
    assert data["a"] == "3"  # the last value wins for a single lookup
    assert data.getlist("a") == ["1", "3"]
    assert data.getlist("zzz") == []
    assert data.get("b") == "2"
    assert data.get("zzz") is None
    assert data.get("zzz", "d") == "d"
    assert list(data.keys()) == ["a", "b"]
    assert list(data.values()) == ["3", "2"]
    assert list(data.items()) == [("a", "3"), ("b", "2")]
    assert data.multi_items() == [("a", "1"), ("b", "2"), ("a", "3")]
    assert len(data) == 2
    assert "a" in data
    assert "zzz" not in data
    assert list(data) == ["a", "b"]
    assert repr(data) == "ImmutableMultiDict([('a', '1'), ('b', '2'), ('a', '3')])"
    with pytest.raises(KeyError):
        data["zzz"]


def test_immutable_multidict_sources() -> None:
    assert ImmutableMultiDict({"a": 1}).multi_items() == [("a", 1)]
    source = ImmutableMultiDict([("a", 1), ("a", 2)])
    assert ImmutableMultiDict(source).multi_items() == [("a", 1), ("a", 2)]
    assert ImmutableMultiDict([("a", 1)], b=2).multi_items() == [("a", 1), ("b", 2)]
    assert ImmutableMultiDict(a=1).multi_items() == [("a", 1)]
    # multi_items() is a copy
    items = source.multi_items()
    items.clear()
    assert source.getlist("a") == [1, 2]


def test_immutable_multidict_equality() -> None:
    assert ImmutableMultiDict([("a", "1"), ("b", "2")]) == ImmutableMultiDict([("b", "2"), ("a", "1")])
    assert ImmutableMultiDict([("a", "1"), ("a", "1")]) != ImmutableMultiDict([("a", "1")])
    assert ImmutableMultiDict([("a", "1")]) != ImmutableMultiDict([("a", "2")])
    assert ImmutableMultiDict([("a", "1")]) != {"a": "1"}
    # the values of one key are compared in order (a=1&a=2 is not a=2&a=1), keys in any order
    assert ImmutableMultiDict([("a", "1"), ("a", "2")]) != ImmutableMultiDict([("a", "2"), ("a", "1")])
    assert QueryParams("a=1&b=3&a=2") == QueryParams("b=3&a=1&a=2")
    unhashable = ImmutableMultiDict([("a", [1]), ("b", [2])])
    assert unhashable == ImmutableMultiDict([("b", [2]), ("a", [1])])
    assert unhashable != ImmutableMultiDict([("a", [1]), ("b", [3])])


def test_multidict_mutation() -> None:
    data: MultiDict[str, str] = MultiDict([("a", "1"), ("b", "2"), ("a", "3")])
    data["a"] = "x"
    assert data.multi_items() == [("b", "2"), ("a", "x")]
    data.append("b", "4")
    assert data.getlist("b") == ["2", "4"]
    assert data["b"] == "4"
    del data["b"]
    assert "b" not in data
    assert data.multi_items() == [("a", "x")]
    with pytest.raises(KeyError):
        del data["b"]


def test_multidict_pop_family() -> None:
    data = MultiDict([("a", "1"), ("a", "2"), ("b", "3")])
    assert data.pop("a") == "2"
    assert data.multi_items() == [("b", "3")]
    assert data.pop("zzz", None) is None
    assert data.pop("zzz") is None  # as Starlette's MultiDict: None, not a KeyError
    assert data.pop(key="zzz", default="d") == "d"
    data.setlist("c", ["5", "6"])
    assert data.poplist("c") == ["5", "6"]
    assert data.poplist("c") == []
    assert data.popitem() == ("b", "3")
    assert len(data) == 0
    with pytest.raises(KeyError):
        data.popitem()


def test_multidict_setdefault_setlist_clear_update() -> None:
    data = MultiDict([("a", "1")])
    assert data.setdefault("a", "x") == "1"
    assert data.setdefault("b", "2") == "2"
    assert data.multi_items() == [("a", "1"), ("b", "2")]
    data.setlist("a", ["7", "8"])
    assert data.multi_items() == [("b", "2"), ("a", "7"), ("a", "8")]
    assert data["a"] == "8"
    data.setlist("a", [])
    assert "a" not in data
    data.update([("b", "20"), ("b", "21")], c="3")
    assert data.multi_items() == [("b", "20"), ("b", "21"), ("c", "3")]
    data.update({"d": "4"})
    assert data["d"] == "4"
    data.clear()
    assert data.multi_items() == []
    assert len(data) == 0


def test_query_params_from_strings_and_bytes() -> None:
    params = QueryParams("a=1&b=2&a=3&empty=&flag")
    assert params["a"] == "3"
    assert params.getlist("a") == ["1", "3"]
    assert params["empty"] == ""
    assert params["flag"] == ""
    assert QueryParams(b"q=hello+world&x=%26%3D") == QueryParams("q=hello world&x=" + "%26%3D")
    assert QueryParams(b"q=hello+world")["q"] == "hello world"
    assert QueryParams(b"x=%26%3D")["x"] == "&="
    assert QueryParams(b"name=%C3%A9")["name"] == "é"
    assert len(QueryParams(b"")) == 0


def test_query_params_other_sources_are_stringified() -> None:
    assert QueryParams({"a": "1"}).multi_items() == [("a", "1")]
    assert QueryParams([("a", "1"), ("a", "2")]).getlist("a") == ["1", "2"]
    assert QueryParams(ImmutableMultiDict([("a", "1")])).multi_items() == [("a", "1")]
    assert QueryParams("a=1", b="2").multi_items() == [("a", "1"), ("b", "2")]
    assert QueryParams(b"a=1", b="2").multi_items() == [("a", "1"), ("b", "2")]
    assert QueryParams(x="y").multi_items() == [("x", "y")]
    assert QueryParams().multi_items() == []


def test_query_params_str_and_repr() -> None:
    params = QueryParams("b=2&a=1&a=x y")
    assert str(params) == "b=2&a=1&a=x+y"
    assert repr(params) == "QueryParams('b=2&a=1&a=x+y')"
    assert QueryParams(str(params)) == params


def test_query_params_from_scope_bytes_are_latin1() -> None:
    scope = http_scope(query_string=b"a=\xe9")
    assert QueryParams(scope["query_string"])["a"] == "é"


def test_query_params_parse_linearly_on_hostile_input() -> None:
    # 100k parameters: a quadratic parser would take hours; a linear one milliseconds.
    many = b"&".join(b"k%d=v" % i for i in range(100_000))
    repeated = b"&".join([b"a=1"] * 100_000)
    escapes = b"x=" + b"%41" * 200_000
    start = time.perf_counter()
    params = QueryParams(many)
    assert len(params) == 100_000
    assert params["k99999"] == "v"
    same = QueryParams(repeated)
    assert len(same.getlist("a")) == 100_000
    assert len(QueryParams(escapes)["x"]) == 200_000
    assert time.perf_counter() - start < 5


def test_form_data_and_close() -> None:
    upload = UploadFile(io.BytesIO(b"data"), filename="a.txt")
    form = FormData([("name", "value"), ("file", upload)], extra="x")
    assert form["name"] == "value"
    assert form["file"] is upload
    assert form.getlist("extra") == ["x"]
    assert FormData({"a": "b"})["a"] == "b"
    assert FormData(FormData([("a", "b")])).multi_items() == [("a", "b")]
    asyncio.run(form.close())
    assert upload.file.closed


# ------------------------------------------------------------------------ uploads


def test_upload_file_in_memory() -> None:
    async def main() -> None:
        upload = UploadFile(
            io.BytesIO(), size=0, filename="hello.txt", headers=Headers({"content-type": "text/plain"})
        )
        assert upload.content_type == "text/plain"
        await upload.write(b"hello ")
        await upload.write(b"world")
        assert upload.size == 11
        await upload.seek(0)
        assert await upload.read(5) == b"hello"
        assert await upload.read() == b" world"
        await upload.close()
        assert upload.file.closed

    asyncio.run(main())


def test_upload_file_defaults() -> None:
    upload = UploadFile(io.BytesIO(b"x"))
    assert upload.filename is None
    assert upload.size is None
    assert upload.content_type is None
    assert upload.headers == Headers()
    asyncio.run(upload.write(b"more"))
    assert upload.size is None  # size unknown from the start stays unknown
    assert repr(upload) == "UploadFile(filename=None, size=None, headers=Headers({}))"


class RecordingFile(tempfile.SpooledTemporaryFile[bytes]):
    """A spooled temporary file that records which threads read and write it."""

    def __init__(self, max_size: int) -> None:
        super().__init__(max_size=max_size)
        self.threads: set[str] = set()

    def write(self, data: Any) -> int:
        self.threads.add(threading.current_thread().name)
        return super().write(data)

    def read(self, size: int = -1) -> bytes:
        self.threads.add(threading.current_thread().name)
        return super().read(size)


def exercise(upload: UploadFile) -> None:
    async def main() -> None:
        await upload.write(b"abc")
        await upload.seek(0)
        assert await upload.read() == b"abc"
        await upload.close()

    asyncio.run(main())


def test_upload_file_rolled_to_disk_uses_the_thread_pool() -> None:
    file = RecordingFile(max_size=1024)
    file.rollover()  # on disk now, as after a large upload
    exercise(UploadFile(file))
    assert file.threads
    assert threading.current_thread().name not in file.threads
    assert file.closed


def test_upload_file_still_in_memory_stays_on_the_loop_thread() -> None:
    file = RecordingFile(max_size=1024)
    exercise(UploadFile(file))
    assert file.threads == {threading.current_thread().name}
    assert file.closed


def test_upload_file_over_any_other_file_uses_the_thread_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    with tempfile.TemporaryFile() as file:
        upload = UploadFile(file)
        loop_thread = threading.current_thread().name
        seen: list[str] = []
        original_read = upload.file.read

        def recording_read(size: int = -1) -> bytes:
            seen.append(threading.current_thread().name)
            return original_read(size)

        async def main() -> None:
            await upload.write(b"abc")
            await upload.seek(0)
            monkeypatch.setattr(file, "read", recording_read)
            assert await upload.read() == b"abc"

        asyncio.run(main())
        assert seen and loop_thread not in seen


def test_upload_file_with_a_spooled_file_that_rolls_over() -> None:
    spooled: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=10)
    upload = UploadFile(spooled, size=0)

    async def main() -> None:
        await upload.write(b"12345")
        await upload.write(b"67890" * 4)  # over max_size: now on disk
        await upload.seek(0)
        assert await upload.read() == b"12345" + b"67890" * 4
        await upload.close()

    asyncio.run(main())
    assert upload.size == 25
    assert spooled.closed


# -------------------------------------------------------------------- odds, ends


def test_state_attribute_bag() -> None:
    backing: dict[str, Any] = {"db": "conn"}
    state = State(backing)
    assert state.db == "conn"
    state.count = 1
    assert backing["count"] == 1
    del state.count
    assert "count" not in backing
    with pytest.raises(AttributeError, match="'State' object has no attribute 'missing'"):
        state.missing
    with pytest.raises(AttributeError, match="missing"):
        del state.missing
    assert repr(state) == "State({'db': 'conn'})"
    assert State().__dict__["_state"] == {}


def test_state_copies_and_pickles() -> None:
    state = State({"a": 1})
    assert copy.copy(state).a == 1
    assert copy.deepcopy(state).a == 1
    assert pickle.loads(pickle.dumps(state)).a == 1


def test_comma_separated_strings() -> None:
    values = CommaSeparatedStrings("localhost, 127.0.0.1,'a, b' ,example.com")
    assert list(values) == ["localhost", "127.0.0.1", "a, b", "example.com"]
    assert len(values) == 4
    assert values[0] == "localhost"
    assert list(values[1:3]) == ["127.0.0.1", "a, b"]
    assert repr(values) == "CommaSeparatedStrings(['localhost', '127.0.0.1', 'a, b', 'example.com'])"
    assert str(values) == "'localhost', '127.0.0.1', 'a, b', 'example.com'"
    assert list(CommaSeparatedStrings(["x", "y"])) == ["x", "y"]
    assert list(CommaSeparatedStrings("")) == []


def test_secret_hides_its_value() -> None:
    secret = Secret("hunter2")
    assert str(secret) == "hunter2"
    assert "hunter2" not in repr(secret)
    assert repr(secret) == "Secret('**********')"
    assert secret
    assert not Secret("")


# ------------------------------------------------------------------------- types


def check_types() -> None:
    """Type-checked by mypy with the tree, run by the test below."""
    headers = Headers({"a": "1"})
    assert_type(headers["a"], str)
    assert_type(headers.get("a"), str | None)
    assert_type(headers.get("a", ""), str)
    assert_type(headers.getlist("a"), list[str])
    assert_type(QueryParams("a=1").getlist("a"), list[str])
    assert_type(QueryParams("a=1").get("a"), str | None)
    assert_type(ImmutableMultiDict([("a", 1)])["a"], int)
    assert_type(ImmutableMultiDict(a=1), ImmutableMultiDict[str, int])
    assert_type(MultiDict([("a", 1)]).pop("a", None), int | None)
    assert_type(FormData().get("f"), UploadFile | str | None)
    assert_type(URL("/").port, int | None)
    assert_type(CommaSeparatedStrings("a")[0], str)
    narrow: ImmutableMultiDict[str, object] = ImmutableMultiDict([("a", 1)])  # covariant values
    assert narrow["a"] == 1


def test_types_hold_at_run_time() -> None:
    check_types()


def test_first_raw_value_reads_one_header_of_any_name_case() -> None:
    """What middleware reads one header per request with: exact names first, then names of any case."""
    lines = [(b"host", b"a"), (b"X-Trace", b"upper"), (b"accept", b"*/*"), (b"x-trace", b"lower")]
    scope, hand_made, empty, one_shot = http_scope("GET"), http_scope("GET"), http_scope("GET"), http_scope("GET")
    scope["headers"], hand_made["headers"], empty["headers"] = lines, lines[:3], []
    assert first_raw_value(scope, b"x-trace") == b"lower"  # a server's lower-case line wins over a hand-made one
    assert first_raw_value(hand_made, b"x-trace") == b"upper"  # only a hand-made one: still found
    assert first_raw_value(scope, b"x-tracf") is None  # same length, other name
    assert first_raw_value(scope, b"origin") is None
    assert first_raw_value(empty, b"host") is None
    one_shot["headers"] = iter([(b"Origin", b"https://a.example")])
    assert first_raw_value(one_shot, b"origin") == b"https://a.example"
    assert one_shot["headers"] == [(b"Origin", b"https://a.example")]  # made a list, so others can read it too


def test_headers_from_any_iterable_of_pairs_and_mutable_headers_over_the_list_given() -> None:
    # The spec types a message's headers as an iterable; a tuple or a generator is read once, into a list.
    pairs = ((b"a", b"1"), (b"b", b"2"))
    assert Headers(raw=pairs).getlist("a") == ["1"]
    assert dict(Headers(raw=(pair for pair in pairs))) == {"a": "1", "b": "2"}
    raw = [(b"a", b"1")]
    MutableHeaders(raw=raw)["b"] = "2"  # a list is the one edited
    assert raw == [(b"a", b"1"), (b"b", b"2")]
