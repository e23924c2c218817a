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
from typedasgi.datastructures import Headers
from typedasgi.responses import FileResponse, Response, is_not_modified
from typedasgi.paths import get_route_path
from typedasgi.redirects import send_slash_redirect
from typedasgi.types import HTTPScope, Receive, Scope, Send

__all__ = ["NotModifiedResponse", "StaticFiles"]

PathLike = str | os.PathLike[str]

_ALLOW = {"Allow": "GET, HEAD"}
_FORBIDDEN_IN_SEGMENT = ("\x00", "\\", "/")
_WINDOWS = os.name == "nt"
_MAX_PATH_LENGTH = 4096
"""Longer request paths are refused unread: no file system opens one (Linux's PATH_MAX), and resolving
one segment at a time costs time that grows with the square of its length."""


class NotModifiedResponse(Response):
    """A 304 that repeats only the headers RFC 9110 lets a 304 carry, taken from the full response's."""

    NOT_MODIFIED_HEADERS = ("cache-control", "content-location", "date", "etag", "expires", "vary")

    def __init__(self, headers: Mapping[str, str]) -> None:
        kept = {name: value for name, value in headers.items() if name.lower() in self.NOT_MODIFIED_HEADERS}
        super().__init__(status_code=304, headers=kept)


class _Found(NamedTuple):
    """What a lookup decided, computed in one trip to the thread pool."""

    kind: Literal["file", "redirect", "not_found_page", "forbidden", "missing"]
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
        self.config_checked: bool = False
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

    async def check_config(self) -> None:
        """Fail loudly (``RuntimeError``) when a directory is missing, rather than answering 404s; run once."""
        await run_in_threadpool(self._check_config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":  # nothing to talk to here: refuse the handshake
                await send({"type": "websocket.close", "code": 1000, "reason": None})
            return
        if not self.config_checked:
            await self.check_config()
            self.config_checked = True
        try:
            response = await self.get_response(self.get_path(scope), scope)
        except HTTPException as error:
            await _refuse(scope, receive, send, error)
            return
        await response(scope, receive, send)

    def get_path(self, scope: HTTPScope) -> str:
        """The route path relative to the directories; ``lookup_path`` refuses what tries to leave them."""
        return get_route_path(scope).lstrip("/")

    async def get_response(self, path: str, scope: HTTPScope) -> Response:
        """The response for ``path``; raises ``HTTPException`` 404/405 (401 for a file we may not read)."""
        method = scope.get("method", "GET")
        if method != "GET" and method != "HEAD":
            raise HTTPException(405, headers=_ALLOW)
        found = await run_in_threadpool(self._resolve, path, scope.get("path", "").endswith("/"))
        if found.kind == "file" and found.stat_result is not None:
            return self.file_response(found.path, found.stat_result, scope)
        if found.kind == "redirect":  # "/dir" to "/dir/": _resolve redirects only paths without the slash
            return _SlashRedirect()
        if found.kind == "not_found_page":
            return FileResponse(found.path, status_code=404, stat_result=found.stat_result, method=method)
        if found.kind == "forbidden":
            raise HTTPException(401)
        raise HTTPException(404)

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: HTTPScope, status_code: int = 200
    ) -> Response:
        """The file's response; a 304 when ``is_not_modified`` says the client's copy is current."""
        response = FileResponse(full_path, status_code=status_code, stat_result=stat_result, method=scope.get("method"))
        if status_code == 200 and self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response

    def is_not_modified(self, response_headers: Mapping[str, str], request_headers: Mapping[str, str]) -> bool:
        """Whether the request's validators match the file's ``ETag``/``Last-Modified``."""
        return is_not_modified(response_headers.get("etag"), response_headers.get("last-modified"), request_headers)

    # -- blocking lookups, run in the thread pool

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        """The first directory's entry at ``path`` that stays inside it, with its stat; ``("", None)`` if none.

        Absolute paths, ``..``, NUL, backslashes, double-encoded tricks and paths over
        4,096 characters are refused;
        so is an entry whose real path (symlinks resolved unless ``follow_symlink``) leaves
        the directory. A ``PermissionError`` is raised (the caller answers 401).
        """
        too_long = len(path) > _MAX_PATH_LENGTH
        segments = None if too_long or path.startswith(("/", "\\")) else _safe_segments(path)
        if segments is None:
            return "", None
        if not self._roots:
            self._check_config()
        for root, prefix in self._roots:
            try:
                joined = os.path.join(root, *segments)
                full = os.path.abspath(joined) if self.follow_symlink else os.path.realpath(joined)
                if full != root and not full.startswith(prefix):
                    continue  # a symlink (or anything else) leading out of the directory
                return full, os.stat(full)
            except PermissionError:
                raise
            except (OSError, ValueError):  # missing, not a directory, name too long, NUL...
                continue
        return "", None

    def _resolve(self, path: str, slash: bool) -> _Found:
        """Decide the response for ``path``, in one trip to the thread pool."""
        try:
            full, stat_result = self.lookup_path(path)
        except PermissionError:
            return _Found("forbidden")
        if stat_result is not None:
            if stat.S_ISREG(stat_result.st_mode):
                return _Found("file", full, stat_result)
            if self.html and stat.S_ISDIR(stat_result.st_mode):
                index, index_stat = self.lookup_path(os.path.join(path, "index.html"))
                if index_stat is not None and stat.S_ISREG(index_stat.st_mode):
                    return _Found("file", index, index_stat) if slash else _Found("redirect")
        if self.html:
            page, page_stat = self.lookup_path("404.html")
            if page_stat is not None and stat.S_ISREG(page_stat.st_mode):
                return _Found("not_found_page", page, page_stat)
        return _MISSING


class _SlashRedirect(Response):
    """Redirect "/dir" to "/dir/", keeping the query string and the mount's root path."""

    def __init__(self) -> None:
        super().__init__(status_code=307)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await send_slash_redirect(scope, receive, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, error: HTTPException) -> None:
    """Inside a TypedASGI app, raise so its handlers shape the page; alone (or in another
    framework, which knows nothing of our exception) answer the status directly."""
    if raises_to_app(scope):
        raise error
    await error_response(scope, error.status_code, error.detail, error.headers)(scope, receive, send)
