"""``typedasgi run MODULE:APP``: serve an app on uvicorn (the ``standard`` extra).

``typedasgi plugins``: list the installed plugins, their distributions and hooks.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import sys
from collections.abc import Sequence

from typedasgi.plugins import DISABLE_AUTOLOAD_ENV, autoload_enabled, installed_plugins

__all__ = ["main"]

STANDARD_EXTRA_MISSING = (
    "typedasgi run needs uvicorn, which comes with the standard extra:\n"
    "    pip install 'typedasgi[standard]'"
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="typedasgi", description="typedasgi command line")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve an app with uvicorn")
    run.add_argument("app", help="the app to serve, as MODULE:ATTRIBUTE (e.g. examples.hello:app)")
    run.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    run.add_argument("--port", type=int, default=8000, help="port to bind (default: 8000)")
    run.add_argument("--reload", action="store_true", help="restart when source files change")
    run.add_argument("--workers", type=int, default=None, help="number of worker processes")
    run.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="log level (default: info)",
    )
    run.add_argument("--app-dir", default=".", help="directory added to sys.path first (default: .)")
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


def _run_server(args: argparse.Namespace) -> int:
    if ":" not in args.app:
        print(f"typedasgi run: expected MODULE:ATTRIBUTE, got {args.app!r}", file=sys.stderr)
        return 2
    try:
        import uvicorn
        from uvicorn.config import LOGGING_CONFIG
    except ImportError:
        print(STANDARD_EXTRA_MISSING, file=sys.stderr)
        return 1

    log_config = copy.deepcopy(LOGGING_CONFIG)
    level = "DEBUG" if args.log_level == "trace" else args.log_level.upper()
    log_config["loggers"]["typedasgi"] = {"handlers": ["default"], "level": level, "propagate": False}
    uvicorn.run(
        args.app,
        log_config=log_config,  # uvicorn's own, plus typedasgi's loggers (plugins report at start-up)
        host=args.host,
        port=args.port,
        reload=args.reload,
        workers=args.workers,
        log_level=args.log_level,
        app_dir=args.app_dir,
    )
    return 0


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
