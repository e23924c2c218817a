"""OpenAPI schemas written as YAML in endpoint docstrings, as Starlette does it.

Each endpoint's docstring may end with a YAML block after a ``---`` line; the
generator collects those blocks under their path and method, on top of a base
schema you give. Nothing is inferred: typedasgi's typed handlers get a full
OpenAPI 3.1 document without docstrings (``TypedASGI(openapi_url=...)``); this
module is for code that already documents itself this way.

Needs PyYAML (the ``schemas`` extra: ``pip install 'typedasgi[schemas]'``);
without it, reading or writing YAML raises a ``RuntimeError`` naming the extra.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Protocol, cast

from typedasgi.background import BackgroundTask
from typedasgi.requests import Request
from typedasgi.responses import Response
from typedasgi.routing import BaseRoute, Host, Mount, Route

__all__ = ["BaseSchemaGenerator", "EndpointInfo", "OpenAPIResponse", "SchemaGenerator"]

_YAML_MISSING = "typedasgi.schemas needs PyYAML: pip install 'typedasgi[schemas]'"
_CONVERTOR = re.compile(r":\w+}")
_VIEW_METHODS = ("get", "post", "put", "patch", "delete", "options", "query")
"""Methods looked up on a class endpoint (an ``HTTPEndpoint``), in this order."""


class _YAML(Protocol):
    """The two PyYAML functions used here."""

    def safe_load(self, stream: str) -> object: ...
    def dump(self, data: object, *, default_flow_style: bool) -> str: ...


def _optional_yaml() -> _YAML | None:
    try:
        return cast(_YAML, importlib.import_module("yaml"))
    except ImportError:
        return None


_yaml = _optional_yaml()


def _require_yaml() -> _YAML:
    if _yaml is None:
        raise RuntimeError(_YAML_MISSING)
    return _yaml


class OpenAPIResponse(Response):
    """A schema (a mapping) sent as YAML."""

    media_type: str | None = "application/vnd.oai.openapi"

    def __init__(
        self,
        content: Mapping[str, Any],  # a schema: JSON-like values of any kind
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        body = _require_yaml().dump(dict(content), default_flow_style=False).encode("utf-8")
        super().__init__(body, status_code, headers, media_type, background)


class EndpointInfo(NamedTuple):
    """One documented operation: ``path`` (convertors removed), lower-case ``http_method`` and the function."""

    path: str
    http_method: str
    func: Callable[..., Any]


class BaseSchemaGenerator:
    """Walks routes (through Mounts and Hosts) to the endpoints whose docstrings document them."""

    def get_schema(self, routes: list[BaseRoute]) -> dict[str, Any]:
        raise NotImplementedError

    def get_endpoints(self, routes: list[BaseRoute]) -> list[EndpointInfo]:
        """Every operation of ``routes``: function endpoints per method (HEAD left out), class endpoints per handler."""
        found: list[EndpointInfo] = []
        for route in routes:
            if isinstance(route, (Mount, Host)):
                prefix = self._remove_converter(route.path) if isinstance(route, Mount) else ""
                found += [info._replace(path=prefix + info.path) for info in self.get_endpoints(route.routes)]
            elif not isinstance(route, Route) or not route.include_in_schema:
                continue
            elif inspect.isfunction(route.endpoint) or inspect.ismethod(route.endpoint):
                path = self._remove_converter(route.path)
                for method in sorted(route.methods or ("GET",)):
                    if method != "HEAD":
                        found.append(EndpointInfo(path, method.lower(), route.endpoint))
            else:
                path = self._remove_converter(route.path)
                for method in _VIEW_METHODS:
                    handler = getattr(route.endpoint, method, None)
                    if callable(handler):
                        found.append(EndpointInfo(path, method, handler))
        return found

    def _remove_converter(self, path: str) -> str:
        """``/users/{id:int}`` -> ``/users/{id}``: OpenAPI paths name parameters without types."""
        return _CONVERTOR.sub("}", path)

    def parse_docstring(self, func_or_method: Callable[..., Any]) -> dict[str, Any]:
        """The YAML after the docstring's last ``---`` (or the whole docstring), if it is a mapping; else ``{}``."""
        docstring = func_or_method.__doc__
        if not docstring:
            return {}
        parsed = _require_yaml().safe_load(docstring.split("---")[-1])
        return cast(dict[str, Any], parsed) if isinstance(parsed, dict) else {}

    def OpenAPIResponse(self, request: Request) -> Response:  # noqa: N802  # Starlette's name: an endpoint
        """An endpoint serving the schema of the app that received ``request``."""
        return OpenAPIResponse(self.get_schema(routes=request.app.routes))


class SchemaGenerator(BaseSchemaGenerator):
    """``SchemaGenerator({"openapi": "3.1.0", "info": {...}})``: the base schema, with ``paths`` from docstrings."""

    def __init__(self, base_schema: dict[str, Any]) -> None:
        self.base_schema = base_schema

    def get_schema(self, routes: list[BaseRoute]) -> dict[str, Any]:
        schema = dict(self.base_schema)
        paths: dict[str, dict[str, Any]] = schema.setdefault("paths", {})
        version = re.match(r"(\d+)\.(\d+)", str(schema.get("openapi", "")))
        query_allowed = version is not None and (int(version[1]), int(version[2])) >= (3, 2)  # QUERY is new in 3.2
        for endpoint in self.get_endpoints(routes):
            if endpoint.http_method == "query" and not query_allowed:
                continue
            operation = self.parse_docstring(endpoint.func)
            if operation:
                paths.setdefault(endpoint.path, {})[endpoint.http_method] = operation
        return schema
