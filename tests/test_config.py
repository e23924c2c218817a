"""typedasgi.config: precedence, casts, env files, and the guarded environ."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from typedasgi.config import Config, Environ, EnvironError, environ
from typedasgi.datastructures import CommaSeparatedStrings, Secret


def write_env(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


def test_env_file_is_parsed(tmp_path: Path) -> None:
    env_file = write_env(
        tmp_path,
        "# a comment\n"
        "\n"
        "DATABASE_URL=postgres://user:pass@localhost/db\n"
        "  SPACED  =  value with spaces  \n"
        "DOUBLE=\"quoted value\"\n"
        "SINGLE='it''s'\n"
        "EMBEDDED=\"it's fine\"\n"
        "UNBALANCED=\"open\n"
        "EQUALS=a=b=c\n"
        "EMPTY=\n"
        "export EXPORTED=yes\n"
        "not a setting line\n"
        "#COMMENTED=1\n",
    )
    config = Config(env_file, environ={})
    assert config("DATABASE_URL") == "postgres://user:pass@localhost/db"
    assert config("SPACED") == "value with spaces"
    assert config("DOUBLE") == "quoted value"
    assert config("SINGLE") == "it''s"
    assert config("EMBEDDED") == "it's fine"
    assert config("UNBALANCED") == '"open'
    assert config("EQUALS") == "a=b=c"
    assert config("EMPTY") == ""
    assert config("EXPORTED") == "yes"
    with pytest.raises(KeyError):
        config("COMMENTED")
    assert set(config.file_values) == {
        "DATABASE_URL", "SPACED", "DOUBLE", "SINGLE", "EMBEDDED", "UNBALANCED", "EQUALS", "EMPTY", "EXPORTED",
    }


def test_env_file_accepts_a_path_object_and_utf8(tmp_path: Path) -> None:
    config = Config(write_env(tmp_path, "GREETING=grüß dich\n"), environ={})
    assert config("GREETING") == "grüß dich"


def test_env_file_in_another_encoding(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_bytes("GREETING=grüß dich\n".encode("latin-1"))
    assert Config(path, environ={}, encoding="latin-1")("GREETING") == "grüß dich"
    with pytest.raises(UnicodeDecodeError):
        Config(path, environ={})  # utf-8 unless told


def test_precedence_environ_then_file_then_default(tmp_path: Path) -> None:
    env_file = write_env(tmp_path, "A=file\nB=file\n")
    config = Config(env_file, environ={"A": "env"})
    assert config("A") == "env"
    assert config("B") == "file"
    assert config("C", default="default") == "default"


def test_missing_env_file_warns_and_still_works(tmp_path: Path) -> None:
    missing = tmp_path / "nope.env"
    with pytest.warns(UserWarning, match="nope.env"):
        config = Config(missing, environ={"A": "1"})
    assert config("A") == "1"
    assert config.file_values == {}


def test_missing_key_without_default_raises_key_error_naming_it() -> None:
    config = Config(environ={})
    with pytest.raises(KeyError, match="Config 'SECRET_KEY' is missing, and has no default"):
        config("SECRET_KEY")
    with pytest.raises(KeyError, match="'SECRET_KEY'"):
        config.get("SECRET_KEY", cast=int)


def test_default_none_is_returned_uncast() -> None:
    config = Config(environ={})
    assert config("A", default=None) is None
    assert config("A", cast=int, default=None) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("True", True), ("TRUE", True), ("1", True), ("false", False), ("False", False), ("0", False)],
)
def test_bool_cast_accepts_true_false_1_0(raw: str, expected: bool) -> None:
    assert Config(environ={"DEBUG": raw})("DEBUG", cast=bool) is expected


@pytest.mark.parametrize("raw", ["yes", "on", "", "2", "truthy"])
def test_bool_cast_rejects_anything_else_naming_the_key(raw: str) -> None:
    config = Config(environ={"DEBUG": raw})
    with pytest.raises(ValueError, match="Config 'DEBUG' has value .*Not a valid bool"):
        config("DEBUG", cast=bool)


def test_defaults_are_cast_as_starlette_casts_them_but_none() -> None:
    # A non-string default was returned as given: cast=float, default=1 gave the int 1 where Starlette gives 1.0.
    config = Config(environ={})
    assert config("DEBUG", cast=bool, default="false") is False
    assert config("DEBUG", cast=bool, default=True) is True
    assert config("DEBUG", cast=bool, default=1) is True
    assert config("PORT", cast=int, default="8080") == 8080
    ratio = config("RATIO", cast=float, default=1)
    assert ratio == 1.0 and type(ratio) is float
    hosts = config("HOSTS", cast=CommaSeparatedStrings, default=["*"])
    assert type(hosts) is CommaSeparatedStrings
    assert list(hosts) == ["*"]
    assert config("DIR", cast=Path, default=Path("/tmp")) == Path("/tmp")
    assert config("TIMEOUT", cast=int, default=None) is None


def test_other_casts() -> None:
    config = Config(environ={"PORT": "8000", "RATIO": "0.25", "HOSTS": "a.com, b.com", "KEY": "s3cr3t"})
    assert config("PORT", cast=int) == 8000
    assert config("RATIO", cast=float) == 0.25
    hosts = config("HOSTS", cast=CommaSeparatedStrings)
    assert list(hosts) == ["a.com", "b.com"]
    key = config("KEY", cast=Secret)
    assert str(key) == "s3cr3t"
    assert "s3cr3t" not in repr(key)


def test_failed_cast_is_a_value_error_naming_key_and_cast() -> None:
    config = Config(environ={"PORT": "eighty"})
    with pytest.raises(ValueError, match="Config 'PORT' has value 'eighty'. Not a valid int") as info:
        config("PORT", cast=int)
    assert isinstance(info.value.__cause__, ValueError)


def test_env_prefix_applies_to_environ_file_and_errors(tmp_path: Path) -> None:
    env_file = write_env(tmp_path, "APP_FROM_FILE=file\nFROM_FILE=unprefixed\n")
    config = Config(env_file, environ={"APP_DEBUG": "1", "DEBUG": "0"}, env_prefix="APP_")
    assert config("DEBUG", cast=bool) is True
    assert config("FROM_FILE") == "file"
    with pytest.raises(KeyError, match="APP_MISSING"):
        config("MISSING")


def test_default_environ_is_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(os.environ, "TYPEDASGI_TEST_CONFIG_VALUE", "42")
    assert Config()("TYPEDASGI_TEST_CONFIG_VALUE", cast=int) == 42
    assert Config().environ is environ


def test_environ_guards_keys_after_they_were_read() -> None:
    backing: dict[str, str] = {"A": "1"}
    guarded = Environ(backing)
    guarded["B"] = "2"  # not read yet: fine
    del guarded["B"]
    assert guarded["A"] == "1"
    with pytest.raises(EnvironError, match="Cannot set environ\\['A'\\]"):
        guarded["A"] = "2"
    with pytest.raises(EnvironError, match="Cannot delete environ\\['A'\\]"):
        del guarded["A"]
    assert backing == {"A": "1"}


def test_environ_counts_a_miss_as_read() -> None:
    guarded = Environ({})
    config = Config(environ=guarded)
    assert config("LATE", default="x") == "x"
    with pytest.raises(EnvironError):
        guarded["LATE"] = "too late"


def test_environ_is_a_mapping_over_its_backing_dict() -> None:
    guarded = Environ({"A": "1", "B": "2"})
    assert sorted(guarded) == ["A", "B"]
    assert len(guarded) == 2
    assert guarded.get("C") is None
    assert dict(guarded) == {"A": "1", "B": "2"}
