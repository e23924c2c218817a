"""The order rules of the ASGI protocols, one small state machine per connection.

Each machine sees every message the app sends (``sent``), every message the
server's ``receive`` returns (``received``) and the app's return
(``returned``), and answers with the rule a step breaks, if any. Rule names
read ``<protocol>.<what>``; ``server.`` ones are broken by the server side.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from typedasgi.contract_shapes import Problem

__all__ = ["HTTPRules", "LifespanRules", "Rules", "WebSocketRules", "carries_one_payload", "rules_for"]


def carries_one_payload(message: Mapping[str, object]) -> bool:
    """The spec's rule for ``websocket.send``: exactly one of ``bytes`` and ``text`` is there and not None."""
    return (message.get("bytes") is None) != (message.get("text") is None)

Message = Mapping[str, Any]  # already shape-checked: every value has its spec type

_EXTENSION_OF = {
    "http.response.pathsend": "http.response.pathsend",
    "http.response.zerocopysend": "http.response.zerocopysend",
    "http.response.debug": "http.response.debug",
    "http.response.early_hint": "http.response.early_hint",
    "http.response.push": "http.response.push",
    "http.response.trailers": "http.response.trailers",
    "websocket.http.response.start": "websocket.http.response",
    "websocket.http.response.body": "websocket.http.response",
}
"""Message type -> the ``scope["extensions"]`` entry that must offer it."""


class Rules:
    """A connection's state machine; the base answers "no rule broken" everywhere."""

    def __init__(self, extensions: Mapping[str, object]) -> None:
        self.extensions = extensions

    def sent(self, message: Message) -> Problem | None:
        extension = _EXTENSION_OF.get(message["type"])
        if extension is not None and extension not in self.extensions:
            return Problem("extension.not-offered", f"the scope's extensions do not offer {extension!r}")
        headers: object = message.get("headers")
        # Shape-checked already: a list or tuple here holds (bytes, bytes) pairs; a generator is not read.
        if not isinstance(headers, (list, tuple)):
            return None
        return _header_problem(cast("list[tuple[bytes, bytes]]", headers))

    def received(self, message: Message) -> Problem | None:
        return None

    def returned(self) -> Problem | None:
        return None


def _header_problem(headers: list[tuple[bytes, bytes]]) -> Problem | None:
    """Header names an app sends must be lower-case and not HTTP/2 pseudo headers (the spec's words)."""
    for name, _ in headers:
        if name.startswith(b":"):
            return Problem("message.pseudo-header", f"pseudo header {name!r} must not be sent")
        if name != name.lower():
            return Problem("message.header-case", f"header name {name!r} must be lower-case")
    return None


class HTTPRules(Rules):
    """One response: start once, then body until ``more_body`` is false, then trailers if announced."""

    def __init__(self, extensions: Mapping[str, object]) -> None:
        super().__init__(extensions)
        self.started: bool = False
        self.body_done: bool = False
        self.trailers_announced: bool = False
        self.complete: bool = False
        self.request_done: bool = False
        self.disconnected: bool = False

    def sent(self, message: Message) -> Problem | None:
        kind = message["type"]
        if kind == "http.response.trailers" and not self.trailers_announced:
            return Problem("http.trailers-unannounced", "trailers sent; http.response.start had no 'trailers': True")
        if self.complete:
            return Problem("http.after-complete", "the response was complete; nothing may be sent after it")
        problem = super().sent(message)
        if problem is not None:
            return problem
        if kind == "http.response.debug":
            return Problem("http.debug-after-start", "debug goes before http.response.start") if self.started else None
        if kind == "http.response.start":
            if self.started:
                return Problem("http.start-twice", "http.response.start was already sent")
            self.started = True
            self.trailers_announced = message.get("trailers", False)
            return None
        if not self.started:
            return Problem("http.body-before-start", f"{kind} before http.response.start")
        if kind == "http.response.trailers":
            return self._trailers(message)
        if self.body_done:
            return Problem("http.body-after-end", f"{kind} after the last body message (trailers expected)")
        if kind in ("http.response.body", "http.response.zerocopysend") and message.get("more_body", False):
            return None
        if kind in ("http.response.body", "http.response.zerocopysend", "http.response.pathsend"):
            self.body_done = True
            self.complete = not self.trailers_announced
        return None

    def _trailers(self, message: Message) -> Problem | None:
        if not self.body_done:
            return Problem("http.trailers-before-end", "trailers sent before the last body message")
        self.complete = not message.get("more_trailers", False)
        return None

    def received(self, message: Message) -> Problem | None:
        if self.disconnected and message["type"] != "http.disconnect":
            return Problem("server.http.after-disconnect", "receive() gave a request after http.disconnect")
        if message["type"] == "http.disconnect":
            self.disconnected = True
        elif self.request_done:
            return Problem("server.http.request-after-end", "receive() gave more body after 'more_body': False")
        elif not message.get("more_body", False):
            self.request_done = True
        return None

    def returned(self) -> Problem | None:
        if self.disconnected:
            return None  # the client left: the app may stop anywhere
        if not self.started:
            return Problem("http.no-response", "the app returned without sending http.response.start")
        if not self.complete:
            missing = "the trailers" if self.body_done else "a body message with 'more_body': False"
            return Problem("http.incomplete-response", f"the app returned before sending {missing}")
        return None


class WebSocketRules(Rules):
    """The handshake is answered once (accept, close or a denial response); data flows only once accepted."""

    def __init__(self, extensions: Mapping[str, object]) -> None:
        super().__init__(extensions)
        self.connected: bool = False
        self.accepted: bool = False
        self.denial: bool = False  # a denial response has started
        self.closed: bool = False
        self.disconnected: bool = False

    def sent(self, message: Message) -> Problem | None:
        kind = message["type"]
        if self.closed:
            return Problem("websocket.after-close", f"{kind} after the connection was closed")
        problem = super().sent(message)
        if problem is not None:
            return problem
        if kind == "websocket.accept":
            if self.accepted or self.denial:
                return Problem("websocket.accept-twice", "the handshake was already answered")
            if any(name == b"sec-websocket-protocol" for name, _ in message.get("headers", ())):
                return Problem("websocket.protocol-header", "the subprotocol goes in 'subprotocol', not in headers")
            self.accepted = True
        elif kind == "websocket.send":
            if not self.accepted:
                return Problem("websocket.send-before-accept", "websocket.send before websocket.accept")
            if not carries_one_payload(message):
                return Problem("websocket.send-payload", "exactly one of 'bytes' and 'text' must be set")
        elif kind == "websocket.close":
            if self.denial:
                return Problem("websocket.close-during-denial", "websocket.close while a denial response is sent")
            self.closed = True
        elif kind == "websocket.http.response.start":
            if self.accepted or self.denial:
                return Problem("websocket.denial-after-answer", "a denial response after the handshake was answered")
            self.denial = True
        elif not self.denial:  # websocket.http.response.body
            return Problem("websocket.denial-body-before-start", f"{kind} before websocket.http.response.start")
        elif not message.get("more_body", False):
            self.closed = True
        return None

    def received(self, message: Message) -> Problem | None:
        kind = message["type"]
        if self.disconnected and kind != "websocket.disconnect":
            return Problem("server.websocket.after-disconnect", f"receive() gave {kind} after websocket.disconnect")
        if not self.connected and kind != "websocket.connect":
            return Problem("server.websocket.connect-first", f"receive() gave {kind} before websocket.connect")
        if kind == "websocket.connect":
            if self.connected:
                return Problem("server.websocket.connect-twice", "receive() gave websocket.connect twice")
            self.connected = True
        elif kind == "websocket.disconnect":
            self.disconnected = True
        elif not self.accepted:
            return Problem("server.websocket.receive-before-accept", "receive() gave data before the app accepted")
        elif (message.get("bytes") is None) == (message.get("text") is None):
            return Problem("server.websocket.receive-payload", "exactly one of 'bytes' and 'text' must be set")
        return None

    def returned(self) -> Problem | None:
        if self.disconnected or self.closed or self.accepted:
            return None
        if self.denial:
            return Problem("websocket.denial-incomplete", "the app returned in the middle of a denial response")
        return Problem("websocket.unanswered", "the app returned without accepting or closing the handshake")


class LifespanRules(Rules):
    """startup, its answer, shutdown, its answer - in that order, each once."""

    def __init__(self, extensions: Mapping[str, object]) -> None:
        super().__init__(extensions)
        self.phase: str = "idle"  # idle -> starting -> started -> stopping -> done (or failed)

    def sent(self, message: Message) -> Problem | None:
        kind = message["type"]
        expected = {"starting": "lifespan.startup.", "stopping": "lifespan.shutdown."}.get(self.phase)
        if expected is None or not kind.startswith(expected):
            waiting = {"idle": "nothing yet (no lifespan.startup received)", "started": "nothing (startup answered)"}
            what = waiting.get(self.phase, "nothing more") if expected is None else f"a {expected}* answer"
            return Problem("lifespan.out-of-order", f"{kind} sent, but the protocol expects {what}")
        if kind.endswith(".failed"):
            self.phase = "failed"
        else:
            self.phase = "started" if self.phase == "starting" else "done"
        return None

    def received(self, message: Message) -> Problem | None:
        kind = message["type"]
        if kind == "lifespan.startup" and self.phase == "idle":
            self.phase = "starting"
        elif kind == "lifespan.shutdown" and self.phase == "started":
            self.phase = "stopping"
        else:
            return Problem("server.lifespan.out-of-order", f"receive() gave {kind} while the lifespan is {self.phase}")
        return None

    def returned(self) -> Problem | None:
        if self.phase in ("starting", "stopping"):
            return Problem("lifespan.unanswered", f"the app returned while {self.phase} without answering")
        return None


def rules_for(scope_type: str, extensions: Mapping[str, object]) -> Rules:
    machine = {"http": HTTPRules, "websocket": WebSocketRules, "lifespan": LifespanRules}[scope_type]
    return machine(extensions)
