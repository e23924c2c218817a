"""``StaticFiles``: serve a directory (or packages' ``statics``) as a mountable ASGI app.

Safety rests on one rule checked for every request: the file finally opened
must lie inside one of the configured directories, after ``..``, symlinks
(unless ``follow_symlink``) and every encoding trick are resolved. Hostile
paths are rejected early as a 404 and can never reach a 500.
"""

from __future__ import annotations

import importlib.resources
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, NamedTuple
from urllib.parse import unquote

from typedasgi.concurrency import run_in_threadpool
from typedasgi.error_responses import error_response
from typedasgi.exceptions import HTTPException, raises_to_app
from typedasgi.responses import FileResponse, Response
from typedasgi.paths import get_route_path
from typedasgi.redirects import send_slash_redirect
from typedasgi.types import Receive, Scope, Send

__all__ = ["NotModifiedResponse", "StaticFiles"]

PathLike = str | os.PathLike[str]

_ALLOW = {"Allow": "GET, HEAD"}
_FORBIDDEN_IN_SEGMENT = ("\x00", "\\", "/")
_WINDOWS = os.name == "nt"


class NotModifiedResponse(Response):
    """A 304 that repeats only the headers RFC 9110 lets a 304 carry, taken from the full response's."""

    NOT_MODIFIED_HEADERS = ("cache-control", "content-location", "date", "etag", "expires", "vary")

    def __init__(self, headers: Mapping[str, str]) -> None:
        kept = {name: value for name, value in headers.items() if name.lower() in self.NOT_MODIFIED_HEADERS}
        super().__init__(status_code=304, headers=kept)


class _Found(NamedTuple):
    """What a lookup decided, computed in one trip to the thread pool."""

    kind: Literal["file", "redirect", "not_found_page", "missing"]
    path: str = ""
    stat_result: os.stat_result | None = None


_MISSING = _Found("missing")


def _safe_segments(route_path: str) -> tuple[str, ...] | None:
    """The path's segments, or None for anything that tries to leave the directory.

    The server already percent-decoded the path; a segment that *still* decodes to
    something dangerous (double encoding, a proxy that decodes twice) is refused too.
    """
    segments: list[str] = []
    for segment in route_path.split("/"):
        if not segment or segment == ".":
            continue
        if "%" in segment:
            decoded = unquote(segment)
            if decoded in (".", "..") or any(char in decoded for char in _FORBIDDEN_IN_SEGMENT):
                return None
        if segment == ".." or any(char in segment for char in _FORBIDDEN_IN_SEGMENT):
            return None
        if _WINDOWS and (":" in segment or os.path.splitdrive(segment)[0]):
            return None
        segments.append(segment)
    return tuple(segments)


class StaticFiles:
    """Serve files from ``directory`` and the ``statics`` folders of ``packages``.

    Mount it: ``Mount("/static", app=StaticFiles(directory="static"), name="static")``.
    ``html=True`` serves ``index.html`` for directories (redirecting ``/dir`` to
    ``/dir/``) and ``404.html`` when present. Missing files and refused paths raise
    ``HTTPException(404)`` (other methods ``405``), so the app's exception handlers
    shape the error page, as for any route.
    """

    def __init__(
        self,
        directory: PathLike | None = None,
        *,
        packages: Sequence[str | tuple[str, str]] | None = None,
        html: bool = False,
        check_dir: bool = True,
        follow_symlink: bool = False,
    ) -> None:
        self.directory: PathLike | None = directory
        self.packages: Sequence[str | tuple[str, str]] | None = packages
        self.html: bool = html
        self.follow_symlink: bool = follow_symlink
        self.all_directories: list[str] = self._package_directories(packages or ())
        if directory is not None:
            self.all_directories.insert(0, os.fspath(directory))
        if not self.all_directories:
            raise ValueError("StaticFiles needs a directory or packages")
        if check_dir and directory is not None and not os.path.isdir(directory):
            raise RuntimeError(f"StaticFiles directory {os.fspath(directory)!r} does not exist")
        self._roots: list[tuple[str, str]] = []
        if check_dir:
            self._check_config()

    @staticmethod
    def _package_directories(packages: Sequence[str | tuple[str, str]]) -> list[str]:
        directories: list[str] = []
        for package in packages:
            name, folder = (package, "statics") if isinstance(package, str) else package
            try:
                root = importlib.resources.files(name)
            except ModuleNotFoundError as exc:
                raise RuntimeError(f"StaticFiles package {name!r} is not installed") from exc
            statics = root.joinpath(folder)
            if not isinstance(statics, Path) or not statics.is_dir():
                raise RuntimeError(f"Directory {folder!r} in package {name!r} could not be found")
            directories.append(str(statics))
        return directories

    def _check_config(self) -> None:
        """Validate the directories and resolve them once; with ``check_dir=False`` on the first request."""
        roots: list[tuple[str, str]] = []
        for directory in self.all_directories:
            if not os.path.isdir(directory):
                raise RuntimeError(f"StaticFiles directory {directory!r} does not exist or is not a directory")
            root = os.path.abspath(directory) if self.follow_symlink else os.path.realpath(directory)
            roots.append((root, root if root.endswith(os.sep) else root + os.sep))
        self._roots = roots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":  # nothing to talk to here: refuse the handshake
                await send({"type": "websocket.close", "code": 1000, "reason": None})
            return
        if not self._roots:
            await run_in_threadpool(self._check_config)
        method = scope.get("method", "GET")
        if method != "GET" and method != "HEAD":
            await _refuse(scope, receive, send, HTTPException(405, headers=_ALLOW))
            return
        segments = _safe_segments(get_route_path(scope))
        if segments is None and not self.html:
            found = _MISSING
        else:
            found = await run_in_threadpool(self._resolve, segments, scope["path"].endswith("/"))
        response: Response
        if found.kind == "file":
            response = FileResponse(found.path, stat_result=found.stat_result, method=method)
        elif found.kind == "redirect":  # "/dir" to "/dir/": _resolve redirects only paths without the slash
            await send_slash_redirect(scope, receive, send)
            return
        elif found.kind == "not_found_page":
            response = FileResponse(found.path, status_code=404, stat_result=found.stat_result, method=method)
        else:
            await _refuse(scope, receive, send, HTTPException(404))
            return
        await response(scope, receive, send)

    # -- blocking lookups, run in the thread pool

    def lookup_path(self, segments: Sequence[str]) -> tuple[str, os.stat_result] | None:
        """The first directory's entry at ``segments`` that stays inside it, with its stat."""
        for root, prefix in self._roots:
            try:
                joined = os.path.join(root, *segments)
                full = os.path.abspath(joined) if self.follow_symlink else os.path.realpath(joined)
                if full != root and not full.startswith(prefix):
                    continue  # a symlink (or anything else) leading out of the directory
                return full, os.stat(full)
            except (OSError, ValueError):  # missing, not a directory, name too long, no permission, NUL...
                continue
        return None

    def _resolve(self, segments: tuple[str, ...] | None, slash: bool) -> _Found:
        """Decide the response for ``segments`` (None: a refused path, which only gets the 404 page)."""
        found = self.lookup_path(segments) if segments is not None else None
        if found is not None:
            full, stat_result = found
            if stat.S_ISREG(stat_result.st_mode):
                return _Found("file", full, stat_result)
            if self.html and segments is not None and stat.S_ISDIR(stat_result.st_mode):
                index = self.lookup_path((*segments, "index.html"))
                if index is not None and stat.S_ISREG(index[1].st_mode):
                    return _Found("file", *index) if slash else _Found("redirect")
        if self.html:
            page = self.lookup_path(("404.html",))
            if page is not None and stat.S_ISREG(page[1].st_mode):
                return _Found("not_found_page", *page)
        return _MISSING


async def _refuse(scope: Scope, receive: Receive, send: Send, error: HTTPException) -> None:
    """Inside a TypedASGI app, raise so its handlers shape the page; alone (or in another
    framework, which knows nothing of our exception) answer the status directly."""
    if raises_to_app(scope):
        raise error
    await error_response(scope, error.status_code, error.detail, error.headers)(scope, receive, send)
