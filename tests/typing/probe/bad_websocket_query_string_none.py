"""A WebSocket scope's ``query_string`` may be None (the spec: "if missing or None default is empty string")."""

from typedasgi.types import WebSocketScope


def query_text(scope: WebSocketScope) -> str:
    return scope.get("query_string", b"").decode("latin-1")  # E: union-attr: Item "None" of "bytes | None" has no attribute "decode" ## reportOptionalMemberAccess: "decode" is not a known attribute of "None"
