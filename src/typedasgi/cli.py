"""``typedasgi run MODULE:APP``: serve an app on uvicorn (the ``standard`` extra)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

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
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        return _run_server(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


def _run_server(args: argparse.Namespace) -> int:
    if ":" not in args.app:
        print(f"typedasgi run: expected MODULE:ATTRIBUTE, got {args.app!r}", file=sys.stderr)
        return 2
    try:
        import uvicorn
    except ImportError:
        print(STANDARD_EXTRA_MISSING, file=sys.stderr)
        return 1

    uvicorn.run(
        args.app,
        host=args.host,
        port=args.port,
        reload=args.reload,
        workers=args.workers,
        log_level=args.log_level,
        app_dir=args.app_dir,
    )
    return 0


def main() -> None:
    sys.exit(run())
