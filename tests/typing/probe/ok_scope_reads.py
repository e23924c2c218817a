"""Reading a scope's optional keys with the spec's defaults, and typedasgi's own keys."""

from typedasgi.types import HTTPScope, WebSocketScope, framework_keys


def describe(scope: HTTPScope) -> str:
    client = scope.get("client")
    host = client[0] if client is not None else "unknown"
    root = scope.get("root_path", "")
    scheme = scope.get("scheme", "http")
    params = framework_keys(scope).get("path_params", {})
    return f"{scope['method']} {scheme}://{host}{root}{scope['path']} {params}"


def websocket_query(scope: WebSocketScope) -> bytes:
    # The spec: "Optional; if missing or None default is empty string" (a WebSocket scope's only).
    return (scope.get("query_string") or b"") + scope.get("http_version", "1.1").encode()
