"""Routes, mounts, hosts and the router that picks one: Starlette's ``routing`` module path.

Everything costly happens when a route is registered: the path is compiled to
a regex (or recognised as static), the endpoint kind is decided, and the router
indexes routes by their first literal path segment, so finding the route for a
request costs about the same with 5 routes as with 500. The parts live in
``routing_base`` (the route protocol), ``routing_endpoints`` (plain endpoints as
ASGI apps), ``routing_routes`` (Route, WebSocketRoute) and ``routing_router``
(Router, Mount, Host); this module names them all.
"""

from __future__ import annotations

import sys
import types

from typedasgi import routing_routes
from typedasgi.paths import PARAM_FORMAT_REGEX, PARAM_REGEX, compile_path, get_route_path, replace_params
from typedasgi.routing_base import BaseRoute, Match, NoMatchFound, store_params
from typedasgi.routing_endpoints import (
    Endpoint,
    PlainCall,
    WebSocketEndpointFunc,
    get_name,
    not_a_response,
    plain_call,
    request_response,
    websocket_session,
)
from typedasgi.routing_router import Host, Lifespan, Mount, Router
from typedasgi.routing_routes import Route, WebSocketRoute

__all__ = [
    "BaseRoute",
    "Endpoint",
    "Host",
    "Lifespan",
    "PARAM_FORMAT_REGEX",
    "PARAM_REGEX",
    "Match",
    "Mount",
    "NoMatchFound",
    "PlainCall",
    "Route",
    "Router",
    "WebSocketEndpointFunc",
    "WebSocketRoute",
    "compile_path",
    "get_name",
    "get_route_path",
    "not_a_response",
    "plain_call",
    "replace_params",
    "request_response",
    "store_params",
    "websocket_session",
]


class _RoutingModule(types.ModuleType):
    """This module, keeping Starlette's patch points: ``routing.request_response = wrapper`` reaches ``Route``.

    Instrumentation written for Starlette (Sentry's) swaps the module's ``request_response`` (or
    ``websocket_session``) to see every endpoint call; ``Route`` builds from the swapped one, as
    Starlette's does, and the app then calls such routes through it rather than inline.
    """

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, value)
        if name in ("request_response", "websocket_session"):
            setattr(routing_routes, name, value)


sys.modules[__name__].__class__ = _RoutingModule
