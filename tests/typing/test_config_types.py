"""What mypy infers for ``Config`` lookups (this module is type-checked with the tree).

Each ``assert_type`` fails the type check if an overload of ``Config.__call__`` or
``Config.get`` drifts; the test functions also run the same calls under pytest.
"""

from __future__ import annotations

from pathlib import Path

from typing_extensions import assert_type

from typedasgi.config import Config
from typedasgi.datastructures import CommaSeparatedStrings, Secret

ENV = {"DEBUG": "true", "PORT": "8000", "NAME": "app", "HOSTS": "a, b", "KEY": "s3cr3t", "RATIO": "0.5"}


def check_call_types(config: Config) -> None:
    assert_type(config("NAME"), str)
    assert_type(config("NAME", default="x"), str)
    assert_type(config("MISSING", default=None), str | None)
    assert_type(config("MISSING", None, None), str | None)
    assert_type(config("PORT", cast=int), int)
    assert_type(config("PORT", int), int)
    assert_type(config("RATIO", cast=float, default=1.0), float)
    assert_type(config("DEBUG", cast=bool), bool)
    assert_type(config("DEBUG", cast=bool, default=False), bool)
    assert_type(config("DEBUG", cast=bool, default="false"), bool)
    assert_type(config("MISSING", cast=int, default=None), int | None)
    assert_type(config("PORT", cast=int, default="80"), int)
    assert_type(config("KEY", cast=Secret), Secret)
    assert_type(config("HOSTS", cast=CommaSeparatedStrings), CommaSeparatedStrings)
    assert_type(config("PATH", cast=Path, default=Path(".")), Path)


def check_get_types(config: Config) -> None:
    assert_type(config.get("NAME"), str)
    assert_type(config.get("MISSING", default=None), str | None)
    assert_type(config.get("PORT", cast=int), int)
    assert_type(config.get("DEBUG", cast=bool, default=False), bool)


def test_inferred_types_match_runtime_values() -> None:
    config = Config(environ=ENV)
    check_call_types(config)
    check_get_types(config)
    assert config("PORT", cast=int) == 8000
    assert config("DEBUG", cast=bool) is True
    assert config("MISSING", cast=int, default=None) is None
    assert config("PORT", cast=int, default="80") == 8000
    assert config("OTHER", cast=int, default="80") == 80
    assert isinstance(config("KEY", cast=Secret), Secret)
    assert list(config("HOSTS", cast=CommaSeparatedStrings)) == ["a", "b"]
    assert config("PATH", cast=Path, default=Path(".")) == Path(".")
