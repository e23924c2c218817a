"""URLs: the request's own (built from its scope), reverse-routed paths, and client/server addresses.

A URL built from a scope keeps only the string; its parts are split out on first use.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import NamedTuple, TypedDict
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from typing_extensions import Self, Unpack

from typedasgi.multidict import MultiDict
from typedasgi.types import WWWScope

__all__ = ["URL", "Address", "URLComponents", "URLPath", "parse_host", "single_host", "valid_port"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class URLComponents(TypedDict, total=False):
    """What ``URL(**components)`` and ``URL.replace(**components)`` accept."""

    scheme: str
    netloc: str
    path: str
    query: str
    fragment: str
    username: str | None
    password: str | None
    hostname: str | None
    port: int | None


_HOST_PORT = re.compile(
    r"(\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+)\]"
    r"|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+)(?::([0-9]+))?"
)
"""RFC 3986 ``host [":" port]``: a reg-name (IPv4 included) or a bracketed IPv6 / IPvFuture literal."""


def parse_host(value: str) -> tuple[str, str | None] | None:
    """``(host, port digits)`` of a ``Host`` header value, or None when it is not a syntactically valid host.

    Anything that could move a URL's authority elsewhere (userinfo ``@``, a path,
    query or fragment, backslashes, spaces, controls, a port that is not a number)
    fails here, so a URL built from an accepted value has that host.
    """
    match = _HOST_PORT.fullmatch(value)
    if match is None:
        return None
    host, port = match.groups()
    if host.startswith("[") and not host.startswith("[v"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return None
    return host, port


MAX_PORT_LENGTH = 20
"""Characters a Host's port may have, leading zeros included: ``URL.port`` reads it with ``int()``, which
refuses more than 4,300 digits (a ValueError: ``example.com:000...080`` was a 500 where a port was read)."""


def valid_port(port: str | None) -> bool:
    """No port, or one in 0-65535 (leading zeros allowed, as RFC 3986 does, up to ``MAX_PORT_LENGTH`` in all)."""
    if port is None:
        return True
    digits = port.lstrip("0")
    return len(port) <= MAX_PORT_LENGTH and len(digits) <= 5 and int(digits or "0") <= 65535


def single_host(scope: WWWScope) -> str | None:
    """The ``Host`` header's value when the request has exactly one, else None: of two, neither can be trusted."""
    host: str | None = None
    for name, value in scope.get("headers", ()):
        if name == b"host" or (len(name) == 4 and name.lower() == b"host"):  # servers send lower case; hand-built may not
            if host is not None:
                return None
            host = value.decode("latin-1")
    return host or None


def _scope_host(scope: WWWScope) -> str | None:
    """The ``Host`` header when there is exactly one and it is a valid host with a valid port, else None.

    None makes the URL fall back to the server's address: a malformed or repeated Host
    never becomes the URL's authority (Starlette falls back the same way).
    """
    host = single_host(scope)
    parsed = None if host is None else parse_host(host)
    return host if parsed is not None and valid_port(parsed[1]) else None


def _escape_path(path: str) -> str:
    """``path`` with a backslash (browsers read it as ``/``) and tab, CR and LF (browsers drop them, and so does
    ``urlsplit``: ``/<tab>/evil.com`` would read as ``//evil.com``, an authority) percent-escaped."""
    return path.replace("\\", "%5C").replace("\t", "%09").replace("\n", "%0A").replace("\r", "%0D")


def _scope_path(scope: WWWScope) -> str:
    # ASGI now puts root_path inside path; older servers did not. Prefix only when missing.
    path, root = scope["path"], scope.get("root_path", "")
    if not root or path == root or path.startswith(root.rstrip("/") + "/"):
        return path
    return root + path


_OTHER_PROTOCOL = {"http": {"ws": "http", "wss": "https"}, "websocket": {"http": "ws", "https": "wss"}}
"""A scheme of the other protocol, read as this one's (secure stays secure): uvicorn's ``--proxy-headers`` puts
``X-Forwarded-Proto: ws`` into an HTTP request's scope as it is, and no browser follows a redirect to ``ws://``."""


def _url_from_scope(scope: WWWScope) -> str:
    """The request's URL, its authority from a valid Host header, else from the server's address."""
    scheme = scope.get("scheme", "http")
    scheme = _OTHER_PROTOCOL.get(scope.get("type", ""), {}).get(scheme, scheme)  # hand-built: "type" may be missing
    # The path stays a path: its delimiters are escaped, "@evil.com" gets its leading "/".
    path = _escape_path(_scope_path(scope).replace("?", "%3F").replace("#", "%23"))
    if not path.startswith("/"):
        path = "/" + path
    host = _scope_host(scope)
    if host is None:
        server = scope.get("server")
        if server is None or server[1] is None:  # no address, or a unix socket's ([path, None]): not a host
            url = "/%2F" + path[2:] if path.startswith("//") else path  # "//evil.com" would be an authority
        else:
            server_host, port = server
            if ":" in server_host and not server_host.startswith("["):
                server_host = f"[{server_host}]"  # IPv6 literal
            if port == _DEFAULT_PORTS.get(scheme):
                url = f"{scheme}://{server_host}{path}"
            else:
                url = f"{scheme}://{server_host}:{port}{path}"
    else:
        url = f"{scheme}://{host}{path}"
    query = scope.get("query_string")  # a WebSocket scope's may be None
    if query:
        try:
            url += "?" + query.decode()
        except UnicodeDecodeError:  # a client sent raw non-UTF-8 bytes: keep them, don't fail
            url += "?" + query.decode("latin-1")
    return url


class URL:
    """An immutable URL; its parts are split out once, on first access."""

    __slots__ = ("_components", "_url")

    def __init__(
        self, url: str = "", scope: WWWScope | None = None, **components: Unpack[URLComponents]
    ) -> None:
        if scope is not None:
            if url or components:
                raise TypeError("URL() takes either 'url', 'scope' or components, not several")
            url = _url_from_scope(scope)
        elif components:
            if url:
                raise TypeError("URL() takes either 'url', 'scope' or components, not several")
            url = str(URL().replace(**components))
        self._url = str(url)
        self._components: SplitResult | None = None

    @property
    def components(self) -> SplitResult:
        if self._components is None:
            self._components = urlsplit(self._url)
        return self._components

    @property
    def scheme(self) -> str:
        return self.components.scheme

    @property
    def netloc(self) -> str:
        return self.components.netloc

    @property
    def path(self) -> str:
        return self.components.path

    @property
    def query(self) -> str:
        return self.components.query

    @property
    def fragment(self) -> str:
        return self.components.fragment

    @property
    def username(self) -> str | None:
        return self.components.username

    @property
    def password(self) -> str | None:
        return self.components.password

    @property
    def hostname(self) -> str | None:
        return self.components.hostname

    @property
    def port(self) -> int | None:
        return self.components.port

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    def replace(self, **components: Unpack[URLComponents]) -> URL:
        """A copy with some parts changed; ``hostname``/``port``/``username``/``password`` rebuild the netloc."""
        if {"hostname", "port", "username", "password"} & components.keys():
            netloc = self.netloc
            hostport = netloc.rpartition("@")[2]
            if "hostname" in components:
                host = components.pop("hostname") or ""
                if ":" in host and not host.startswith("[") and _is_ipv6_address(host):
                    host = f"[{host}]"  # an IPv6 address, as ``hostname`` gives it, needs its brackets back
            elif hostport.startswith("["):
                host = hostport[: hostport.find("]") + 1]
            else:
                host = hostport.partition(":")[0]
            port = components.pop("port") if "port" in components else self.port
            username = components.pop("username") if "username" in components else self.username
            password = components.pop("password") if "password" in components else self.password
            netloc = host if port is None else f"{host}:{port}"
            if username is not None or password is not None:
                auth = username or ""
                if password is not None:
                    auth += ":" + password
                netloc = f"{auth}@{netloc}"
            components["netloc"] = netloc
        parts = self.components
        return URL(
            urlunsplit(
                (
                    components.get("scheme", parts.scheme),
                    components.get("netloc", parts.netloc),
                    components.get("path", parts.path),
                    components.get("query", parts.query),
                    components.get("fragment", parts.fragment),
                )
            )
        )

    def include_query_params(self, **params: object) -> URL:
        """A copy with ``params`` set (replacing same-named ones), the others kept."""
        query = MultiDict(parse_qsl(self.query, keep_blank_values=True))
        query.update({name: str(value) for name, value in params.items()})
        return self.replace(query=urlencode(query.multi_items()))

    def replace_query_params(self, **params: object) -> URL:
        """A copy whose query string is exactly ``params``."""
        return self.replace(query=urlencode([(name, str(value)) for name, value in params.items()]))

    def remove_query_params(self, keys: str | Sequence[str]) -> URL:
        """A copy without the named query parameters."""
        drop = {keys} if isinstance(keys, str) else set(keys)
        pairs = [pair for pair in parse_qsl(self.query, keep_blank_values=True) if pair[0] not in drop]
        return self.replace(query=urlencode(pairs))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (str, URL)):
            return self._url == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._url)

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        url = self if self.password is None else self.replace(password="********")
        return f"{type(self).__name__}({str(url)!r})"


def _is_ipv6_address(host: str) -> bool:
    """Whether ``host`` is a bare IPv6 address (``fe::2``), not a ``name:port``."""
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


class URLPath(str):
    """A path produced by ``url_path_for``, remembering its protocol and host for absolute URLs."""

    protocol: str
    host: str

    def __new__(cls, path: str, protocol: str = "", host: str = "") -> Self:
        if protocol not in ("http", "websocket", ""):
            raise ValueError(f"URLPath protocol must be 'http', 'websocket' or '', got {protocol!r}")
        path = _escape_path(path)
        if path.startswith("//"):  # would read as "//host/...": another site
            path = "/%2F" + path[2:]
        return str.__new__(cls, path)

    def __init__(self, path: str, protocol: str = "", host: str = "") -> None:
        self.protocol = protocol
        self.host = host

    def make_absolute_url(self, base_url: str | URL) -> URL:
        """Join onto ``base_url``, picking ws/wss or http/https by the base's security."""
        base = URL(base_url) if isinstance(base_url, str) else base_url
        if self.protocol == "http":
            scheme = "https" if base.is_secure else "http"
        elif self.protocol == "websocket":
            scheme = "wss" if base.is_secure else "ws"
        else:
            scheme = base.scheme
        netloc = self.host or base.netloc
        path = base.path.rstrip("/") + str(self)
        if not netloc:  # a request with neither Host nor server: no authority to be absolute against
            return URL(path)
        return URL(scheme=scheme, netloc=netloc, path=path)


class Address(NamedTuple):
    host: str
    port: int
