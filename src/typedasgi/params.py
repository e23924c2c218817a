"""Typed handler signatures: what each parameter is, read once when the route is registered.

A handler such as ``async def get_item(item_id: int, q: str | None = None) -> Item``
is inspected here, at registration, into a :class:`Signature`: one extraction
step per parameter (path, query, header, cookie, body, form field, injected
object, dependency), each with its converter already chosen.
``typedasgi.handlers`` runs the steps per request; ``typedasgi.openapi``
documents them. Nothing here runs per request except the small step closures.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Annotated, Any, Literal

import msgspec
import msgspec.inspect as mi
from typing_extensions import TypeIs

from typedasgi.background import BackgroundTasks
from typedasgi.concurrency import unwrap_partial
from typedasgi.convertors import Convertor
from typedasgi.extractors import (
    Inputs,
    Location,
    RequestValidationError,
    ValidationErrorItem,
    ValidationErrorResponse,
    convertor_type,
    form_step,
    identity,
    lookup_step,
    path_step,
    request_validation_error_response,
    str_converter,
)
from typedasgi.formparsers import require_multipart
from typedasgi.markers import MARKER_TYPES, Body, Cookie, Depends, File, Form, Header, Marker, Param, Path, Query
from typedasgi.requests import HTTPConnection, Request
from typedasgi.responses import Response
from typedasgi.type_families import form_keys, is_multi, is_optional, type_info, upload_kind
from typedasgi.websockets import WebSocket

__all__ = [
    "Body",
    "BodyInfo",
    "Cookie",
    "Depends",
    "File",
    "Form",
    "FormField",
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

DependencyOverrides = Mapping[Callable[..., Any], Callable[..., Any]]
"""``app.dependency_overrides``: a dependency -> what runs in its place (for tests)."""

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
    marker: Param | None
    extract: Callable[[Any], object]  # step(inputs) -> value; raises Invalid


@dataclasses.dataclass(slots=True)
class FormField:
    """One form field or file part (also read by ``typedasgi.openapi``)."""

    name: str
    key: str
    annotation: Any
    required: bool
    default: object
    multi: bool
    is_file: bool
    marker: Form | None
    extract: Callable[[Any], object]  # step(form) -> value; raises Invalid


Injected = Literal["connection", "background", "response"]
_INJECTORS: dict[Injected, Callable[[Inputs], object]] = {
    "connection": Inputs.connection, "background": Inputs.background_tasks, "response": Inputs.temporal_response,
}


@dataclasses.dataclass(slots=True)
class BodyInfo:
    name: str
    annotation: Any
    required: bool
    default: object
    marker: Body | None
    form_lists: frozenset[str]  # fields that take every value of a repeated form key
    form_text: frozenset[str] | None  # form keys where a file part is refused (None: every key)
    decoder: msgspec.json.Decoder[Any]


@dataclasses.dataclass(slots=True)
class Signature:
    """A handler or dependency, compiled: how to fill each parameter and how to call it."""

    func: Callable[..., Any]
    name: str
    kind: Literal["async", "sync", "asyncgen", "gen"]
    params: list[ParamInfo]
    body: BodyInfo | None
    form: list[FormField]
    injected: list[tuple[str, Injected, Callable[[Inputs], object]]]  # Request/WebSocket, BackgroundTasks, Response
    dependencies: list[tuple[str | None, Depends, Signature]]  # None: run for its effect (router dependencies)
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


def _type_hints(func: Callable[..., Any]) -> dict[str, Any]:
    target = unwrap_partial(func)
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
    target = unwrap_partial(func)
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


def _lone_positional(parameters: Sequence[inspect.Parameter], hints: Mapping[str, Any]) -> object | None:
    """The annotation of the only parameter when it is positional (``empty`` if none); else None."""
    if len(parameters) != 1 or parameters[0].kind not in (parameters[0].POSITIONAL_ONLY, parameters[0].POSITIONAL_OR_KEYWORD):
        return None
    annotation: object = hints.get(parameters[0].name, inspect.Parameter.empty)
    return annotation


def _lone_untyped_parameter(parameters: Sequence[inspect.Parameter], hints: Mapping[str, Any]) -> bool:
    """One positional parameter, unannotated or annotated ``Any`` or ``object``: it gets the connection."""
    annotation = _lone_positional(parameters, hints)
    return annotation is inspect.Parameter.empty or annotation is Any or annotation is object


def _lone_connection_parameter(parameters: Sequence[inspect.Parameter], hints: Mapping[str, Any]) -> bool:
    """One positional parameter that takes the connection: untyped (above) or a connection class."""
    if _lone_untyped_parameter(parameters, hints):
        return True
    annotation = _lone_positional(parameters, hints)
    return annotation is not None and _is_connection(annotation) is not None


_FORWARDING = ([inspect.Parameter.VAR_POSITIONAL], [inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD])


_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _forwards_anything(signature: inspect.Signature) -> bool:
    return [parameter.kind for parameter in signature.parameters.values()] in _FORWARDING


def _starlette_shaped(func: Callable[..., Any], parameters: Sequence[inspect.Parameter]) -> bool:
    """``(request, ...)``, ``request`` unannotated, where Starlette's one-argument call works.

    Either every other parameter is unannotated with a default (``lambda request, ui=ui: ...``,
    the closure-capture idiom), or a ``functools.wraps`` wrapper taking ``(*args, **kwargs)``
    supplies them itself (spectree's validation decorators do). Read as a typed handler,
    ``request`` would be a required query parameter of that name, which no one means.
    """
    if len(parameters) < 2:
        return False
    first, rest = parameters[0], parameters[1:]
    if first.name != "request" or first.annotation is not inspect.Parameter.empty or first.kind not in _POSITIONAL:
        return False
    if all(parameter.default is not inspect.Parameter.empty and parameter.annotation is inspect.Parameter.empty for parameter in rest):
        return True
    if getattr(func, "__wrapped__", None) is None:
        return False
    try:
        return _forwards_anything(inspect.signature(func, follow_wrapped=False))
    except (TypeError, ValueError):
        return False


def is_plain_endpoint(func: Callable[..., Any]) -> bool:
    """True for ``endpoint(request) -> Response``: routed the Starlette way, with no extraction at all.

    The rule: one positional parameter, unannotated or annotated ``Any``,
    ``object`` or a connection class, gets the Request. So does a decorated
    endpoint whose wrapper takes only ``*args``/``**kwargs`` (without
    ``functools.wraps``, or with it over ``(request, ...)``: see
    ``_starlette_shaped``). With a return annotation that is not a Response,
    the endpoint is a typed handler that gets the Request the same way.
    """
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return True
    parameters = list(signature.parameters.values())
    if _forwards_anything(signature):
        return True  # a decorator's wrapper that forwards whatever it is called with
    if _starlette_shaped(func, parameters):
        return True
    try:
        hints = _type_hints(func)
    except (NameError, TypeError):  # unresolvable (maybe only a parameter a partial binds): judge what is left
        return (
            len(parameters) == 1
            and _reads_as(parameters[0].annotation, "Request", _is_connection)
            and _reads_as(signature.return_annotation, "Response", _is_response_class)
        )
    if not _lone_connection_parameter(parameters, hints):
        return False
    returned = hints.get("return", inspect.Parameter.empty)
    return returned is inspect.Parameter.empty or returned is Any or _is_response_class(returned)


def _is_response_class(annotation: object) -> bool:
    origin = typing.get_origin(annotation) or annotation
    return inspect.isclass(origin) and issubclass(origin, Response)


def _reads_as(annotation: object, word: str, of_kind: Callable[[object], object]) -> bool:
    """Missing, text naming ``word`` (it could not be resolved), or a resolved annotation ``of_kind``."""
    if annotation is inspect.Parameter.empty:
        return True
    if isinstance(annotation, str):
        return word in annotation
    return bool(of_kind(annotation))


# ------------------------------------------------------------------ compiling

_INSTEAD = (
    "use a msgspec Struct, dataclass or TypedDict for a JSON body, a str/int/float/bool/enum/UUID/date-like type "
    "(or a list of one) for a parameter, or Annotated[T, Depends(provider)] for a value the app provides"
)


def _split_annotated(annotation: Any) -> tuple[Any, list[Marker]]:
    """``Annotated[int, Meta(ge=1), Query()]`` -> (``Annotated[int, Meta(ge=1)]``, [Query()])."""
    if typing.get_origin(annotation) is not Annotated:
        return annotation, []
    base, *extras = typing.get_args(annotation)
    ours: list[Marker] = [extra for extra in extras if isinstance(extra, MARKER_TYPES)]
    theirs = [extra for extra in extras if not isinstance(extra, MARKER_TYPES)]
    if theirs:
        return Annotated[(base, *theirs)], ours
    return base, ours


def _marker_class(annotation: Any) -> type | None:
    """``Annotated[str, Query]``: a marker class where an instance belongs."""
    if typing.get_origin(annotation) is not Annotated:
        return None
    for extra in typing.get_args(annotation)[1:]:
        if inspect.isclass(extra) and issubclass(extra, MARKER_TYPES):
            return extra
    return None


def _injected(annotation: Any) -> Injected | None:
    if _is_connection(annotation) is not None:
        return "connection"
    if annotation is BackgroundTasks:
        return "background"
    if annotation is Response:
        return "response"
    return None


class _Compiler:
    """Compiles one function's parameters; one method per kind of parameter."""

    def __init__(
        self, func: Callable[..., Any], path_convertors: Mapping[str, Convertor[Any]], websocket: bool,
        overrides: DependencyOverrides, seen: tuple[Callable[..., Any], ...],
    ) -> None:
        self.func, self.path_convertors, self.websocket = func, path_convertors, websocket
        self.overrides, self.seen = overrides, seen
        self.name = _describe(func)

    def fail(self, parameter: str, problem: str) -> HandlerSignatureError:
        return HandlerSignatureError(f"Handler {self.name}, parameter {parameter!r}: {problem}")

    def compile(self) -> Signature:
        func, name = self.func, self.name
        if func in self.seen:
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
            func=func, name=name, kind=_kind(func), params=[], body=None, form=[], injected=[], dependencies=[],
            return_annotation=hints.get("return", inspect.Signature.empty),
        )
        if _lone_untyped_parameter(list(parameters), hints):  # Starlette's rule: the one parameter is the request
            (parameter,) = parameters
            signature.injected.append((parameter.name, "connection", _INJECTORS["connection"]))
            return signature
        for parameter in parameters:
            if parameter.name not in hints and parameter.annotation is not parameter.empty:
                # a class's __init__ whose hints did not resolve: taken as Any, a client's string filled it
                raise self.fail(parameter.name, f"its annotation {parameter.annotation!r} is unknown: the annotations "
                                                f"of {name} do not resolve (a name imported only under TYPE_CHECKING?)")
            self.parameter(signature, parameter, hints.get(parameter.name, Any))
        if signature.body is not None and signature.form:
            raise self.fail(signature.body.name, f"a handler takes a body or form fields, not both "
                                                 f"({signature.form[0].name!r} is a form field)")
        return signature

    def dependency(self, marker: Depends, provider: Callable[..., Any]) -> Signature:
        provider = self.overrides.get(provider, provider)
        compiler = _Compiler(provider, self.path_convertors, self.websocket, self.overrides, (*self.seen, self.func))
        dep = compiler.compile()
        dep.sync_to_thread = marker.sync_to_thread
        return dep

    def parameter(self, signature: Signature, parameter: inspect.Parameter, raw: Any) -> None:
        pname = parameter.name
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD, parameter.POSITIONAL_ONLY):
            raise self.fail(pname, "*args, **kwargs and positional-only parameters cannot be filled from a request")
        if pname == ("websocket" if self.websocket else "request") and parameter.annotation is parameter.empty:
            # Starlette's name for the connection, left unannotated beside typed parameters: meant as the
            # connection (as alone), not as a required query parameter no client sends.
            self.injected(signature, pname, Any, "connection")
            return
        if isinstance(parameter.default, MARKER_TYPES):
            # the FastAPI spelling: never read as a plain default (a client could then set a dependency's value)
            raise self.fail(pname, f"a marker is not a default value; write "
                                   f"`{pname}: Annotated[{_type_name(raw)}, {parameter.default!r}]` instead")
        wrong = _marker_class(raw)
        if wrong is not None:
            raise self.fail(pname, f"write the marker as an instance: {wrong.__name__}(), not {wrong.__name__}")
        annotation, markers = _split_annotated(raw)
        if len(markers) > 1:
            raise self.fail(pname, f"more than one of Query/Header/Cookie/Path/Body/Form/File/Depends: {markers}")
        marker = markers[0] if markers else None
        has_default = parameter.default is not parameter.empty
        default = parameter.default if has_default else None
        required = not has_default and not is_optional(annotation)
        if isinstance(marker, Depends):
            provider = marker.dependency
            if provider is None:
                base = typing.get_args(annotation)[0] if typing.get_origin(annotation) is Annotated else annotation
                if not inspect.isclass(base):
                    raise self.fail(pname, f"Depends() with no argument builds the annotated class, and "
                                           f"{_type_name(base)} is not one; write Depends(provider)")
                provider = base
            signature.dependencies.append((pname, marker, self.dependency(marker, provider)))
            return
        injected = _injected(annotation) if marker is None else None
        if injected is not None:
            self.injected(signature, pname, annotation, injected)
            return
        if marker is None and typing.get_origin(annotation) in (typing.Union, types.UnionType) and any(
            _injected(member) for member in typing.get_args(annotation)
        ):  # else a body: never the request, and a client's JSON null filled it
            raise self.fail(pname, f"{_type_name(raw)} is never given; annotate a Request, WebSocket, "
                                   "BackgroundTasks or Response parameter with the class alone")
        upload = upload_kind(annotation)
        if isinstance(marker, Form) or upload is not None:
            self.form_field(signature, pname, raw, annotation, marker, upload, required, default)
            return
        try:
            info = type_info(annotation)
        except TypeError as error:
            raise self.fail(pname, f"unsupported annotation {_type_name(raw)} ({error}); {_INSTEAD}") from None
        multi = is_multi(info)
        if isinstance(marker, Body) or (marker is None and multi is None and pname not in self.path_convertors):
            self.body(signature, pname, raw, annotation, info, marker, required, default)
            return
        self.lookup(signature, pname, raw, annotation, marker, multi, required, default)

    def injected(self, signature: Signature, pname: str, annotation: Any, kind: Injected) -> None:
        if kind == "connection":
            connection = _is_connection(annotation)
            wanted = WebSocket if self.websocket else Request
            if connection is not None and not issubclass(wanted, connection):
                raise self.fail(pname, f"a {'WebSocket' if self.websocket else 'HTTP'} route gives a "
                                       f"{wanted.__name__}, not a {connection.__name__}")
        elif self.websocket:
            raise self.fail(pname, f"a WebSocket handler sends no HTTP response, so it has no {annotation.__name__}")
        signature.injected.append((pname, kind, _INJECTORS[kind]))

    def form_field(
        self, signature: Signature, pname: str, raw: Any, annotation: Any, marker: Marker | None,
        upload: tuple[bool, bool] | None, required: bool, default: object,
    ) -> None:
        if self.websocket:
            raise self.fail(pname, "a WebSocket handler has no form")
        form_marker = marker if isinstance(marker, Form) else None
        if upload is None:
            if isinstance(marker, File):
                raise self.fail(pname, f"File() takes UploadFile or list[UploadFile], not {_type_name(raw)}")
            multi = is_multi(type_info(annotation))
            if multi is None:
                raise self.fail(pname, f"unsupported annotation {_type_name(raw)} for a form field: use a "
                                       "str/int/float/bool/enum/UUID/date-like type, a list of one, or UploadFile; "
                                       "for the whole form as one Struct, drop Form(): a Struct body reads forms too")
            is_file = False
        else:
            is_file, multi = upload
            try:
                require_multipart()
            except RuntimeError as error:
                raise self.fail(pname, str(error)) from None
        key = (form_marker.alias if form_marker is not None else None) or pname
        convert = identity if is_file else str_converter(annotation)
        signature.form.append(FormField(
            name=pname, key=key, annotation=annotation, required=required, default=default, multi=multi,
            is_file=is_file, marker=form_marker, extract=form_step(key, multi, required, default, convert, is_file),
        ))

    def body(
        self, signature: Signature, pname: str, raw: Any, annotation: Any, info: mi.Type, marker: Marker | None,
        required: bool, default: object,
    ) -> None:
        if self.websocket:
            raise self.fail(pname, "a WebSocket handler has no request body")
        if signature.body is not None:
            raise self.fail(pname, f"a handler takes one body; {signature.body.name!r} is already it")
        if isinstance(info, mi.CustomType):
            raise self.fail(pname, f"unsupported annotation {_type_name(raw)}: not a type msgspec can decode; "
                                   f"{_INSTEAD}")
        try:
            decoder = msgspec.json.Decoder(annotation)
        except TypeError as error:
            raise self.fail(pname, f"unsupported annotation {_type_name(raw)} ({error}); {_INSTEAD}") from None
        form_lists, form_text = form_keys(annotation)
        signature.body = BodyInfo(
            name=pname, annotation=annotation, required=required, default=default,
            marker=marker if isinstance(marker, Body) else None, form_lists=form_lists, form_text=form_text,
            decoder=decoder,
        )

    def lookup(
        self, signature: Signature, pname: str, raw: Any, annotation: Any, marker: Marker | None,
        multi: bool | None, required: bool, default: object,
    ) -> None:
        param_marker = marker if isinstance(marker, Param) else None
        location: Location = param_marker.location if param_marker is not None else (
            "path" if pname in self.path_convertors else "query"
        )
        if multi is None:
            raise self.fail(pname, f"unsupported annotation {_type_name(raw)} for a {location} parameter: "
                                   "use a str/int/float/bool/enum/UUID/date-like type or a list of one")
        if isinstance(marker, Header):
            key = marker.alias or (pname.replace("_", "-") if marker.convert_underscores else pname)
            key = key.lower()
        else:
            key = (param_marker.alias if param_marker is not None else None) or pname
        if location == "path":
            if key not in self.path_convertors:
                raise self.fail(pname, f"the route path has no parameter {{{key}}}")
            produced = convertor_type(self.path_convertors[key])
            convert = identity if produced == annotation or annotation is Any else (
                str if annotation is str else str_converter(annotation)
            )
            step = path_step(key, convert)
            required = True
        elif location == "cookie" and multi:
            raise self.fail(pname, "a cookie has one value; list types are for query parameters and headers")
        else:
            step = lookup_step(
                location, key, multi, required, default, str_converter(annotation), by_name=param_marker is None
            )
        signature.params.append(ParamInfo(
            name=pname, location=location, key=key, annotation=annotation, required=required,
            default=default, multi=multi, marker=param_marker, extract=step,
        ))


def compile_signature(
    func: Callable[..., Any],
    path_convertors: Mapping[str, Convertor[Any]],
    *,
    websocket: bool = False,
    overrides: DependencyOverrides | None = None,
    dependencies: Sequence[Depends] = (),
) -> Signature:
    """Read ``func``'s signature into steps; raise :class:`HandlerSignatureError` for what cannot be filled.

    ``overrides`` replaces dependencies (``app.dependency_overrides``) wherever they appear;
    ``dependencies`` (a router's or a route's) run first, for their effect: their values are not passed.
    """
    compiler = _Compiler(func, path_convertors, websocket, overrides or {}, ())
    signature = compiler.compile()
    extra: list[tuple[str | None, Depends, Signature]] = []
    for marker in dependencies:
        if marker.dependency is None:
            raise HandlerSignatureError(f"Handler {compiler.name}: a route's dependencies need a provider: "
                                        "Depends(provider), not Depends()")
        extra.append((None, marker, compiler.dependency(marker, marker.dependency)))
    signature.dependencies[:0] = extra
    return signature
