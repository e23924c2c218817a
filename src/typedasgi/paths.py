"""Route paths: compiling ``/users/{id:int}`` once, and the part of a request path routes see."""

from __future__ import annotations

import re
from typing import Any

from typedasgi.convertors import CONVERTOR_TYPES, Convertor
from typedasgi.types import WWWScope

__all__ = ["PARAM_FORMAT_REGEX", "PARAM_REGEX", "compile_path", "first_segment", "get_route_path", "param_as_path", "replace_params"]

PARAM_REGEX = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(:[a-zA-Z_][a-zA-Z0-9_]*)?}")
"""A parameter in a route path as written: ``{name}`` or ``{name:convertor}``."""
PARAM_FORMAT_REGEX = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)}")
"""A parameter in a compiled path format (convertor already dropped): ``{name}``."""


def compile_path(path: str) -> tuple[re.Pattern[str], str, dict[str, Convertor[Any]]]:
    """``"/users/{id:int}"`` -> (regex, ``"/users/{id}"``, ``{"id": IntegerConvertor}``).

    A path not starting with ``/`` is a host pattern (``{sub}.example.org``),
    matched without any port.
    """
    is_host = not path.startswith("/")
    regex, format_ = "^", ""
    convertors: dict[str, Convertor[Any]] = {}
    duplicated: list[str] = []
    position = 0
    for match in PARAM_REGEX.finditer(path):
        name, convertor_key = match.groups("str")
        convertor_key = convertor_key.lstrip(":")
        if convertor_key not in CONVERTOR_TYPES:
            raise ValueError(f"Unknown path convertor '{convertor_key}' in route path {path!r}")
        if name in convertors:
            if name not in duplicated:
                duplicated.append(name)
            position = match.end()
            continue
        convertor = CONVERTOR_TYPES[convertor_key]
        literal = path[position : match.start()]
        regex += re.escape(literal) + f"(?P<{name}>{convertor.regex})"
        format_ += literal + "{" + name + "}"
        convertors[name] = convertor
        position = match.end()
    if duplicated:
        plural = "s" if len(duplicated) > 1 else ""
        raise ValueError(f"Duplicated param name{plural} {', '.join(duplicated)} at path {path}")
    tail = path[position:]
    format_ += tail  # a host's format keeps its port: reverse URLs point at it
    if is_host:
        port = tail.find(":", tail.rfind("]") + 1)  # after an IPv6 literal's brackets, if any
        if port != -1:
            tail = tail[:port]  # hosts match without the port
    regex += re.escape(tail) + "$"
    return re.compile(regex, re.IGNORECASE if is_host else 0), format_, convertors


def param_as_path(convertor: Convertor[Any], value: Any) -> str:
    """A path parameter's value as it goes into a built URL: ``?`` and ``#`` escaped.

    Unescaped they would end the path there, and what follows would become the URL's query or
    fragment (a value from a client could add query parameters to a link). Escaped, the route
    matches the value back, as the server decodes the path. Anything else is left as given.
    """
    text = convertor.to_string(value)
    if "?" in text or "#" in text:
        text = text.replace("?", "%3F").replace("#", "%23")
    return text


def replace_params(
    path: str, param_convertors: dict[str, Convertor[Any]], path_params: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Fill the ``{name}`` slots of a path format whose values are given; return the path and the unused params.

    Slots without a value stay as ``{name}``, so a mount can fill its own part
    and hand the rest on. ``path_params`` loses the values used, as in Starlette.
    """
    pieces = PARAM_FORMAT_REGEX.split(path)
    for index in range(1, len(pieces), 2):
        name = pieces[index]
        if name in path_params:
            pieces[index] = param_as_path(param_convertors[name], path_params.pop(name))
        else:
            pieces[index] = "{" + name + "}"
    return "".join(pieces), path_params


def get_route_path(scope: WWWScope) -> str:
    """The part of ``path`` below ``root_path``: what routes inside a mount match against."""
    path = scope["path"]
    root_path = scope.get("root_path", "")
    if not root_path:
        return path
    if root_path[-1] == "/":
        root_path = root_path.rstrip("/")  # a proxy configured with "/api/" means "/api"
    if path.startswith(root_path) and (len(path) == len(root_path) or path[len(root_path)] == "/"):
        return path[len(root_path) :]
    return path


def first_segment(path: str) -> str | None:
    """The literal first path segment a route requires, or None when it could match any."""
    if not path.startswith("/"):
        return None
    segment = path[1:].partition("/")[0]
    return None if "{" in segment else segment
