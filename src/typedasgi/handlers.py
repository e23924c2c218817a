"""Typed handlers at run time: a compiled :class:`~typedasgi.params.Signature` as an ASGI app.

Per request this module only runs the steps ``typedasgi.params`` prepared:
look up each value, convert it, call the handler, encode what it returns. It
reads no annotation. A handler without dependencies is shaped like a plain
endpoint, ``call(request) -> Response`` (``TypedHandler.plain``), which the app
serves inline; the others are ASGI apps. Every parameter is checked before any
dependency runs, so one 422 lists every problem in the request.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Annotated, Any, Protocol

import msgspec
from typing_extensions import is_typeddict

from typedasgi.background import BackgroundTasks, report_after_response
from typedasgi.jsoncodec import encode_json
from typedasgi.concurrency import run_in_threadpool
from typedasgi.convertors import Convertor
from typedasgi.denial import offers_denial
from typedasgi.error_responses import mark_json_errors
from typedasgi.exceptions import HTTPException, MalformedBody, WebSocketException, raises_to_app
from typedasgi.extractors import (
    Inputs,
    NOT_A_FILE,
    Invalid,
    RequestValidationError,
    ValidationErrorItem,
    request_validation_error_response,
    validation_item,
)
from typedasgi.headers import CONTENT_LENGTHS, SMALL_BODY, content_length
from typedasgi.markers import Depends
from typedasgi.middleware.errors import request_line
from typedasgi.params import (
    BodyInfo,
    DependencyOverrides,
    FormField,
    HandlerSignatureError,
    Signature,
    compile_signature,
)
from typedasgi.requests import TOO_DEEP, HTTPConnection, Request
from typedasgi.responses import JSONResponse, Response
from typedasgi.routing_endpoints import PlainCall, request_response
from typedasgi.types import ASGIApp, Receive, Scope, Send
from typedasgi.uploads import UploadFile
from typedasgi.websockets import fit_close_reason

__all__ = ["Renderer", "TypedHandler"]

_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


_new_json_response = functools.partial(object.__new__, JSONResponse)  # cheaper through partial than called directly


def _encoded_json(body: bytes, status_code: int) -> JSONResponse:
    """A typed handler's JSON answer: the body is already encoded, the headers are two fixed pairs.

    Made without ``__init__`` (whose call through the class costs more than the two stores here).
    """
    response = _new_json_response()
    response.body = body
    size = len(body)
    response.raw_headers = [(CONTENT_LENGTHS[size] if size < SMALL_BODY else None) or content_length(size), _JSON_LINE]
    response.status_code = status_code  # stored, not left to the class default: read fast after (see Response)
    response.background = None
    return response


class Renderer(Protocol):
    """Turns a handler's return value into a response, or passes (``None``) to the next one.

    The seam for plugins: ``app.renderers`` is tried in order for every typed
    handler value that is not already a Response; JSON is the fallback.
    """

    def __call__(self, value: object, request: Request[Any], status_code: int, /) -> Response | None: ...


# ------------------------------------------------------------------ bodies


_JSON_LINE = (b"content-type", b"application/json")


def _media_type(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The request's media type, lower-case and without parameters; "" when it names none."""
    for key, value in headers:
        if key == b"content-type":
            return value.decode("latin-1").partition(";")[0].strip().lower()
    return ""


async def read_body(request: Request[Any], body: BodyInfo) -> object:
    """Decode the body into its declared type: JSON (also when no content type is sent) or a form."""
    headers = request.scope.get("headers", ())
    if _JSON_LINE in headers:  # the usual line, found by one C search
        return json_body(await request.body(), body)
    media_type = _media_type(headers)
    if media_type in _FORM_TYPES:
        form = await request.form()
        if not form and not body.required:
            return body.default
        text_only = body.form_text
        for key, value in form.multi_items():
            if isinstance(value, UploadFile) and (text_only is None or key in text_only):
                raise Invalid("body", key, NOT_A_FILE)
        data = {key: form.getlist(key) if key in body.form_lists else form[key] for key in form}
        try:
            return msgspec.convert(data, body.annotation, strict=False)
        except msgspec.ValidationError as error:
            raise validation_item("body", "", error) from None
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        decoders = getattr(request.scope.get("app"), "body_decoders", None)  # the plugins' seam: media type -> decode
        decode = decoders.get(media_type) if decoders else None
        if decode is None:
            raise HTTPException(415, f"Unsupported media type {media_type!r}: send JSON or a form")
        return _decode_with(decode, await request.body(), body, media_type)
    return json_body(await request.body(), body)


def json_body(raw: bytes, body: BodyInfo) -> object:
    """``raw`` decoded into the body's declared type: 422 when it does not fit, 400 when it is not JSON."""
    if not raw:
        if not body.required:
            return body.default
        raise Invalid("body", "", "Field required")
    try:
        return body.decoder.decode(raw)
    except msgspec.ValidationError as error:
        raise validation_item("body", "", error) from None
    except msgspec.DecodeError as error:
        raise MalformedBody(f"Malformed JSON body: {error}") from None
    except RecursionError:  # msgspec's depth guard: a hostile document, not a server fault
        raise MalformedBody(TOO_DEEP) from None


async def read_form(inputs: Inputs, fields: list[FormField], kwargs: dict[str, Any]) -> list[ValidationErrorItem]:
    """Fill the form-field parameters from one parse of the form; the problems found, if any."""
    form = await inputs.connection().form()
    errors: list[ValidationErrorItem] = []
    for field in fields:
        try:
            kwargs[field.name] = field.extract(form)
        except Invalid as invalid:
            errors.append(invalid.item)
    return errors


def _decode_with(decode: Callable[[bytes, Any], object], raw: bytes, body: BodyInfo, media_type: str) -> object:
    """A plugin's decoder: a wrong shape is a 422, a malformed body a 400, like JSON."""
    if not raw and not body.required:
        return body.default
    try:
        return decode(raw, body.annotation)
    except msgspec.ValidationError as error:
        raise validation_item("body", "", error) from None
    except msgspec.DecodeError as error:
        raise MalformedBody(f"Malformed {media_type} body: {error}") from None
    except RecursionError:
        raise MalformedBody(f"Malformed {media_type} body: nested too deeply") from None


# ------------------------------------------------------------------ calling


class _Node:
    """One function to call per request: the handler or a dependency, and where its dependencies' values are."""

    __slots__ = ("signature", "steps", "body", "form", "injected", "deps", "call")

    def __init__(self, signature: Signature, deps: list[tuple[str | None, int]]) -> None:
        self.signature = signature
        self.steps = [(param.name, param.extract) for param in signature.params]
        self.body = signature.body
        self.form = signature.form
        self.injected = [(name, inject) for name, _, inject in signature.injected]
        self.deps = deps
        self.call = _caller(signature)


def _caller(signature: Signature) -> Callable[[dict[str, Any], Inputs], Any]:
    """An async ``call(kwargs, inputs)`` fitted to the function's kind, made once."""
    func = signature.func
    kind = signature.kind
    in_thread = signature.sync_to_thread
    if kind == "async":
        async def call_async(kwargs: dict[str, Any], inputs: Inputs) -> Any:
            return await func(**kwargs)

        return call_async
    if kind == "sync":
        async def call_sync(kwargs: dict[str, Any], inputs: Inputs) -> Any:
            return await run_in_threadpool(func, **kwargs) if in_thread else func(**kwargs)

        return call_sync
    if kind == "asyncgen":
        manager = contextlib.asynccontextmanager(func)

        async def call_asyncgen(kwargs: dict[str, Any], inputs: Inputs) -> Any:
            return await inputs.exit_stack().enter_async_context(manager(**kwargs))

        return call_asyncgen
    sync_manager = contextlib.contextmanager(func)

    async def call_gen(kwargs: dict[str, Any], inputs: Inputs) -> Any:
        context = sync_manager(**kwargs)
        stack = inputs.exit_stack()
        if not in_thread:
            return stack.enter_context(context)
        value = await run_in_threadpool(context.__enter__)

        async def exit_(*exc_info: Any) -> bool | None:
            return await run_in_threadpool(context.__exit__, *exc_info)

        stack.push_async_exit(exit_)
        return value

    return call_gen


def _is_shaped(annotation: object) -> bool:
    """True when ``annotation`` names a Struct, dataclass, TypedDict, NamedTuple or attrs class anywhere."""
    origin = typing.get_origin(annotation)
    if origin is not None:
        args = typing.get_args(annotation)
        return _is_shaped(args[0]) if origin is Annotated else any(_is_shaped(arg) for arg in args)
    if not inspect.isclass(annotation) or issubclass(annotation, Response):
        return False
    return (
        issubclass(annotation, msgspec.Struct)
        or dataclasses.is_dataclass(annotation)
        or is_typeddict(annotation)
        or hasattr(annotation, "__attrs_attrs__")
        or (issubclass(annotation, tuple) and hasattr(annotation, "_fields"))  # pyright: ignore[reportUnknownArgumentType]  # any tuple class
    )


def output_shaper(annotation: object, name: str) -> Callable[[object], object] | None:
    """What makes a return value fit the return annotation: fields it does not declare are dropped.

    ``-> PublicUser`` returning a ``User`` (or a dict, or an ORM object) sends only
    PublicUser's fields; the return annotation is the response model. A value of
    exactly the annotated class is sent as is (one type check per request).
    """
    if not _is_shaped(annotation):
        return None
    exact = annotation if inspect.isclass(annotation) else None

    def shape(value: object) -> object:
        if type(value) is exact:
            return value
        try:
            return msgspec.convert(value, annotation, from_attributes=True)
        except msgspec.ValidationError as error:
            raise TypeError(f"Handler {name} returned a value that does not fit its return annotation "
                            f"{annotation!r}: {error}") from None

    return shape


def merge_into(response: Response, inputs: Inputs, rendered: bool) -> Response:
    """Fold the injected Response (headers, cookies, status) and BackgroundTasks into the answer."""
    temporal = inputs.response
    if temporal is not None and temporal is not response:
        if rendered and temporal.status_code != inputs.status_code:
            response.status_code = temporal.status_code
        replaced = {key for key, _ in temporal.raw_headers if key != b"set-cookie"}
        kept = [(key, value) for key, value in response.raw_headers if key not in replaced]
        response.raw_headers = kept + temporal.raw_headers
    tasks = inputs.background
    if tasks is not None and tasks.tasks:
        response.background = tasks if response.background is None else BackgroundTasks([response.background, tasks])
    return response


def _flatten(signature: Signature) -> list[_Node]:
    """Every function to call, dependencies first; a cached dependency appears once however often used."""
    nodes: list[_Node] = []
    cached: dict[object, int] = {}

    def add(sig: Signature, use_cache: bool) -> int:
        if use_cache and sig.func in cached:
            return cached[sig.func]
        deps = [(name, add(dep, marker.use_cache)) for name, marker, dep in sig.dependencies]
        nodes.append(_Node(sig, deps))
        index = len(nodes) - 1
        if use_cache:
            cached[sig.func] = index
        return index

    add(signature, False)
    return nodes


async def _fail(errors: list[ValidationErrorItem], inputs: Inputs) -> None:
    """Raise for the app's exception handlers; a route used without an app answers the default 422 itself.

    A WebSocket handshake gets the same answer (the server sends it as an HTTP response) where the
    server offers the denial extension; elsewhere a close is all the spec allows before ``accept``:
    1008 with the first problem as its reason (the client sees HTTP 403).
    """
    scope = inputs.scope
    if scope["type"] == "websocket" and not offers_denial(scope):
        first = errors[0]
        reason = f"{first['location']} {first['field']}: {first['message']}"
        raise WebSocketException(1008, fit_close_reason(reason))
    connection = inputs.connection()
    response = _refusal(errors, connection)
    if scope["type"] == "websocket":
        await connection.send_denial_response(response)
    else:
        await response(scope, inputs.receive, inputs.send)


def _refusal(errors: list[ValidationErrorItem], connection: HTTPConnection[Any]) -> Response:
    """Raise for the app's exception handlers; a route used without an app gets the default 422 to send."""
    exc = RequestValidationError(errors)
    if raises_to_app(connection.scope):
        raise exc
    return request_validation_error_response(connection, exc)


def _inputs_of(request: Request[Any]) -> Inputs:
    return Inputs(request.scope, request.receive, request._send, False, request)  # pyright: ignore[reportPrivateUsage]  # same package


def _collect(steps: list[tuple[str, Callable[[Any], object]]], inputs: Inputs) -> list[ValidationErrorItem]:
    errors: list[ValidationErrorItem] = []
    for _, step in steps:
        try:
            step(inputs)
        except Invalid as invalid:
            errors.append(invalid.item)
    return errors


class TypedHandler:
    """A handler with a typed signature, compiled: ``.app`` is the ASGI app the route calls."""

    def __init__(
        self,
        func: Callable[..., Any],
        path_convertors: Mapping[str, Convertor[Any]],
        *,
        status_code: int | None = None,
        response_class: Callable[..., Response] | None = None,
        websocket: bool = False,
        dependencies: Sequence[Depends] = (),
    ) -> None:
        self.func = func
        self._compile_args = (path_convertors, websocket, tuple(dependencies))
        self.signature: Signature = compile_signature(func, path_convertors, websocket=websocket, dependencies=dependencies)
        if self.signature.kind not in ("async", "sync"):
            raise HandlerSignatureError(
                f"Handler {self.signature.name} is a generator; yield in dependencies, not handlers"
            )
        returns_none = self.signature.return_annotation in (None, type(None))
        self.status_code: int = status_code if status_code is not None else (204 if returns_none else 200)
        self.response_class = response_class
        self.shape: Callable[[object], object] | None = output_shaper(self.signature.return_annotation, self.signature.name)
        self.nodes: list[_Node] = _flatten(self.signature)
        self._providers = {dep.func for sig in self.signature.walk() for _, _, dep in sig.dependencies}
        self._overridden: dict[tuple[tuple[object, object], ...], list[_Node]] = {}
        only_connections = all(kind == "connection" for _, kind, _ in self.signature.injected)
        sig = self.signature
        starlette_style = (
            only_connections and not (sig.params or sig.body or sig.form or sig.dependencies) and returns_none
        )
        self.json_errors: bool = not starlette_style
        """Errors leaving it answer in JSON; not for ``endpoint(request) -> None``, Starlette's spelling."""
        self.plain: PlainCall | None = None
        """``call(request) -> Response`` when the handler needs nothing else: the app's dispatch calls it inline."""
        if websocket:
            self.app: ASGIApp = self._general(respond=False)
        elif len(self.nodes) == 1 and not self.signature.form and only_connections:
            call = self._simple()
            self.plain = call
            self.app = request_response(call)
        else:
            self.app = self._general(respond=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Usable wherever an ASGI app is (e.g. ``WebSocketRoute(path, TypedHandler(...))``)."""
        await self.app(scope, receive, send)

    def nodes_for(self, overrides: DependencyOverrides) -> list[_Node]:
        """The nodes with ``app.dependency_overrides`` applied, compiled once per set of overrides."""
        key = tuple((provider, overrides[provider]) for provider in self._providers if provider in overrides)
        if not key:
            return self.nodes
        nodes = self._overridden.get(key)
        if nodes is None:
            path_convertors, websocket, dependencies = self._compile_args
            signature = compile_signature(
                self.func, path_convertors, websocket=websocket, overrides=dict(key), dependencies=dependencies
            )
            nodes = self._overridden[key] = _flatten(signature)
        return nodes

    # -- responses --------------------------------------------------------------------

    def respond(self, value: object, scope: Scope, inputs: Inputs) -> Response:
        """The response for a handler's return value: as is, by a renderer, by response_class, or JSON."""
        if isinstance(value, Response):
            return value
        status_code = self.status_code
        renderers: list[Renderer] | None = getattr(scope.get("app"), "renderers", None)
        if renderers:
            request = inputs.connection()
            for renderer in renderers:
                response = renderer(value, request, status_code)
                if response is not None:
                    return response
        if self.response_class is not None:
            return self.response_class(value, status_code=status_code)
        if status_code < 200 or status_code == 204 or status_code == 304:
            return Response(status_code=status_code)  # no content
        try:
            body = encode_json(value)
        except TypeError as error:
            raise TypeError(f"Handler {self.signature.name} returned a value JSON cannot encode: {error}") from None
        return _encoded_json(body, status_code)

    # -- the apps ---------------------------------------------------------------------

    def _simple(self) -> Callable[[Request[Any]], Awaitable[Response]]:
        """No dependencies: the steps, perhaps a body, the call (the common case, kept lean).

        Shaped as a plain endpoint, ``call(request) -> Response``, so the app's dispatch serves
        it inline as it serves plain endpoints (no send wrapper, no ``enter`` call).
        """
        named_steps = self.nodes[0].steps
        connections = [name for name, _ in self.nodes[0].injected]
        body = self.signature.body
        respond = self.respond
        func = self.func
        node_call = self.nodes[0].call
        # The values go in a list in the signature's order: func(*args) costs ~110 ns less than func(**kwargs).
        parameters = inspect.signature(func).parameters
        filled = [name for name, _ in named_steps] + ([body.name] if body is not None else []) + connections
        order = list(parameters) if set(parameters) == set(filled) else filled
        position = {name: index for index, name in enumerate(order)}
        steps = [(position[name], step) for name, step in named_steps]
        at_connections = [position[name] for name in connections]
        at_body = position[body.name] if body is not None else 0
        # Passed by name (node_call) when a parameter is keyword-only, and to a sync handler (the pool costs more).
        positional = (
            self.signature.kind == "async"
            and order == list(parameters)
            and all(parameter.kind is not parameter.KEYWORD_ONLY for parameter in parameters.values())
        )
        status_code = self.status_code
        json_errors = self.json_errors
        shape = self.shape
        declared = self.signature.return_annotation
        # A value of exactly the declared class needs no shaping, and is no Response unless that class is one.
        value_type = declared if inspect.isclass(declared) and not issubclass(declared, Response) else None
        plain_json = self.response_class is None and 200 <= status_code and status_code not in (204, 304)

        async def call(request: Request[Any]) -> Response:
            scope = request.scope
            inputs: Inputs | None = None
            args: list[Any] = [None] * len(order)
            try:
                errors: list[ValidationErrorItem] | None = None
                if steps:
                    inputs = Inputs(scope, request.receive, request._send, False, request)  # pyright: ignore[reportPrivateUsage]  # same package
                    try:
                        for index, step in steps:  # a plain loop: no comprehension frame on the hot path
                            args[index] = step(inputs)
                    except Invalid:  # the rare path: run every step again to report every problem
                        errors = _collect(named_steps, inputs)
                if body is not None:
                    try:
                        if _JSON_LINE in scope.get("headers", ()):  # JSON, the usual body: read_body's first step inline
                            args[at_body] = json_body(await request.body(), body)
                        else:
                            args[at_body] = await read_body(request, body)
                    except Invalid as invalid:
                        errors = [*(errors or ()), invalid.item]
                if errors:
                    return _refusal(errors, request)
                for index in at_connections:
                    args[index] = request
                if positional:
                    value = await func(*args)
                else:
                    value = await node_call(dict(zip(order, args)), inputs or _inputs_of(request))
                if type(value) is not value_type and shape is not None and not isinstance(value, Response):
                    value = shape(value)
            except Exception as exc:
                if json_errors and isinstance(exc, HTTPException):
                    mark_json_errors(scope)  # the error handler answers a typed route in JSON
                raise
            if (
                plain_json
                and (type(value) is value_type or not isinstance(value, Response))
                and not getattr(scope.get("app"), "renderers", None)
            ):
                try:
                    return _encoded_json(encode_json(value), status_code)  # the common answer: no respond() call
                except TypeError:
                    pass  # respond() says what could not be encoded
            return respond(value, scope, inputs or _inputs_of(request))

        return call

    def _general(self, respond: bool) -> ASGIApp:
        """Bodies and dependencies: read every input first, then call dependencies in order."""
        to_response = self.respond
        websocket = not respond
        status_code = self.status_code
        json_errors = self.json_errors
        shape = self.shape
        nodes_for = self.nodes_for

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            inputs = Inputs(scope, receive, send, websocket)
            inputs.injecting(status_code)
            overrides: DependencyOverrides | None = getattr(scope.get("app"), "dependency_overrides", None)
            nodes = nodes_for(overrides) if overrides else self.nodes
            try:
                errors: list[ValidationErrorItem] = []
                all_kwargs: list[dict[str, Any]] = []
                for node in nodes:
                    kwargs: dict[str, Any] = {}
                    for name, step in node.steps:
                        try:
                            kwargs[name] = step(inputs)
                        except Invalid as invalid:
                            errors.append(invalid.item)
                    if node.body is not None:
                        try:
                            kwargs[node.body.name] = await read_body(inputs.connection(), node.body)
                        except Invalid as invalid:
                            errors.append(invalid.item)
                    if node.form:
                        errors += await read_form(inputs, node.form, kwargs)
                    for name, inject in node.injected:
                        kwargs[name] = inject(inputs)
                    all_kwargs.append(kwargs)
                if errors:
                    await _fail(errors, inputs)
                    return
                results: list[Any] = []
                for node, kwargs in zip(nodes, all_kwargs):
                    for dep_name, index in node.deps:
                        if dep_name is not None:
                            kwargs[dep_name] = results[index]
                    results.append(await node.call(kwargs, inputs))
                if respond:
                    value = results[-1]
                    if shape is not None and not isinstance(value, Response):
                        value = shape(value)
                    response = to_response(value, scope, inputs)
                    if inputs.response is not None or inputs.background is not None:
                        response = merge_into(response, inputs, not isinstance(value, Response))
                    await response(scope, receive, send)
            except BaseException as exc:
                if json_errors and isinstance(exc, HTTPException):
                    mark_json_errors(scope)  # the error handler answers a typed route in JSON
                if inputs.stack is not None:
                    await inputs.stack.__aexit__(type(exc), exc, exc.__traceback__)
                raise
            if inputs.stack is not None:
                try:
                    await inputs.stack.aclose()
                except Exception as exc:
                    if websocket:
                        raise  # the session may be open still: the error layer closes it (1011) and logs it
                    # The response was sent in full: reported as a failing background task is, not re-raised
                    # (the server would log it without the request and close the keep-alive connection).
                    report_after_response(f"Dependency teardown after {request_line(inputs.scope)}", exc)

        return app
