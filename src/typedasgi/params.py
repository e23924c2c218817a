"""Typed handler signatures: what each parameter is, read once when the route is registered.

A handler such as ``async def get_item(item_id: int, q: str | None = None) -> Item``
is inspected here, at registration, into a :class:`Signature`: one extraction
step per parameter (path, query, header, cookie, body, connection, dependency),
each with its converter already chosen. ``typedasgi.handlers`` runs the steps
per request; ``typedasgi.openapi`` documents them. Nothing here runs per request
except the small step closures themselves.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any, ClassVar, Literal

import msgspec
import msgspec.inspect as mi
from typing_extensions import TypeIs

from typedasgi.convertors import Convertor
from typedasgi.extractors import (
    Location,
    RequestValidationError,
    ValidationErrorItem,
    ValidationErrorResponse,
    convertor_type,
    identity,
    lookup_step,
    path_step,
    request_validation_error_response,
    str_converter,
)
from typedasgi.requests import HTTPConnection, Request
from typedasgi.responses import Response
from typedasgi.websockets import WebSocket

__all__ = [
    "Body",
    "BodyInfo",
    "Cookie",
    "Depends",
    "Header",
    "HandlerSignatureError",
    "ParamInfo",
    "Path",
    "Query",
    "RequestValidationError",
    "Signature",
    "ValidationErrorItem",
    "ValidationErrorResponse",
    "compile_signature",
    "is_asgi_function",
    "is_plain_endpoint",
    "request_validation_error_response",
]

# ------------------------------------------------------------------ markers


def _short_repr(marker: object) -> str:
    """``Query(alias='page-size')``: only the fields that differ from their defaults."""
    shown = [
        f"{field.name}={getattr(marker, field.name)!r}"
        for field in dataclasses.fields(marker)  # type: ignore[arg-type]  # only called with dataclass markers
        if getattr(marker, field.name) != field.default
    ]
    return f"{type(marker).__name__}({', '.join(shown)})"


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class _Param:
    alias: str | None = None
    """The name on the wire, when it differs from the Python parameter name."""
    description: str | None = None
    deprecated: bool = False
    include_in_schema: bool = True

    location: ClassVar[Location]

    def __repr__(self) -> str:
        return _short_repr(self)


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class Query(_Param):
    """``Annotated[int, Query(alias="page-size")]``: a query-string parameter (``list[T]`` for repeats)."""

    location: ClassVar[Location] = "query"


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class Header(_Param):
    """A request header; by default ``user_agent`` reads ``user-agent`` (``convert_underscores``)."""

    convert_underscores: bool = True
    location: ClassVar[Location] = "header"


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class Cookie(_Param):
    """A request cookie."""

    location: ClassVar[Location] = "cookie"


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class Path(_Param):
    """A path parameter; needed only for an alias: a parameter named like one in the path is one."""

    location: ClassVar[Location] = "path"


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class Body:
    """The request body, decoded from JSON or a form; needed only for a scalar body or a description."""

    description: str | None = None
    media_type: str = "application/json"
    """What the OpenAPI document lists; JSON and form bodies are both accepted whatever it says."""

    def __repr__(self) -> str:
        return _short_repr(self)


class Depends:
    """``Annotated[Session, Depends(get_session)]``: the value ``get_session`` returns or yields.

    The dependency's own parameters are read like a handler's. Sync functions run
    in the thread pool unless ``sync_to_thread=False``; a generator's code after
    ``yield`` runs once the response is sent. With ``use_cache`` (the default) a
    dependency used several times in one request runs once.
    """

    __slots__ = ("dependency", "use_cache", "sync_to_thread")

    def __init__(
        self, dependency: Callable[..., object], *, use_cache: bool = True, sync_to_thread: bool = True
    ) -> None:
        self.dependency = dependency
        self.use_cache = use_cache
        self.sync_to_thread = sync_to_thread

    def __repr__(self) -> str:
        options = "" if self.use_cache else ", use_cache=False"
        options += "" if self.sync_to_thread else ", sync_to_thread=False"
        return f"Depends({getattr(self.dependency, '__name__', _describe(self.dependency))}{options})"


class HandlerSignatureError(TypeError):
    """A handler parameter typedasgi cannot fill: raised when the route is registered, never per request."""


# ------------------------------------------------------------------ the compiled signature


@dataclasses.dataclass(slots=True)
class ParamInfo:
    """One path, query, header or cookie parameter (also read by ``typedasgi.openapi``)."""

    name: str
    location: Location
    key: str
    annotation: Any  # the parameter's type without typedasgi's markers (msgspec.Meta kept)
    required: bool
    default: object
    multi: bool
    marker: _Param | None
    extract: Callable[[Any], object]  # step(inputs) -> value; raises Invalid


@dataclasses.dataclass(slots=True)
class BodyInfo:
    name: str
    annotation: Any
    required: bool
    default: object
    marker: Body | None
    form_lists: frozenset[str]  # fields that take every value of a repeated form key
    decoder: msgspec.json.Decoder[Any]


@dataclasses.dataclass(slots=True)
class Signature:
    """A handler or dependency, compiled: how to fill each parameter and how to call it."""

    func: Callable[..., Any]
    name: str
    kind: Literal["async", "sync", "asyncgen", "gen"]
    params: list[ParamInfo]
    body: BodyInfo | None
    connections: list[str]  # parameters that receive the Request / WebSocket
    dependencies: list[tuple[str, Depends, Signature]]
    return_annotation: Any  # inspect.Signature.empty when not declared
    sync_to_thread: bool = True

    def walk(self) -> Iterator[Signature]:
        """This signature and every dependency below it, dependencies first."""
        for _, _, dep in self.dependencies:
            yield from dep.walk()
        yield self


def _describe(func: object) -> str:
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None) or getattr(type(func), "__qualname__", repr(func))
    return f"{module}.{qualname}" if module else str(qualname)


def _type_name(annotation: object) -> str:
    """``int``, ``list[str]``, ``Session``: an annotation as it would be written."""
    if annotation is Any:
        return "Any"
    if inspect.isclass(annotation) and not typing.get_args(annotation):
        return annotation.__qualname__
    return repr(annotation).replace("typing.", "")


def _target(func: object) -> object:
    while isinstance(func, functools.partial):
        func = func.func
    return func


def _type_hints(func: Callable[..., Any]) -> dict[str, Any]:
    target = _target(func)
    if inspect.isclass(target):
        hints: dict[str, Any] = {}
        for source in (target, target.__init__):
            try:
                hints.update(typing.get_type_hints(source, include_extras=True))
            except (NameError, TypeError):
                pass
        return hints
    if not (inspect.isfunction(target) or inspect.ismethod(target)):
        target = getattr(target, "__call__", target)
    return typing.get_type_hints(target, include_extras=True)


def _kind(func: Callable[..., Any]) -> Literal["async", "sync", "asyncgen", "gen"]:
    target = _target(func)
    if not (inspect.isfunction(target) or inspect.ismethod(target) or inspect.isclass(target)):
        target = getattr(target, "__call__", target)
    if inspect.isasyncgenfunction(target):
        return "asyncgen"
    if inspect.isgeneratorfunction(target):
        return "gen"
    if inspect.iscoroutinefunction(target):
        return "async"
    return "sync"


def _is_connection_class(origin: object) -> TypeIs[type[HTTPConnection[Any]]]:
    # issubclass() alone would leave the state type unknown under pyright
    return inspect.isclass(origin) and issubclass(origin, HTTPConnection)


def _is_connection(annotation: object) -> type[HTTPConnection[Any]] | None:
    origin = typing.get_origin(annotation) or annotation
    return origin if _is_connection_class(origin) else None


def is_asgi_function(func: Callable[..., Any]) -> bool:
    """True for ``app(scope, receive, send)``: a function that is an ASGI app, not an endpoint."""
    try:
        names = list(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return False
    return names == ["scope", "receive", "send"]


def is_plain_endpoint(func: Callable[..., Any]) -> bool:
    """True for ``endpoint(request) -> Response``: routed the Starlette way, with no extraction at all."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return True
    parameters = list(signature.parameters.values())
    if len(parameters) != 1 or parameters[0].kind in (parameters[0].VAR_KEYWORD, parameters[0].KEYWORD_ONLY):
        return False
    try:
        hints = _type_hints(func)
    except (NameError, TypeError):  # unresolvable: judge by the annotations' text; compiling reports the rest
        return _names(parameters[0].annotation, "Request") and _names(signature.return_annotation, "Response")
    annotation = hints.get(parameters[0].name, inspect.Parameter.empty)
    if annotation is not inspect.Parameter.empty and _is_connection(annotation) is None:
        return False
    returned = hints.get("return", inspect.Parameter.empty)
    if returned is inspect.Parameter.empty or returned is Any:
        return True
    returned = typing.get_origin(returned) or returned
    return inspect.isclass(returned) and issubclass(returned, Response)


def _names(annotation: object, word: str) -> bool:
    return annotation is inspect.Parameter.empty or (isinstance(annotation, str) and word in annotation)


# ------------------------------------------------------------------ type families


def _type_info(annotation: Any) -> mi.Type:
    info = mi.type_info(annotation)
    while isinstance(info, mi.Metadata):
        info = info.type
    return info


_SCALARS = (
    mi.StrType, mi.IntType, mi.FloatType, mi.BoolType, mi.EnumType, mi.LiteralType, mi.UUIDType,
    mi.DateTimeType, mi.DateType, mi.TimeType, mi.TimeDeltaType, mi.DecimalType, mi.NoneType, mi.AnyType,
)
_SEQUENCES = (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)


def _is_scalar(info: mi.Type) -> bool:
    while isinstance(info, mi.Metadata):
        info = info.type
    if isinstance(info, mi.UnionType):
        return all(_is_scalar(member) for member in info.types)
    return isinstance(info, _SCALARS)


def _is_multi(info: mi.Type) -> bool | None:
    """True for ``list[int]`` (and ``list[int] | None``), False for a scalar, None for neither."""
    if isinstance(info, mi.UnionType):
        members = [member for member in info.types if not isinstance(member, mi.NoneType)]
        if len(members) == 1:
            info = members[0]
            while isinstance(info, mi.Metadata):
                info = info.type
        elif _is_scalar(info):
            return False
    if isinstance(info, _SEQUENCES):
        return True if _is_scalar(info.item_type) else None
    return False if _is_scalar(info) else None


def _is_optional(annotation: object) -> bool:
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation)


def _form_lists(annotation: object) -> frozenset[str]:
    """The fields of a body type that take a list: form keys that may repeat."""
    try:
        info = _type_info(annotation)
    except TypeError:
        return frozenset()
    fields = getattr(info, "fields", None)
    if not fields:
        return frozenset()
    names: set[str] = set()
    for field in fields:
        field_info = field.type
        while isinstance(field_info, mi.Metadata):
            field_info = field_info.type
        if _is_multi(field_info) or isinstance(field_info, _SEQUENCES):
            names.add(field.encode_name)
    return frozenset(names)


# ------------------------------------------------------------------ compiling


def _split_annotated(annotation: Any) -> tuple[Any, list[_Param | Body | Depends]]:
    """``Annotated[int, Meta(ge=1), Query()]`` -> (``Annotated[int, Meta(ge=1)]``, [Query()])."""
    if typing.get_origin(annotation) is not Annotated:
        return annotation, []
    base, *extras = typing.get_args(annotation)
    ours = [extra for extra in extras if isinstance(extra, (_Param, Body, Depends))]
    theirs = [extra for extra in extras if not isinstance(extra, (_Param, Body, Depends))]
    if theirs:
        return Annotated[(base, *theirs)], ours
    return base, ours


def compile_signature(
    func: Callable[..., Any],
    path_convertors: Mapping[str, Convertor[Any]],
    *,
    websocket: bool = False,
    _seen: tuple[Callable[..., Any], ...] = (),
) -> Signature:
    """Read ``func``'s signature into steps; raise :class:`HandlerSignatureError` for what cannot be filled."""
    name = _describe(func)

    def fail(parameter: str, problem: str) -> HandlerSignatureError:
        return HandlerSignatureError(f"Handler {name}, parameter {parameter!r}: {problem}")

    if func in _seen:
        raise HandlerSignatureError(f"Dependency cycle through {name}")
    try:
        hints = _type_hints(func)
    except (NameError, TypeError) as error:
        raise HandlerSignatureError(f"Handler {name}: cannot resolve its annotations ({error})") from None
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError) as error:
        raise HandlerSignatureError(f"Handler {name}: no signature ({error})") from None
    signature = Signature(
        func=func, name=name, kind=_kind(func), params=[], body=None, connections=[], dependencies=[],
        return_annotation=hints.get("return", inspect.Signature.empty),
    )
    for parameter in parameters:
        pname = parameter.name
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD, parameter.POSITIONAL_ONLY):
            raise fail(pname, "*args, **kwargs and positional-only parameters cannot be filled from a request")
        raw = hints.get(pname, Any)
        if isinstance(parameter.default, (_Param, Body, Depends)):
            # the FastAPI spelling: never read as a plain default (a client could then set a dependency's value)
            raise fail(pname, f"a marker is not a default value; write "
                              f"`{pname}: Annotated[{_type_name(raw)}, {parameter.default!r}]` instead")
        annotation, markers = _split_annotated(raw)
        if len(markers) > 1:
            raise fail(pname, f"more than one of Query/Header/Cookie/Path/Body/Depends: {markers}")
        marker = markers[0] if markers else None
        has_default = parameter.default is not parameter.empty
        default = parameter.default if has_default else None
        if isinstance(marker, Depends):
            dep = compile_signature(marker.dependency, path_convertors, websocket=websocket, _seen=(*_seen, func))
            dep.sync_to_thread = marker.sync_to_thread
            signature.dependencies.append((pname, marker, dep))
            continue
        connection = _is_connection(annotation) if marker is None else None
        if connection is not None:
            wanted = WebSocket if websocket else Request
            if not issubclass(wanted, connection):
                raise fail(pname, f"a {'WebSocket' if websocket else 'HTTP'} route gives a {wanted.__name__}, "
                                  f"not a {connection.__name__}")
            signature.connections.append(pname)
            continue
        try:
            info = _type_info(annotation)
        except TypeError as error:
            raise fail(pname, f"unsupported annotation {raw!r} ({error})") from None
        multi = _is_multi(info)
        required = not has_default and not _is_optional(annotation)
        if isinstance(marker, Body) or (marker is None and multi is None and pname not in path_convertors):
            if websocket:
                raise fail(pname, "a WebSocket handler has no request body")
            if signature.body is not None:
                raise fail(pname, f"a handler takes one body; {signature.body.name!r} is already it")
            if isinstance(info, mi.CustomType):
                raise fail(pname, f"unsupported annotation {raw!r}: not a type msgspec can decode")
            try:
                decoder = msgspec.json.Decoder(annotation)
            except TypeError as error:
                raise fail(pname, f"unsupported annotation {raw!r} ({error})") from None
            signature.body = BodyInfo(
                name=pname, annotation=annotation, required=required, default=default,
                marker=marker if isinstance(marker, Body) else None, form_lists=_form_lists(annotation),
                decoder=decoder,
            )
            continue
        param_marker = marker if isinstance(marker, _Param) else None
        location: Location = param_marker.location if param_marker is not None else (
            "path" if pname in path_convertors else "query"
        )
        if multi is None:
            raise fail(pname, f"unsupported annotation {raw!r} for a {location} parameter: "
                              "use a str/int/float/bool/enum/UUID/date-like type or a list of one")
        if isinstance(marker, Header):
            key = marker.alias or (pname.replace("_", "-") if marker.convert_underscores else pname)
            key = key.lower()
        else:
            key = (param_marker.alias if param_marker is not None else None) or pname
        if location == "path":
            if key not in path_convertors:
                raise fail(pname, f"the route path has no parameter {{{key}}}")
            produced = convertor_type(path_convertors[key])
            convert = identity if produced == annotation or annotation is Any else (
                str if annotation is str else str_converter(annotation)
            )
            step = path_step(key, convert)
            required = True
        elif location == "cookie" and multi:
            raise fail(pname, "a cookie has one value; list types are for query parameters and headers")
        else:
            step = lookup_step(location, key, multi, required, default, str_converter(annotation))
        signature.params.append(ParamInfo(
            name=pname, location=location, key=key, annotation=annotation, required=required,
            default=default, multi=multi, marker=param_marker, extract=step,
        ))
    return signature
