"""Reads of NotRequired keys without a default: mypy --strict lets them through, basedpyright must not."""

from __future__ import annotations

from typing import Any

from typedasgi.types import HTTPScope, framework_keys


def scope_state(scope: HTTPScope) -> dict[str, Any]:
    return scope["state"]  # E: - ## reportTypedDictNotRequiredAccess: "state" is not a required key


def route_params(scope: HTTPScope) -> dict[str, Any]:
    return framework_keys(scope)["path_params"]  # E: - ## reportTypedDictNotRequiredAccess: "path_params" is not a required key


def checked_state(scope: HTTPScope) -> dict[str, Any]:
    return scope["state"] if "state" in scope else {}  # narrowed by the `in` test: no error


def default_params(scope: HTTPScope) -> dict[str, Any]:
    return framework_keys(scope).get("path_params", {})  # .get(): no error
