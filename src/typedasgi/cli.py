"""``typedasgi run MODULE:APP``: serve an app on uvicorn (the ``standard`` extra).

``typedasgi plugins``: list the installed plugins, their distributions and hooks.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import importlib.metadata
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, Final, cast

from typedasgi.cli_app import AppNotFound, load_app
from typedasgi.server_limits import (
    BODY_TIMEOUT_ENV,
    DEFAULT_BODY_TIMEOUT,
    DEFAULT_HEAD_TIMEOUT,
    DEFAULT_LIFESPAN_SHUTDOWN_TIMEOUT,
    DEFAULT_MAX_HEAD_SIZE,
    HEAD_TIMEOUT_ENV,
    LIFESPAN_SHUTDOWN_TIMEOUT_ENV,
    SHUTDOWN_TIMED_OUT,
    seconds_from_env,
)
from typedasgi.plugins import DISABLE_AUTOLOAD_ENV, autoload_enabled, installed_plugins

__all__ = ["main"]

STANDARD_EXTRA_MISSING = (
    "typedasgi run needs uvicorn, which comes with the standard extra:\n"
    "    pip install 'typedasgi[standard]'"
)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is outside 0-65535")
    return port


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def _version() -> str:
    try:
        return importlib.metadata.version("typedasgi")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="typedasgi", description="typedasgi command line")
    parser.add_argument("--version", action="version", version=f"typedasgi {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve an app with uvicorn")
    run.add_argument("app", help="the app to serve, as MODULE:ATTRIBUTE (e.g. examples.hello:app)")
    run.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    run.add_argument("--port", type=_port, default=8000, help="port to bind, 0-65535 (default: 8000)")
    run.add_argument("--reload", action="store_true", help="restart when source files change")
    run.add_argument("--workers", type=_positive, default=None, help="number of worker processes")
    run.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="log level (default: info)",
    )
    run.add_argument("--app-dir", default=".", help="directory added to sys.path first (default: .)")
    run.add_argument(
        "--lifespan",
        default="auto",
        choices=["auto", "on", "off"],
        help="run the ASGI lifespan: auto (if the app supports it), on, or off (default: auto)",
    )
    run.add_argument(
        "--http",
        default="auto",
        choices=["auto", "httptools", "h11"],
        help="HTTP/1.1 parser: httptools (fast, C), h11 (pure Python), or auto: httptools where it is installed "
        "(default: auto); both with the head and body bounds below",
    )
    run.add_argument("--factory", action="store_true", help="ATTRIBUTE is a callable with no arguments that returns the app")
    run.add_argument("--env-file", default=None, help="load environment variables from this file before the app")
    run.add_argument("--root-path", default="", help="the path prefix a proxy serves the app under (scope root_path)")
    run.add_argument(
        "--proxy-headers",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="trust X-Forwarded-For/-Proto from --forwarded-allow-ips for the client address and scheme (default: on)",
    )
    run.add_argument(
        "--forwarded-allow-ips",
        default=None,
        help="comma-separated proxy addresses (or '*') whose forwarded headers are trusted "
        "(default: $FORWARDED_ALLOW_IPS or 127.0.0.1)",
    )
    limits = run.add_argument_group("limits (passed to uvicorn; unset: uvicorn's defaults)")
    limits.add_argument(
        "--ws-max-size", type=_positive, default=None,
        help="largest WebSocket message in bytes; a bigger one closes the connection 1009 (uvicorn: 16 MiB)",
    )
    limits.add_argument(
        "--limit-concurrency", type=_positive, default=None,
        help="connections and tasks at once per worker before new requests get 503 (uvicorn: no limit)",
    )
    limits.add_argument(
        "--max-head-size", type=_positive, default=DEFAULT_MAX_HEAD_SIZE,
        help="largest request head (request line and header lines) in bytes; a bigger one gets 431 "
        f"(default: {DEFAULT_MAX_HEAD_SIZE}; uvicorn with httptools has no limit)",
    )
    limits.add_argument(
        "--timeout-head", type=_positive, default=None,
        help=f"seconds a request head may take to arrive, from the connection or the head's first byte; "
        f"past it 408 and the connection closes (default: {DEFAULT_HEAD_TIMEOUT:g}; uvicorn: no limit)",
    )
    limits.add_argument(
        "--timeout-body", type=_positive, default=None,
        help=f"seconds between two reads of a request body the server waits for; past it 408 (if unanswered) "
        f"and the connection closes (default: {DEFAULT_BODY_TIMEOUT:g}; uvicorn: no limit)",
    )
    limits.add_argument(
        "--timeout-lifespan-shutdown", type=_positive, default=None,
        help=f"seconds the app's lifespan shut-down may take after the server is told to stop; past it one error "
        f"line and exit status {SHUTDOWN_TIMED_OUT} (default: ${LIFESPAN_SHUTDOWN_TIMEOUT_ENV} or "
        f"{DEFAULT_LIFESPAN_SHUTDOWN_TIMEOUT:g}; uvicorn: no limit)",
    )
    limits.add_argument(
        "--timeout-keep-alive", type=_positive, default=None,
        help="seconds an idle keep-alive connection stays open (uvicorn: 5)",
    )
    tls = run.add_argument_group("TLS (passed to uvicorn)")
    tls.add_argument("--ssl-keyfile", default=None, help="private key file")
    tls.add_argument("--ssl-certfile", default=None, help="certificate (chain) file")
    tls.add_argument("--ssl-keyfile-password", default=None, help="password of the private key")
    tls.add_argument("--ssl-ca-certs", default=None, help="CA certificates to verify clients against")
    tls.add_argument("--ssl-cert-reqs", type=int, default=None, help="client certificate requirement (ssl.CERT_*: 0, 1, 2)")
    tls.add_argument("--ssl-ciphers", default=None, help="ciphers to allow (OpenSSL cipher list)")
    plugins = commands.add_parser("plugins", help="list installed plugins (entry-point group 'typedasgi')")
    plugins.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        return _run_server(args)
    if args.command == "plugins":
        return _list_plugins(as_json=args.json)
    return 2  # pragma: no cover - argparse rejects unknown commands


def _fail(message: str, code: int = 2) -> int:
    print(f"typedasgi run: {message}", file=sys.stderr)
    return code


def _run_server(args: argparse.Namespace) -> int:
    """Check everything that can be checked, then serve; every problem is one line and a non-zero exit."""
    if ":" not in args.app:
        return _fail(f"expected MODULE:ATTRIBUTE, got {args.app!r}")
    try:
        import uvicorn
        from dotenv import load_dotenv
        from uvicorn.config import LOGGING_CONFIG, STARTUP_FAILURE
        from uvicorn.supervisors import ChangeReload, Multiprocess

        from typedasgi.server_lifespan import ServerConfig
    except ImportError:
        print(STANDARD_EXTRA_MISSING, file=sys.stderr)
        return 1
    if not os.path.isdir(args.app_dir):
        return _fail(f"--app-dir {args.app_dir!r} is not a directory")
    for option in ("env_file", "ssl_keyfile", "ssl_certfile", "ssl_ca_certs"):
        path = getattr(args, option)
        if path is not None and not os.path.isfile(path):
            return _fail(f"--{option.replace('_', '-')} {path!r} is not a file")
    if (args.ssl_keyfile is None) != (args.ssl_certfile is None):
        return _fail("TLS needs both --ssl-keyfile and --ssl-certfile")
    if args.http == "httptools" and not _has_httptools():
        return _fail("--http httptools: httptools is not installed (pip install httptools), or use --http h11")
    try:
        shutdown_bound = args.timeout_lifespan_shutdown or seconds_from_env(
            LIFESPAN_SHUTDOWN_TIMEOUT_ENV, DEFAULT_LIFESPAN_SHUTDOWN_TIMEOUT
        )
    except ValueError as exc:
        return _fail(str(exc))
    if args.env_file is not None:
        load_dotenv(args.env_file, override=True)  # before the app is imported: it may read them
    try:
        app = load_app(args.app, args.app_dir, factory=args.factory)
    except AppNotFound as exc:
        return _fail(str(exc), 1)

    log_config = copy.deepcopy(LOGGING_CONFIG)
    level = "DEBUG" if args.log_level == "trace" else args.log_level.upper()
    log_config["loggers"]["typedasgi"] = {"handlers": ["default"], "level": level, "propagate": False}
    given: dict[str, Any] = {  # options left unset keep uvicorn's own defaults
        key: value
        for key in (
            "ssl_keyfile", "ssl_certfile", "ssl_keyfile_password", "ssl_ca_certs", "ssl_cert_reqs", "ssl_ciphers",
            "ws_max_size", "limit_concurrency", "timeout_keep_alive",
        )
        if (value := getattr(args, key)) is not None
    }
    # The bounds reach the server's protocols and lifespan (typedasgi.server_timers, server_lifespan) as
    # environment variables, which --workers and --reload processes inherit.
    bounds = ((args.timeout_head, HEAD_TIMEOUT_ENV), (args.timeout_body, BODY_TIMEOUT_ENV),
              (shutdown_bound, LIFESPAN_SHUTDOWN_TIMEOUT_ENV))
    for value, variable in bounds:
        if value is not None:
            os.environ[variable] = str(value)
    several = args.reload or (args.workers or 1) > 1
    options: dict[str, Any] = dict(
        log_config=log_config,  # uvicorn's own, plus typedasgi's loggers (plugins report at start-up)
        host=args.host,
        port=args.port,
        reload=args.reload,
        workers=args.workers,
        log_level=args.log_level,
        factory=args.factory and several,
        env_file=args.env_file,
        root_path=args.root_path,
        lifespan=args.lifespan,
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips,
        http=_http_protocol(args.http),
        ws=_ws_protocol(),
        h11_max_incomplete_event_size=args.max_head_size,  # h11 bounds the head by it; our httptools protocol too
        **given,
    )
    # uvicorn.run's three branches, with typedasgi's config (its lifespan bounds the app's shut-down). One
    # process serves the app already loaded (a factory is not called twice); workers and --reload import
    # it again in each child process, so they get the import string.
    lift_open_files_limit()  # before any worker or reloader child starts: they inherit it
    target = args.app if several else cast("Callable[..., Any]", app)  # checked by load_app
    config = ServerConfig(target, **options)  # app_dir: load_app put it on sys.path, which children inherit
    if args.reload:
        reloader = ChangeReload(config, target=uvicorn.Server(config).run, sockets=[config.bind_socket()])
        reloader.run()
        return SHUTDOWN_TIMED_OUT if reloader.process.exitcode == SHUTDOWN_TIMED_OUT else 0
    if several:
        # uvicorn.run's own --workers branch exits 0 even when it stopped because a worker's start-up failed;
        # one process exits 3 then, and so do we (or 124 for a worker whose shut-down ran past its bound),
        # or a service manager takes the failure for a stop.
        supervisor = Multiprocess(config, sockets=[config.bind_socket()])
        supervisor.run()
        codes = {worker.exitcode for worker in supervisor.processes}
        return next((code for code in (STARTUP_FAILURE, SHUTDOWN_TIMED_OUT) if code in codes), 0)
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: uvicorn stopped gracefully, then raised it again
        server.run()
    return 0 if server.started else STARTUP_FAILURE


OPEN_FILES_CEILING: Final = 1 << 20
"""Where the lifted soft limit stops when the hard one is unlimited (Linux refuses more by default)."""


def lift_open_files_limit() -> None:
    """Raise the soft limit on open files to the hard one (at most ``OPEN_FILES_CEILING``).

    Every connection and every upload spooled to disk holds a descriptor: at the common soft
    default of 1024 one upload of 1000 files (the default ``max_files``) would use them all up.
    Servers and runtimes that expect many descriptors lift it the same way (Go, the JVM).
    """
    try:
        import resource
    except ImportError:  # not on Windows: nothing to lift there
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = OPEN_FILES_CEILING if hard == resource.RLIM_INFINITY else min(hard, OPEN_FILES_CEILING)
    if soft == resource.RLIM_INFINITY or soft >= target:
        return
    with contextlib.suppress(ValueError, OSError):  # a sandbox may refuse: the server runs with what it has
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _has_httptools() -> bool:
    return importlib.util.find_spec("httptools") is not None  # uvicorn's standard extra has it, where it installs


def _http_protocol(choice: str) -> str:
    """uvicorn's httptools or h11 protocol, with the head and body bounded (typedasgi.server_protocol, server_h11)."""
    if choice == "h11" or (choice == "auto" and not _has_httptools()):
        return "typedasgi.server_h11:TimedH11Protocol"  # by name: --workers children import it
    return "typedasgi.server_protocol:HeadBoundedHttpToolsProtocol"


def _ws_protocol() -> str:
    """uvicorn's default WebSocket protocol, answering every handshake (typedasgi.server_protocol), if it is the one."""
    if importlib.util.find_spec("websockets") is None or not _has_httptools():  # the module needs httptools too
        return "auto"  # uvicorn picks wsproto, or none
    return "typedasgi.server_protocol:HandshakeAnsweringWebSocketsProtocol"


def _list_plugins(*, as_json: bool) -> int:
    """Load and check each installed plugin alone; 1 if any of them is broken."""
    found = installed_plugins()
    if as_json:
        print(json.dumps([dataclasses.asdict(plugin) for plugin in found], indent=2))
        return 1 if any(plugin.error for plugin in found) else 0
    if not found:
        print("No typedasgi plugins installed.")
    rows = [("NAME", "DISTRIBUTION", "VERSION", "HOOKS")]
    for plugin in found:
        hooks = ", ".join(plugin.hooks) if plugin.error is None else f"ERROR: {plugin.error}"
        if plugin.adds_hooks:
            hooks += f" (adds: {', '.join(plugin.adds_hooks)})"
        rows.append((plugin.name, plugin.distribution or "-", plugin.version or "-", hooks))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows if found else []:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])
    if not autoload_enabled():
        print(f"\nAutoload is off ({DISABLE_AUTOLOAD_ENV} is set): apps load only the plugins given to them.")
    return 1 if any(plugin.error for plugin in found) else 0


def main() -> None:
    sys.exit(run())
