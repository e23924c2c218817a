"""``TypedASGI``: the application object, an ASGI app built from routes and middleware.

The stack, outermost first: ServerErrorMiddleware -> plugins' "outer"
middleware -> user middleware (in the order given) -> plugins' "inner"
middleware -> ExceptionMiddleware -> Router. It is built once, on the first
call, and is fixed from then on; the plugins' routes, renderers and handlers
join the app then too (see ``typedasgi.plugins``).
"""

from __future__ import annotations

import functools
import types
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

import msgspec
from typing_extensions import ParamSpec, Unpack

from typedasgi.apidocs import Responses
from typedasgi.background import run_after_response
from typedasgi.datastructures import FormData, State, URLPath
from typedasgi.docs_page import DocsPage
from typedasgi.handlers import Renderer
from typedasgi.hooks import DecodeBody
from typedasgi.markers import Depends
from typedasgi.middleware import Middleware
from typedasgi.middleware.errors import ServerErrorMiddleware
from typedasgi.middleware.exceptions import ExceptionHandler, ExceptionHandlerTable, ExceptionMiddleware
from typedasgi.openapi import openapi_document
from typedasgi.params import RequestValidationError, request_validation_error_response
from typedasgi.plugins import AppPlugins
from typedasgi.requests import DEFAULT_MAX_BODY_SIZE, Request
from typedasgi.responses import SENT_INLINE, Response
from typedasgi.paths import get_route_path
from typedasgi.middleware.tracking import TrackingSend
from typedasgi.routers import APIRouter, MethodDecorators, RouteOptions
from typedasgi.lifespan import failure_message, lifespan_context
from typedasgi.routing import (
    BaseRoute,
    Endpoint,
    Lifespan,
    Match,
    Route,
    Router,
    WebSocketEndpointFunc,
    not_a_response,
    store_params,
)
from typedasgi.types import (
    AnyASGIApp,
    ASGIApp,
    ForeignMiddlewareFactory,
    FrameworkKeys,
    MiddlewareFactory,
    Receive,
    Scope,
    Send,
    ServerReceive,
    ServerScope,
    ServerSend,
    framework_keys,
)

__all__ = ["AppType", "RouteOptions", "Starlette", "TypedASGI"]

_json_encode = msgspec.json.Encoder().encode
_FULL = Match.FULL
_new_request = functools.partial(object.__new__, Request)  # a bare Request: cheaper through partial than called directly
_OWN_LAYER_CALLS = (ServerErrorMiddleware.__call__, ExceptionMiddleware.__call__)  # replaced only by instrumentation
_NO_FORM: FormData | None = None  # typed as the attribute: the endpoint may parse a form

P = ParamSpec("P")
F = TypeVar("F", bound=Callable[..., Any])
WebSocketF = TypeVar("WebSocketF", bound="WebSocketEndpointFunc | AnyASGIApp | Callable[..., Awaitable[None]]")
"""What ``@app.websocket_route`` takes: what ``add_websocket_route`` takes (an HTTP endpoint is refused)."""
HandlerF = TypeVar("HandlerF", bound=ExceptionHandler)
"""What ``@app.exception_handler`` takes: what ``add_exception_handler`` takes."""
AppType = TypeVar("AppType", bound="TypedASGI")


class TypedASGI(MethodDecorators):
    """A typed ASGI application.

    ``max_body_size`` bounds every request body read through ``Request`` (413
    past it); ``None`` lifts the limit. Routes may set their own.
    ``openapi_url`` serves the OpenAPI document (and ``docs_url`` a page for
    it: Swagger UI from the ``docs`` extra, served by the app itself, or from
    ``docs_assets_url`` when one is given); both are off unless ``openapi_url``
    is given. ``title``, ``version``,
    ``description`` and ``servers`` (``[{"url": ..., "description": ...}]``)
    are the document's.
    ``plugins`` load in the order given, then the installed ones unless
    ``autoload_plugins=False`` (or ``TYPEDASGI_DISABLE_PLUGIN_AUTOLOAD=1`` when it
    is left ``None``); ``blocked_plugins`` names plugins never to load.
    """

    handles_typedasgi_exceptions = True  # see typedasgi.exceptions.raises_to_app

    def __init__(
        self: AppType,  # so that a subclass's lifespan may take the subclass (Starlette types it so)
        debug: bool = False,
        routes: Sequence[BaseRoute] | None = None,
        middleware: Sequence[Middleware] | None = None,
        exception_handlers: ExceptionHandlerTable | None = None,
        lifespan: Lifespan[AppType] | None = None,
        *,
        redirect_slashes: bool = True,
        max_body_size: int | None = DEFAULT_MAX_BODY_SIZE,
        openapi_url: str | None = None,
        docs_url: str | None = "/docs",
        docs_assets_url: str | None = None,
        title: str = "TypedASGI",
        version: str = "0.1.0",
        description: str | None = None,
        servers: Sequence[Mapping[str, str]] = (),
        plugins: Sequence[object] | None = None,
        autoload_plugins: bool | None = None,
        blocked_plugins: Collection[str] = (),
    ) -> None:
        self.debug = debug
        self.state: State = State()
        # Called with this app, which is an AppType: stored as the base class's, as the subclass is unknown here.
        self._lifespan: Lifespan[TypedASGI] | None = cast("Lifespan[TypedASGI] | None", lifespan_context(lifespan))
        self.plugins: AppPlugins = AppPlugins(plugins or (), autoload=autoload_plugins, blocked=blocked_plugins)
        run_lifespan = self._run_lifespan if lifespan or self.plugins else None
        self.router: Router = Router(routes, redirect_slashes=redirect_slashes, lifespan=run_lifespan)
        self.user_middleware: list[Middleware] = list(middleware or [])
        self.exception_handlers: dict[int | type[BaseException], ExceptionHandler] = (
            dict(exception_handlers.items()) if exception_handlers is not None else {}
        )
        self.max_body_size = max_body_size
        self.exception_middleware: ExceptionMiddleware | None = None  # built with the middleware stack
        self.middleware_stack: ASGIApp | None = None
        self._direct: ServerErrorMiddleware | None = None  # set when HTTP requests skip the stack (see __call__)
        self.renderers: list[Renderer] = []  # tried for typed handlers' return values before JSON (plugin seam)
        self.body_decoders: dict[str, DecodeBody] = {}  # typed handlers' bodies by media type, besides JSON (plugin seam)
        self.openapi_url: str | None
        self.version: str
        self.title: str
        self.title, self.version, self.openapi_url = title, version, openapi_url
        self.description: str | None = description
        self.servers: list[dict[str, str]] = [dict(server) for server in servers]
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        """``app.dependency_overrides[get_db] = fake_db``: what typed handlers call instead (for tests)."""
        self._openapi: tuple[int, dict[str, Any]] | None = None
        if openapi_url is not None:
            self.router.routes.append(Route(openapi_url, self._openapi_endpoint, include_in_schema=False))
            if docs_url is not None:
                docs = DocsPage(title, openapi_url, docs_url, docs_assets_url)
                self.router.routes.extend(docs.routes())
        self.plugins.register_convertors(self)

    def _run_lifespan(self, router: Router) -> AbstractAsyncContextManager[Mapping[str, Any] | None]:
        own = self._lifespan(self) if self._lifespan is not None else None
        return self.plugins.lifespan(self, own) if self.plugins or own is None else own

    # -- the stack ------------------------------------------------------------------

    def build_middleware_stack(self) -> ASGIApp:
        plugged = self.plugins.configure(self)  # once: adds the plugins' routes, renderers and body decoders
        error_handler = None
        handlers: dict[int | type[BaseException], ExceptionHandler] = {
            RequestValidationError: request_validation_error_response,  # JSON 422; the app's own wins
        }
        for key, handler in {**plugged.exception_handlers, **self.exception_handlers}.items():
            if key in (500, Exception):
                error_handler = handler
            else:
                handlers[key] = handler
        # Described through Middleware, as Starlette builds its two layers: instrumentation written for it
        # (Sentry's) wraps Middleware to patch each layer's class, and then each layer must really run.
        outer = Middleware(ServerErrorMiddleware, handler=error_handler, debug=self.debug)
        inner = Middleware(ExceptionMiddleware, handlers=handlers, debug=self.debug)
        middleware = plugged.middleware_around(self.user_middleware)
        if (ServerErrorMiddleware.__call__, ExceptionMiddleware.__call__) != _OWN_LAYER_CALLS:
            return self._build_layer_by_layer([outer, *middleware, inner])
        exceptions = ExceptionMiddleware(self.router, handlers=handlers, debug=self.debug)
        self.exception_middleware = exceptions  # a Mount's middleware sees the answers to errors below it
        if not middleware:  # nothing in between: the outer layer does both jobs, HTTP in __call__ itself
            errors = ServerErrorMiddleware(self.router, handler=error_handler, debug=self.debug, exceptions=exceptions)
            self._direct = errors
            return errors
        # Innermost: __call__'s own routing again, its errors answered as the ExceptionMiddleware answers them.
        # TypedASGI's own __call__, not self's: a subclass's override (Starlette apps do subclass) ran on top
        # already and takes no ``innermost``, and neither does an instrumentation's patch of the class's.
        app: ASGIApp = functools.partial(_INNERMOST_CALL, self)
        # Where Starlette has its ExceptionMiddleware, whose ``.app`` is the router: middleware that walks
        # ``.app`` down to the Router (to add lifespan hooks, to list routes) gets there the same way.
        setattr(app, "app", self.router)  # a partial takes attributes; its type declares none
        for cls, args, kwargs in reversed(middleware):
            app = cls(app, *args, **kwargs)
        return ServerErrorMiddleware(app, handler=error_handler, debug=self.debug)

    def _build_layer_by_layer(self, layers: list[Middleware]) -> ASGIApp:
        """Starlette's stack as it is: every layer a call of its own, nothing done inline by ``__call__``."""
        *around, (cls, args, kwargs) = layers
        exceptions = cls(self.router, *args, **kwargs)  # an ExceptionMiddleware, as instrumentation left its class
        self.exception_middleware = exceptions
        app: ASGIApp = exceptions
        for cls, args, kwargs in reversed(around):
            app = cls(app, *args, **kwargs)
        return app

    async def _build_on_first_call(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Build the stack when the first scope (usually the lifespan) arrives; a failure fails start-up."""
        outer = framework_keys(scope).get("app")  # set by a typedasgi app this one is mounted in
        if isinstance(outer, TypedASGI) and outer is not self:  # installed plugins act in the outer app only
            self.plugins.leave_installed_to(outer)
        try:
            self.middleware_stack = self.build_middleware_stack()
            self.plugins.notify_configured(self)  # a plugin's app_configured failing fails start-up as well
        except Exception as exc:  # e.g. a middleware refusing its options: fail start-up, not the first request
            if scope["type"] == "lifespan":
                await receive()  # lifespan.startup
                await send({"type": "lifespan.startup.failed", "message": failure_message(exc)})
            raise

    @overload
    async def __call__(self, scope: Scope, receive: Receive, send: Send, *, innermost: bool = False) -> None: ...
    @overload
    async def __call__(self, scope: ServerScope, receive: ServerReceive, send: ServerSend) -> None: ...
    async def __call__(
        self,
        scope: Scope | ServerScope,
        receive: Receive | ServerReceive,
        send: Send | ServerSend,
        innermost: bool = False,  # keyword-only in the overload; positional here: filled without a dict lookup
    ) -> None:
        """The ASGI entry point; the second form is how asgiref's and hypercorn's types call an app.

        ``innermost``: called as the bottom layer of the app's own middleware stack, where
        HTTP requests are routed here too and errors answered by ``exception_middleware``.
        """
        if TYPE_CHECKING:  # the spec's shapes; at run time no call on the hot path
            scope, receive, send = cast("tuple[Scope, Receive, Send]", (scope, receive, send))
        keys: FrameworkKeys = scope  # type: ignore[assignment]  # the same dict, framework view (no call)
        if innermost:
            if scope["type"] != "http":
                assert self.exception_middleware is not None  # built with the stack that calls this
                await self.exception_middleware(scope, receive, send)
                return
            errors = None  # errors are answered as the ExceptionMiddleware answers them; the rest goes up
        else:
            errors = self._direct  # None until the stack is built, and whenever middleware stands between
            if errors is None and self.middleware_stack is None:  # the first call (usually the lifespan)
                await self._build_on_first_call(scope, receive, send)
                await _APP_CALL(self, scope, receive, send)  # built: take the path it opens (not a subclass's override again)
                return
            keys["app"] = self
            if self.max_body_size != DEFAULT_MAX_BODY_SIZE:
                keys["max_body_size"] = self.max_body_size
            if errors is None or scope["type"] != "http":
                stack = self.middleware_stack
                assert stack is not None  # built above
                await stack(scope, receive, send)
                return
        # This frame is the error layers (the ExceptionMiddleware's alone when innermost), the router
        # and a plain endpoint's wrapper at once (see ServerErrorMiddleware.answer, Router.resolve, request_response).
        # ``send`` is wrapped only when it goes to code that may start the response unseen.
        started = False
        tracked: TrackingSend | None = None
        try:
            router = self.router
            if "router" not in keys:
                keys["router"] = router
            try:
                rooted = scope["root_path"]  # pyright: ignore[reportTypedDictNotRequiredAccess]  # KeyError below
            except KeyError:  # optional in the spec
                rooted = ""
            route_path = get_route_path(scope) if rooted else scope["path"]
            # resolve()'s first step read here, without its call: a static path of a plain route.
            static = router._static.get(route_path)  # pyright: ignore[reportPrivateUsage]  # same package; kept right by RouteList
            route: BaseRoute
            try:
                method = scope["method"]  # read once: the HEAD check below uses it too
            except KeyError:  # a hand-built scope without one: GET, written back as the router does
                method = scope["method"] = "GET"
            if static is not None and (plain := static.plain) is not None and method in (static.methods or ()):
                route = static
            elif (  # resolve()'s second step, the same way: a plain route's ``head/{param}`` path
                static is None
                and (tailed := router.tail_match(route_path)) is not None
                and (plain := (route := tailed[0]).plain) is not None
                and method in (route.methods or ())
            ):
                store_params(scope, tailed[1])
            else:
                found, match, params = router.resolve(scope, route_path)
                if match is not _FULL:
                    tracked = TrackingSend(send)
                    await router.unmatched(scope, receive, tracked, route_path, found, params)
                    return
                assert found is not None
                route = found
                plain = route.plain
                if plain is None:
                    route.enter(scope, params)
                    tracked = TrackingSend(send)
                    await (route.handle if route.handle_overridden else route.app)(scope, receive, tracked)
                    return
                store_params(scope, params)
            call, keys["endpoint"], extra_keys = plain  # what Route.enter does, without the call
            keys["route"] = route
            if extra_keys is not None:
                keys.update(extra_keys)  # type: ignore[typeddict-item]  # framework keys (max_body_size)
            request: Request[Any] = _new_request()  # Request(scope, receive, send) without the __init__ frame
            request.scope = scope
            request._receive = receive  # pyright: ignore[reportPrivateUsage]  # same package
            request._send = send  # pyright: ignore[reportPrivateUsage]
            request._form = _NO_FORM  # stored though the class has it: read fast in ``finally`` (see Request.__init__)  # pyright: ignore[reportPrivateUsage]
            try:
                response = await call(request)
                if type(response) not in SENT_INLINE:  # streams, files: they send themselves
                    if not isinstance(response, Response):
                        raise not_a_response(keys.get("endpoint"), response)
                    tracked = TrackingSend(send)
                    await response(scope, receive, tracked)
                    return
                if TYPE_CHECKING:  # SENT_INLINE holds Response classes only
                    assert isinstance(response, Response)
                started = True
                await send({"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers})
                body = b"" if method == "HEAD" else response.body
                await send({"type": "http.response.body", "body": body})  # more_body: False, the spec's default
                if response.background is not None:
                    await run_after_response(response.background, scope)
            except Exception:
                keys["request"] = request  # the error's handler gets this request, its body already read
                raise
            finally:
                if request._form is not None:  # pyright: ignore[reportPrivateUsage]  # same package
                    await request.close()
        except Exception as exc:
            if tracked is not None:
                started = tracked.started
            if errors is not None:
                answered = await errors.answer(exc, scope, receive, send, started=started)
            else:
                assert self.exception_middleware is not None  # innermost: built with the stack
                answered = await self.exception_middleware.handle(exc, scope, receive, send, started=started)
            if not answered:
                raise

    # -- routes -----------------------------------------------------------------------

    @property
    def routes(self) -> list[BaseRoute]:
        return self.router.routes

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        return self.router.url_path_for(name, **path_params)

    def add_route(
        self,
        path: str,
        route: Endpoint | AnyASGIApp | Callable[..., Any],
        methods: Collection[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        self.router.add_route(path, route, methods=methods, name=name, include_in_schema=include_in_schema)

    def add_websocket_route(
        self, path: str, route: WebSocketEndpointFunc | AnyASGIApp | Callable[..., Awaitable[None]], name: str | None = None
    ) -> None:
        self.router.add_websocket_route(path, route, name=name)

    def mount(self, path: str, app: AnyASGIApp, name: str | None = None) -> None:
        self.router.mount(path, app=app, name=name)

    def host(self, host: str, app: AnyASGIApp, name: str | None = None) -> None:
        self.router.host(host, app=app, name=name)

    def route(
        self,
        path: str,
        methods: Collection[str] | None = None,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> Callable[[F], F]:
        """``@app.route("/")``: register the decorated endpoint; it is returned unchanged."""

        def decorator(func: F) -> F:
            self.router.add_route(path, func, methods=methods, name=name, include_in_schema=include_in_schema)
            return func

        return decorator

    def websocket_route(self, path: str, name: str | None = None) -> Callable[[WebSocketF], WebSocketF]:
        def decorator(func: WebSocketF) -> WebSocketF:
            self.router.add_websocket_route(path, func, name=name)
            return func

        return decorator

    # -- middleware and errors ----------------------------------------------------------

    def add_middleware(
        self,
        middleware_class: MiddlewareFactory[P] | ForeignMiddlewareFactory[P],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> None:
        """Add a middleware outside the ones given so far (the last added runs first)."""
        if self.middleware_stack is not None:
            raise RuntimeError("Cannot add middleware after the application has started")
        self.user_middleware.insert(0, Middleware(middleware_class, *args, **kwargs))

    def add_exception_handler(
        self, exc_class_or_status_code: int | type[BaseException], handler: ExceptionHandler
    ) -> None:  # Starlette's parameter names: code passing them by keyword runs unchanged
        if self.middleware_stack is not None:
            raise RuntimeError("Cannot add exception handlers after the application has started")
        self.exception_handlers[exc_class_or_status_code] = handler

    def exception_handler(self, exc_class_or_status_code: int | type[BaseException]) -> Callable[[HandlerF], HandlerF]:
        def decorator(func: HandlerF) -> HandlerF:
            self.add_exception_handler(exc_class_or_status_code, func)
            return func

        return decorator

    # -- typed routes and OpenAPI ---------------------------------------------------------

    def include_router(
        self,
        router: APIRouter,
        *,
        prefix: str = "",
        tags: Sequence[str] = (),
        dependencies: Sequence[Depends] = (),
        responses: Responses | None = None,
    ) -> None:
        """Add ``router``'s routes, below ``prefix``, with these tags, dependencies and responses first."""
        outer = APIRouter(prefix=prefix, tags=tags, dependencies=dependencies, responses=responses)
        outer.include_router(router)
        self.router.routes.extend(outer.routes)

    def api_route(self, path: str, methods: Collection[str], **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register the decorated handler (plain or typed) for ``methods``; it is returned unchanged."""

        def decorator(func: F) -> F:
            self.router.routes.append(Route(path, func, methods=methods, **options))
            return func

        return decorator

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document of this app's routes; rebuilt only when routes were added."""
        if self._openapi is None or self._openapi[0] != len(self.routes):
            document = openapi_document(
                self.routes, title=self.title, version=self.version, description=self.description, servers=self.servers
            )
            self._openapi = (len(self.routes), document)
        return self._openapi[1]

    async def _openapi_endpoint(self, request: Request) -> Response:
        document = self.openapi()
        root_path = request.scope.get("root_path", "")
        if root_path and not self.servers:
            document = {**document, "servers": [{"url": root_path}]}
        return Response(_json_encode(document), media_type="application/json")


_APP_CALL = TypedASGI.__call__  # the routing frame the innermost layer re-enters (see build_middleware_stack)
_INNERMOST_CALL = types.FunctionType(
    _APP_CALL.__code__, _APP_CALL.__globals__, _APP_CALL.__name__, (True,), _APP_CALL.__closure__
)
"""The same function, its one difference ``innermost`` defaulting to True: the innermost layer is a
partial of it with positional arguments only, which CPython calls directly, where a partial holding
``innermost=True`` would copy its keywords into a new dict on every request."""
_INNERMOST_CALL.__qualname__ = _APP_CALL.__qualname__

Starlette = TypedASGI
"""Starlette's name for the application class: the same class, so renamed imports keep working."""
