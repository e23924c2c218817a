"""Run-time shape checks of scopes and messages, derived from the ``TypedDict``s in ``typedasgi.types``.

The static types and this check are one spec: each ``TypedDict`` is turned once
into a small checking function (keys present, value types exact: ``bytes`` is
not ``str``, ``bool`` is not an ``int`` status), so the contract checker costs
a few dictionary lookups per message. Only what the types say is checked; the
protocols' order rules live in ``contract_rules``.
"""

from __future__ import annotations

import collections.abc
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from typing_extensions import NotRequired, is_typeddict

from typedasgi.types import ReceiveEvent, Scope, SendEvent

__all__ = ["Problem", "message_problem", "scope_problem"]

ValueCheck = Callable[[object], "str | None"]
"""Checks one value: ``None`` when it fits, else what is wrong with it."""


class Problem(NamedTuple):
    rule: str
    explanation: str


def _describe(value: object) -> str:
    return type(value).__name__


def _check_for(annotation: object) -> ValueCheck:  # noqa: C901 - one branch per kind of annotation
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any or annotation is object:
        return lambda value: None
    if annotation is type(None):
        return lambda value: None if value is None else f"None expected, got {_describe(value)}"
    if annotation is bool:
        return lambda value: None if type(value) is bool else f"bool expected, got {_describe(value)}"
    if annotation is int:
        return lambda value: None if type(value) is int else f"int expected, got {_describe(value)}"
    if isinstance(annotation, type) and annotation in (str, bytes, float):
        kind = annotation
        return lambda value: None if isinstance(value, kind) else f"{kind.__name__} expected, got {_describe(value)}"
    if origin is typing.Literal:
        return lambda value: None if value in args else f"one of {list(args)} expected, got {value!r}"
    if origin in (typing.Union, types.UnionType):
        return _union(args)
    if is_typeddict(annotation):
        return _typeddict_value(typing.cast(type, annotation))
    if origin is tuple:
        return _pair(args)
    if origin is collections.abc.Iterable:
        return _iterable(_check_for(args[0]))
    if origin is dict:
        return _dict(_check_for(args[0]), _check_for(args[1]))
    raise TypeError(f"no run-time check for {annotation!r}")  # a new annotation in typedasgi.types


def _union(args: tuple[object, ...]) -> ValueCheck:
    checks = [_check_for(arg) for arg in args]

    def check(value: object) -> str | None:
        problems = [check(value) for check in checks]
        return None if None in problems else " or ".join(p for p in problems if p)

    return check


def _pair(args: tuple[object, ...]) -> ValueCheck:
    checks = [_check_for(arg) for arg in args]

    def check(value: object) -> str | None:
        items = typing.cast("tuple[object, ...]", value) if isinstance(value, (tuple, list)) else None
        if items is None or len(items) != len(checks):  # the spec: "two-item iterables"
            return f"a {len(checks)}-item tuple expected, got {value!r}"
        for item_check, item in zip(checks, items):
            problem = item_check(item)
            if problem is not None:
                return f"in {value!r}: {problem}"
        return None

    return check


def _iterable(item_check: ValueCheck) -> ValueCheck:
    def check(value: object) -> str | None:
        kind = _describe(value)
        if isinstance(value, (str, bytes, dict)) or not isinstance(value, collections.abc.Iterable):
            return f"an iterable of items expected, got {kind}"
        if not isinstance(value, (list, tuple)):
            return None  # a generator: checking its items would use them up before the server sees them
        for item in typing.cast("list[object]", value):
            problem = item_check(item)
            if problem is not None:
                return problem
        return None

    return check


def _dict(key_check: ValueCheck, value_check: ValueCheck) -> ValueCheck:
    def check(value: object) -> str | None:
        if not isinstance(value, dict):
            return f"a dict expected, got {_describe(value)}"
        for key, item in typing.cast("dict[object, object]", value).items():
            problem = key_check(key) or value_check(item)
            if problem is not None:
                return f"at {key!r}: {problem}"
        return None

    return check


class _Shape(NamedTuple):
    required: frozenset[str]
    checks: dict[str, ValueCheck]


def _shape(typed_dict: type) -> _Shape:
    hints = typing.get_type_hints(typed_dict, include_extras=True)
    required = frozenset(key for key, hint in hints.items() if typing.get_origin(hint) is not NotRequired)
    unwrapped = {key: typing.get_args(hint)[0] if key not in required else hint for key, hint in hints.items()}
    return _Shape(required, {key: _check_for(hint) for key, hint in unwrapped.items()})


def _keys_problem(shape: _Shape, value: Mapping[str, object], closed: bool) -> Problem | None:
    missing = shape.required - value.keys()
    if missing:
        return Problem("missing-key", f"required key {sorted(missing)[0]!r} is missing")
    for key, item in value.items():
        check = shape.checks.get(key)
        if check is None:
            if closed:
                return Problem("unknown-key", f"the spec has no key {key!r} here")
            continue
        problem = check(item)
        if problem is not None:
            return Problem("value-type", f"{key!r}: {problem}")
    return None


def _typeddict_value(typed_dict: type) -> ValueCheck:
    shape = _shape(typed_dict)

    def check(value: object) -> str | None:
        if not isinstance(value, dict):
            return f"a dict expected, got {_describe(value)}"
        problem = _keys_problem(shape, typing.cast("dict[str, object]", value), closed=False)
        return None if problem is None else problem.explanation

    return check


def _by_type(union: object) -> dict[str, _Shape]:
    shapes: dict[str, _Shape] = {}
    for typed_dict in typing.get_args(union):
        literal = typing.get_type_hints(typed_dict)["type"]
        for name in typing.get_args(literal):
            shapes[name] = _shape(typed_dict)
    return shapes


_SCOPES = _by_type(Scope)
_SENT = _by_type(SendEvent)
_RECEIVED = _by_type(ReceiveEvent)


def _protocol(message_type: str) -> str:
    return message_type.split(".", 1)[0]


def scope_problem(scope: object) -> Problem | None:
    """What is wrong with a scope, if anything (keys beyond the spec's are allowed: frameworks add theirs)."""
    if not isinstance(scope, dict):
        return Problem("scope.not-a-dict", f"a scope is a dict, got {_describe(scope)}")
    kind = typing.cast("dict[str, object]", scope).get("type")
    shape = _SCOPES.get(kind) if isinstance(kind, str) else None
    if shape is None:
        return Problem("scope.unknown-type", f"scope type {kind!r} is not http, websocket or lifespan")
    problem = _keys_problem(shape, typing.cast("dict[str, object]", scope), closed=False)
    return None if problem is None else Problem(f"scope.{problem.rule}", problem.explanation)


def message_problem(message: object, protocol: str, sent: bool) -> Problem | None:
    """What is wrong with one message of ``protocol`` ("http", "websocket", "lifespan"), if anything.

    ``sent``: the app sends it (else the server's ``receive`` returned it). A sent
    message may not carry keys the spec does not have (a misspelt ``more_body``
    would silently end a stream).
    """
    prefix = "message" if sent else "server.message"
    if not isinstance(message, dict):
        return Problem(f"{prefix}.not-a-dict", f"a message is a dict, got {_describe(message)}")
    kind = typing.cast("dict[str, object]", message).get("type")
    if not isinstance(kind, str):
        return Problem(f"{prefix}.unknown-type", f"message type {kind!r} is not a string")
    shape = (_SENT if sent else _RECEIVED).get(kind)
    if shape is None:
        direction = "an app sends" if sent else "receive() returns"
        return Problem(f"{prefix}.unknown-type", f"{kind!r} is not a message {direction}")
    if _protocol(kind) != protocol:
        return Problem(f"{prefix}.wrong-protocol", f"{kind!r} does not belong to a {protocol} connection")
    problem = _keys_problem(shape, typing.cast("dict[str, object]", message), closed=sent)
    return None if problem is None else Problem(f"{prefix}.{problem.rule}", problem.explanation)
