"""The ASGI contract checker: wrap any ASGI app and hold it, and its server, to the spec.

``check_asgi(app)`` returns an app that behaves exactly like ``app`` but checks
every scope and message against the same spec ``typedasgi.types`` encodes -
keys and value types of each message in both directions, and the order rules
of each protocol (``http.response.start`` once and first, nothing after the
last body, trailers only when announced, the WebSocket handshake answered
once, lifespan startup before shutdown, and what ``receive()`` may return).
The first broken rule raises :class:`ASGIContractError` naming the rule, the
message and the step::

    from typedasgi.testing import check_asgi

    client = TestClient(check_asgi(my_app))    # or TestClient(my_app, check_asgi=True)

It works on any ASGI app (typedasgi, Starlette, FastAPI, a hand-written one)
and costs nothing unless used. ``TYPEDASGI_CHECK_ASGI=1`` turns it on for
every ``TestClient`` that does not say otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping

from typedasgi.contract_rules import rules_for
from typedasgi.contract_shapes import Problem, message_problem, scope_problem
from typedasgi.types import AnyASGIApp, ASGIApp, Receive, ReceiveEvent, Scope, Send, SendEvent, as_asgi_app

__all__ = ["ASGIContractError", "check_asgi"]


class ASGIContractError(AssertionError):
    """An app (or its server) broke the ASGI spec: ``rule`` says which part, ``step`` where."""

    def __init__(self, rule: str, explanation: str, message: object, step: str) -> None:
        super().__init__(f"[{rule}] {explanation} - {step}: {message!r}")
        self.rule = rule
        self.explanation = explanation
        self.message = message
        self.step = step


class _Connection:
    """One scope's checks: counts the steps and keeps the first violation, even if the app swallows it."""

    def __init__(self, scope: Scope) -> None:
        self.protocol = scope["type"]
        extensions = scope.get("extensions") if scope["type"] != "lifespan" else None
        self.rules = rules_for(self.protocol, extensions if isinstance(extensions, Mapping) else {})
        self.sends = 0
        self.receives = 0
        self.violation: ASGIContractError | None = None

    def fail(self, problem: Problem, message: object, step: str) -> ASGIContractError:
        error = ASGIContractError(problem.rule, problem.explanation, message, f"{self.protocol} {step}")
        if self.violation is None:
            self.violation = error
        return error

    def check_sent(self, message: SendEvent) -> None:
        self.sends += 1
        problem = message_problem(message, self.protocol, sent=True) or self.rules.sent(message)
        if problem is not None:
            raise self.fail(problem, message, f"send #{self.sends}")

    def check_received(self, message: ReceiveEvent) -> None:
        self.receives += 1
        problem = message_problem(message, self.protocol, sent=False) or self.rules.received(message)
        if problem is not None:
            raise self.fail(problem, message, f"receive #{self.receives}")

    def check_returned(self) -> None:
        problem = self.rules.returned()
        if problem is not None:
            raise self.fail(problem, None, f"return after {self.sends} sends")


def check_asgi(app: AnyASGIApp) -> ASGIApp:
    """``app``, checked against the ASGI spec on every call (see the module's docstring)."""
    inner = as_asgi_app(app)

    async def checked_app(scope: Scope, receive: Receive, send: Send) -> None:
        problem = scope_problem(scope)
        if problem is not None:
            raise ASGIContractError(problem.rule, problem.explanation, scope, "scope")
        connection = _Connection(scope)

        async def checked_receive() -> ReceiveEvent:
            message = await receive()
            connection.check_received(message)
            return message

        async def checked_send(message: SendEvent) -> None:
            connection.check_sent(message)
            await send(message)

        try:
            await inner(scope, checked_receive, checked_send)
        except Exception as error:
            if connection.violation is not None and connection.violation is not error:
                raise connection.violation from error  # the app turned the violation into something else
            raise
        if connection.violation is not None:
            raise connection.violation  # the app caught it and went on
        connection.check_returned()

    checked_app.__wrapped__ = inner  # type: ignore[attr-defined]  # for introspection, as functools.wraps would
    return checked_app
