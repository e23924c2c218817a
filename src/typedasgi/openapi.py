"""OpenAPI 3.1 from the routes: typed handlers document themselves.

Every schema comes from msgspec (``msgspec.json.schema_components``), computed
once for all the types of all the routes, so a type used by many operations is
one component. Plain ``endpoint(request)`` routes appear with their path
parameters and a bare 200, since nothing more is known about them.
"""

from __future__ import annotations

import dataclasses
import http
import inspect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import msgspec

from typedasgi.apidocs import ResponseDoc
from typedasgi.convertors import Convertor
from typedasgi.datastructures import UploadFile
from typedasgi.extractors import ValidationErrorResponse, convertor_type
from typedasgi.params import ParamInfo, Signature
from typedasgi.responses import Response
from typedasgi.routing import BaseRoute, Mount, Route
from typedasgi.security import SecurityScheme

__all__ = ["openapi_document"]

_REF = "#/components/schemas/{name}"
_METHODS = ("get", "put", "post", "delete", "options", "patch", "trace")


def _schema_hook(cls: type) -> dict[str, Any]:
    """Schemas for the types msgspec has none for: files are binary strings, anything else any value."""
    if issubclass(cls, UploadFile):
        return {"type": "string", "format": "binary"}
    # e.g. ``object``: documented as any value rather than failing the whole document
    return {"description": "Any value" if cls is object else f"A {cls.__name__}"}


def _walk(
    routes: Iterable[BaseRoute], prefix: str, prefix_params: Mapping[str, Convertor[Any]]
) -> Iterator[tuple[str, Route, dict[str, Convertor[Any]]]]:
    """Every documented route with its full path template and the path parameters the template holds."""
    for route in routes:
        if isinstance(route, Route):
            if route.include_in_schema:
                yield prefix + route.path_format, route, {**prefix_params, **route.param_convertors}
        elif isinstance(route, Mount):
            own = {key: value for key, value in route.param_convertors.items() if key != "path"}
            mount_format = route.path_format[: -len("/{path}")]
            yield from _walk(route.routes, prefix + mount_format, {**prefix_params, **own})


class _Schemas:
    """Collects types first, then asks msgspec once for all their schemas."""

    def __init__(self) -> None:
        self.types: list[Any] = []
        self.index: dict[object, int] = {}
        self.results: tuple[dict[str, Any], ...] = ()

    def add(self, annotation: object) -> int:
        key = repr(annotation)
        if key not in self.index:
            self.index[key] = len(self.types)
            self.types.append(annotation)
        return self.index[key]

    def resolve(self) -> dict[str, Any]:
        schemas, components = msgspec.json.schema_components(self.types, schema_hook=_schema_hook, ref_template=_REF)
        self.results = tuple(schemas)
        return components

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.results[index]


def _summary(route: Route) -> str:
    if route.summary:
        return route.summary
    return (route.name or "").replace("_", " ").strip().capitalize()


def _description(route: Route) -> str | None:
    if route.description is not None:
        return route.description
    target = route.handler.func if route.handler is not None else route.endpoint
    doc = inspect.getdoc(target) if inspect.isfunction(target) or inspect.ismethod(target) else None
    return doc or None


def _default(value: object) -> dict[str, Any]:
    """``{"default": ...}`` for a JSON-able default, else nothing."""
    try:
        return {"default": msgspec.to_builtins(value)}
    except TypeError:
        return {}


class _Operation:
    """One (path, method) while the document is built: schema slots are filled once msgspec answers."""

    def __init__(self, path: str, method: str, route: Route, path_params: dict[str, Convertor[Any]], schemas: _Schemas):
        self.path, self.method, self.route = path, method, route
        handler = route.handler
        self.params: list[tuple[dict[str, Any], int, dict[str, Any]]] = []  # entry, schema slot, schema extras
        self.body: tuple[dict[str, Any], int] | None = None
        self.form: tuple[str, list[tuple[str, bool, int]]] | None = None  # media type, (key, required, slot)
        self.others: dict[str, tuple[str, str, int | None]] = {}  # status -> description, media type, slot
        self.security: list[SecurityScheme] = []
        self.returns: int | None = None
        self.validates = False
        seen: set[tuple[str, str]] = set()
        self.path_keys = frozenset(path_params)  # a mount's too: a parameter by name alone reads those
        if handler is not None:
            for signature in handler.signature.walk():
                self._add_signature(signature, seen, schemas)
            returned = handler.signature.return_annotation
            is_response = inspect.isclass(returned) and issubclass(returned, Response)
            if returned is not inspect.Signature.empty and returned is not None and not is_response:
                self.returns = schemas.add(returned)
        for status, doc in route.responses.items():
            if not isinstance(doc, ResponseDoc):
                doc = ResponseDoc(model=doc)
            slot = schemas.add(doc.model) if doc.model is not None else None
            self.others[str(status)] = (doc.description or _phrase(status), doc.media_type, slot)
        for key, convertor in path_params.items():  # the template's other parameters must be declared too
            if ("path", key) not in seen:
                entry = {"name": key, "in": "path", "required": True}
                self.params.append((entry, schemas.add(convertor_type(convertor)), {}))

    def _add_signature(self, signature: Signature, seen: set[tuple[str, str]], schemas: _Schemas) -> None:
        if isinstance(signature.func, SecurityScheme) and signature.func not in self.security:
            self.security.append(signature.func)
        if signature.form and self.form is None:
            self.validates = True
            is_multipart = any(field.is_file for field in signature.form)
            media_type = "multipart/form-data" if is_multipart else "application/x-www-form-urlencoded"
            fields = [(field.key, field.required, schemas.add(field.annotation)) for field in signature.form]
            self.form = (media_type, fields)
        for param in signature.params:
            if param.marker is None and param.location == "query" and param.key in self.path_keys:
                param = dataclasses.replace(param, location="path", required=True)  # a mount's {key}, by name
            if (param.location, param.key) in seen:
                continue
            seen.add((param.location, param.key))
            self.validates = True
            if param.marker is not None and not param.marker.include_in_schema:
                continue
            extras = {} if param.required else _default(param.default)
            self.params.append((self._parameter(param), schemas.add(param.annotation), extras))
        body = signature.body
        if body is not None and self.body is None:
            self.validates = True
            entry: dict[str, Any] = {"required": body.required}
            if body.marker is not None and body.marker.description:
                entry["description"] = body.marker.description
            self.body = (entry, schemas.add(body.annotation))

    @staticmethod
    def _parameter(param: ParamInfo) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": param.key, "in": param.location, "required": param.required}
        marker = param.marker
        if marker is not None:
            if marker.description:
                entry["description"] = marker.description
            if marker.deprecated:
                entry["deprecated"] = True
        if param.multi and param.location == "query":
            entry["style"], entry["explode"] = "form", True
        return entry

    def build(self, schemas: _Schemas, operation_id: str) -> dict[str, Any]:
        route, handler = self.route, self.route.handler
        operation: dict[str, Any] = {"operationId": operation_id, "summary": _summary(route)}
        description = _description(route)
        if description:
            operation["description"] = description
        if route.tags:
            operation["tags"] = list(route.tags)
        if route.deprecated:
            operation["deprecated"] = True
        if self.params:
            parameters: list[dict[str, Any]] = []
            for entry, index, extras in self.params:
                parameters.append({**entry, "schema": {**schemas[index], **extras}})
            operation["parameters"] = parameters
        if self.body is not None:
            entry, index = self.body
            marker = handler.signature.body.marker if handler and handler.signature.body else None
            body_media_type = marker.media_type if marker is not None else "application/json"
            operation["requestBody"] = {**entry, "content": {body_media_type: {"schema": schemas[index]}}}
        if self.form is not None:
            form_type, fields = self.form
            schema: dict[str, Any] = {
                "type": "object", "properties": {key: schemas[index] for key, _, index in fields},
            }
            required = [key for key, is_required, _ in fields if is_required]
            if required:
                schema["required"] = required
            operation["requestBody"] = {"required": bool(required), "content": {form_type: {"schema": schema}}}
        if self.security:
            operation["security"] = [{scheme.scheme_name: [] for scheme in self.security}]
        status = handler.status_code if handler is not None else 200
        response: dict[str, Any] = {"description": _phrase(status)}
        if self.returns is not None and status not in (204, 304):
            media_type = getattr(handler.response_class, "media_type", None) if handler else None
            response["content"] = {media_type or "application/json": {"schema": schemas[self.returns]}}
        responses: dict[str, Any] = {str(status): response}
        for code, (text, other_type, slot) in self.others.items():
            other: dict[str, Any] = {"description": text}
            if slot is not None:
                other["content"] = {other_type: {"schema": schemas[slot]}}
            responses[code] = other
        if self.validates and "422" not in responses:
            responses["422"] = {
                "description": "Validation Error",
                "content": {"application/json": {"schema": schemas[_VALIDATION_SLOT]}},
            }
        operation["responses"] = responses
        return operation


_VALIDATION_SLOT = 0


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Response"


def openapi_document(
    routes: Sequence[BaseRoute],
    *,
    title: str,
    version: str,
    description: str | None = None,
    servers: Sequence[Mapping[str, str]] = (),
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``routes`` (recursing into mounts) as plain JSON-able data."""
    schemas = _Schemas()
    assert schemas.add(ValidationErrorResponse) == _VALIDATION_SLOT
    operations: list[_Operation] = []
    paths_methods: dict[int, list[str]] = {}
    for path, route, path_params in _walk(routes, "", {}):
        methods = sorted(m.lower() for m in (route.methods or {"GET"}) if m.lower() in _METHODS)
        paths_methods[id(route)] = methods
        for method in methods:
            operations.append(_Operation(path, method, route, path_params, schemas))
    components = schemas.resolve()
    paths: dict[str, dict[str, Any]] = {}
    used_ids: set[str] = set()
    for operation in operations:
        base = (operation.route.name or "operation").replace(":", "_")
        if len(paths_methods[id(operation.route)]) > 1:
            base = f"{base}_{operation.method}"
        operation_id, counter = base, 1
        while operation_id in used_ids:
            counter += 1
            operation_id = f"{base}_{counter}"
        used_ids.add(operation_id)
        paths.setdefault(operation.path, {})[operation.method] = operation.build(schemas, operation_id)
    info: dict[str, Any] = {"title": title, "version": version}
    if description:
        info["description"] = description
    document: dict[str, Any] = {"openapi": "3.1.0", "info": info, "paths": paths}
    if servers:
        document["servers"] = [dict(server) for server in servers]
    unused: set[str] = set() if _uses_errors(paths) else {"ValidationErrorResponse", "ValidationErrorItem"}
    used = {name: schema for name, schema in components.items() if name not in unused}
    if used:
        document["components"] = {"schemas": used}
    schemes = _security_schemes(operations)
    if schemes:
        document.setdefault("components", {})["securitySchemes"] = schemes
    return document


def _security_schemes(operations: Iterable[_Operation]) -> dict[str, Any]:
    """Every scheme the operations use, once; two different schemes under one name is a mistake."""
    found: dict[str, SecurityScheme] = {}
    for operation in operations:
        for scheme in operation.security:
            other = found.setdefault(scheme.scheme_name, scheme)
            if other is not scheme and other.openapi() != scheme.openapi():
                raise ValueError(f"Two different security schemes are named {scheme.scheme_name!r}: "
                                 f"{other!r} and {scheme!r}; give one a scheme_name")
    return {name: scheme.openapi() for name, scheme in found.items()}


def _uses_errors(paths: Mapping[str, Any]) -> bool:
    return any("422" in op["responses"] for ops in paths.values() for op in ops.values())
