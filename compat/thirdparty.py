"""Third-party Starlette packages' own test suites, run on typedasgi: ``python3 dev.py compat --third-party``.

For each package: its source distribution (which ships its tests) is
downloaded into a temporary folder, the package and its test requirements are
installed into a throwaway virtual environment, Starlette is uninstalled and
typedasgi installed from this checkout, and ``starlette`` is mapped to
typedasgi by an import hook (``compat/starlette_alias.py``, loaded by a
``.pth`` file) plus a ``starlette`` distribution record carrying the Starlette
version typedasgi is measured against, so version checks find it (OpenTelemetry
reads the record; Sentry reads ``starlette.__version__``, which the hook answers
from the record). Not one file of the package or its tests is changed. A package whose
source distribution has no tests can be given a folder with them
(``--tests NAME=DIR``, e.g. a clone of its repository). A package whose tests
talk to a real server gets one for its run, on 127.0.0.1, stopped when the run
ends (``Package.redis_url_env``: a ``redis-server`` from PATH, which
``dev.py setup`` installs).

Not part of ``dev.py check``: it needs the package index.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from typedasgi_broadcast.testing import running_redis

from compat.run import FAILURE_LINE, SUMMARY_COUNT, download_sdist, extract

ROOT = Path(__file__).resolve().parent.parent
ALIAS_MODULE = Path(__file__).resolve().parent / "starlette_alias.py"
STARLETTE_VERSION = "1.10.0"  # the release `dev.py compat` measures against
TYPEDASGI_EXTRAS = "testclient,forms,templates,schemas"  # what `starlette[full]` users have
# Frameworks built on Starlette: with the alias they would import typedasgi, which is not what is measured.
UNINSTALL = ("starlette", "fastapi")
# What setuptools-scm (and hatch-vcs, which uses it) and uv-dynamic-versioning take as the version of a
# snapshot without git history.
SNAPSHOT_VERSION = {"SETUPTOOLS_SCM_PRETEND_VERSION": "0.0.0+snapshot", "UV_DYNAMIC_VERSIONING_BYPASS": "0.0.0"}


@dataclass(frozen=True)
class Package:
    """A package on the index, what its tests need, and why what does not pass does not."""

    name: str
    test_requires: tuple[str, ...] = ("pytest",)
    pytest_args: tuple[str, ...] = ()  # test paths (default: the pytest configuration's), --deselect ...
    known: str = ""  # why what fails fails (its environment, or tests of an older API); see --starlette
    # Data files its tests read that the repository has and the sdist does not ship (path: content).
    sdist_lacks: tuple[tuple[str, str], ...] = ()
    sdist_has_tests: bool = True  # False: runs only with --tests NAME=DIR (a clone of its repository)
    # The clone does not build (a poetry project without [build-system]): the package comes from the index,
    # only its tests from the clone.
    install_from_index: bool = False
    # The environment variable its tests read a Redis URL from: a redis-server on a free 127.0.0.1 port is
    # started for the run and its URL passed there.
    redis_url_env: str = ""


PYTEST_ASYNCIO = ("pytest", "pytest-asyncio")
# Strawberry's pytest markers for the frameworks other than Starlette that its view suites also run on.
OTHER_FRAMEWORKS = " or ".join(
    ("aiohttp", "chalice", "channels", "django", "fastapi", "flask", "quart", "sanic", "litestar")
)
PACKAGES: tuple[Package, ...] = (
    Package(
        "sse-starlette",
        (*PYTEST_ASYNCIO, "httpx2", "httpx", "asgi-lifespan", "uvicorn", "portend", "psutil", "tenacity")
        + ("testcontainers",),
        ("tests", "-m", "not integration and not experimentation"),
        known="the sdist lacks tests/conftest.py, tests/anyio_compat.py and examples/: their tests error or leak state",
    ),
    Package(
        "starlette-exporter",
        ("pytest", "httpx", "prometheus-client", "aiofiles", "requests"),
        sdist_lacks=(("tests/static/test.txt", "test"),),
    ),
    Package(
        "opentelemetry-instrumentation-starlette",
        ("pytest", "httpx", "opentelemetry-test-utils", "opentelemetry-sdk"),
        known="10 expect no http.target, but the router records scope['route'] as Starlette 1.10's does",
    ),
    Package("starlette-csrf", (*PYTEST_ASYNCIO, "httpx<0.28", "asgi-lifespan")),
    Package("starlette-compress", ("pytest", "pytest-timeout", "httpx2", "zstandard", "brotli")),
    Package("starlette-i18n", ("pytest", "httpx2", "jinja2")),
    Package("starlette-problem", (*PYTEST_ASYNCIO, "pytest-httpx", "httpx", "uvicorn")),
    Package(
        "starlette-wtf",
        ("pytest", "httpx", "jinja2", "requests", "python-multipart"),
        known="1 calls TemplateResponse(name, context), gone since Starlette 1.0; the sdist lacks tests/conftest.py",
    ),
    Package("starlette-securecookies", ("pytest", "httpx", "itsdangerous", "starlette-csrf")),
    Package(
        "asgi-csrf",
        (*PYTEST_ASYNCIO, "httpx", "asgi-lifespan", "python-multipart"),
        known="7 pass FileClass= to python-multipart's FormParser, which its current release does not take",
    ),
    Package(
        "mangum",
        ("pytest", "httpx2", "brotli", "brotli-asgi", "boto3", "testcontainers", "quart"),
        known="the localstack tests need Docker",
    ),
    Package(
        "asgi-lifespan",
        (*PYTEST_ASYNCIO, "httpx<0.28", "trio"),
        ("tests", "-k", "not trio"),
        known="8 use Router(on_startup=), gone since Starlette 1.0; trio variants not run (typedasgi is asyncio-only)",
    ),
    Package("a2wsgi", (*PYTEST_ASYNCIO, "httpx", "baize")),
    Package("starlette-context", (*PYTEST_ASYNCIO, "httpx"), sdist_has_tests=False),
    Package("brotli-asgi", ("pytest", "httpx", "brotli"), ("tests.py",), sdist_has_tests=False),
    Package(
        "starlette-prometheus",
        ("pytest", "httpx", "requests"),
        known="1 expects prometheus-client's old content type (version=0.0.4)",
        sdist_has_tests=False,
    ),
    Package(
        "starsessions",
        (*PYTEST_ASYNCIO, "httpx", "redis", "cryptography"),
        sdist_has_tests=False,
        redis_url_env="REDIS_URL",  # tests/backends/test_redis.py, default redis://localhost
    ),
    Package("timing-asgi", (*PYTEST_ASYNCIO, "requests", "httpx"), sdist_has_tests=False),
    Package(
        "ariadne",
        (*PYTEST_ASYNCIO, "pytest-benchmark", "pytest-mock", "freezegun", "syrupy", "werkzeug", "httpx")
        + ("opentelemetry-api", "python-multipart", "aiodataloader", "graphql-sync-dataloaders")
        + ("sqlalchemy[asyncio]",),
        ("tests", "tests_integrations/starlette"),
        known="8 enum tests patch a graphql-core API its current release changed; 2 wait 15 s for an SSE ping, "
        "past the TestClient's 10 s timeout; 1 expects the class name starlette.datastructures.UploadFile",
        sdist_has_tests=False,
    ),
    Package(
        "strawberry-graphql",
        (*PYTEST_ASYNCIO, "pytest-mock", "pytest-emoji", "inline-snapshot", "freezegun", "rich", "httpx"),
        # Its ASGI (Starlette) integration: the HTTP and WebSocket suites run once per framework client.
        ("tests/asgi", "tests/http", "tests/websockets", "-m", f"not ({OTHER_FRAMEWORKS})"),
        known="6 @defer/@stream tests get one response, not an incremental one, with graphql-core 3.3.2; "
        "3 tests marked flaky (xfail) pass",
        sdist_has_tests=False,
    ),
    Package(
        "authlib",
        (*PYTEST_ASYNCIO, "httpx2", "anyio", "cachelib", "itsdangerous", "requests"),
        ("tests/clients/test_starlette",),  # its Starlette OAuth client
        sdist_has_tests=False,
    ),
    Package(
        "sentry-sdk",
        (*PYTEST_ASYNCIO, "pytest-localserver", "werkzeug", "jsonschema", "httpx", "requests", "jinja2"),
        ("tests/integrations/starlette",),
        known="typedasgi only: 2 expect the span name of Starlette's inner send wrapper "
        "(ServerErrorMiddleware.__call__.<locals>._send), 2 expect starlette.* module paths in transaction names",
    ),
    Package(
        "spectree",
        ("pytest", "syrupy", "pydantic", "msgspec", "httpx"),
        ("tests/test_plugin_starlette.py", "tests/test_plugin_starlette_model_adapters.py"),
        sdist_has_tests=False,
    ),
    Package("starlette-login", (*PYTEST_ASYNCIO, "httpx", "itsdangerous"), sdist_has_tests=False),
    Package(
        "starlette-admin",
        (*PYTEST_ASYNCIO, "httpx", "httpx2", "itsdangerous", "boto3", "pillow", "arrow", "openpyxl", "tinydb")
        + ("testcontainers[minio,mongodb,mysql,postgres]", "sqlalchemy[asyncio]<2.1", "aiosqlite", "sqlalchemy-file")
        + ("sqlalchemy-utils", "sqlmodel", "pydantic[email]", "colour", "phonenumbers", "babel", "tablib[all]")
        + ("reportlab", "nh3", "passlib", "fasteners", "markdown"),
        # Its unit and core integration suites; the database integration suites start MySQL, PostgreSQL,
        # MongoDB and MinIO containers (Docker), and so does the S3 half of its storage tests.
        ("tests/unit/core", "tests/unit/sqla", "tests/unit/tools", "tests/integration/core", "-k", "not s3"),
        known="8 use a storage fixture that starts a MinIO container (Docker); typedasgi only: 2 expect an error "
        "raised in the app to reach httpx's ASGITransport, where typedasgi answers 500 and does not re-raise",
        sdist_has_tests=False,
    ),
    Package(
        "sqladmin",
        ("pytest", "anyio", "httpx", "itsdangerous", "aiosqlite", "greenlet", "arrow", "babel", "colour")
        + ("email-validator", "fastapi-storages", "phonenumbers", "pillow", "python-dateutil", "sqlalchemy-utils")
        + ("sqlmodel",),
        known="3 look for the login cookie on the page the login redirects to, not on the redirect that sets it; "
        "typedasgi only: 1 expects the class name Starlette (typedasgi's app class is TypedASGI); Starlette only: "
        "1 uses app.route",
        sdist_has_tests=False,  # its tests use SQLite unless TEST_DATABASE_URI_* name another database
    ),
    Package(
        "apitally",
        (*PYTEST_ASYNCIO, "pytest-mock", "pytest-httpx", "requests-mock", "httpx", "requests", "loguru"),
        ("tests/test_starlette.py",),  # its FastAPI half is not run: FastAPI is uninstalled
        known="6 get a 404 for /openapi.json, a route the test app does not have",
        sdist_has_tests=False,
    ),
    Package(
        "rollbar",
        ("pytest", "httpx", "requests", "python-multipart", "jinja2", "aiofiles"),
        ("rollbar/test/starlette_tests",),
        known="Starlette only: 12 use app.route",
        sdist_has_tests=False,
    ),
    Package(
        "mcp",
        ("pytest", "inline-snapshot", "dirty-equals", "logfire", "opentelemetry-sdk", "blockbuster", "pillow", "trio"),
        # Its server, client and shared suites: the SSE and streamable-HTTP transports are Starlette apps.
        ("tests/server", "tests/shared", "tests/client", "tests/issues"),
        known="1 expects a PermissionError reading a file made unreadable, which root reads anyway",
    ),
    Package(
        "fastmcp",
        (*PYTEST_ASYNCIO, "pytest-timeout", "pytest-env", "inline-snapshot", "dirty-equals", "pytest-httpx")
        + ("opentelemetry-sdk", "authlib", "joserfc", "cryptography", "pydocket"),
        ("tests/server/http", "tests/server/auth"),  # its HTTP transports and auth: Starlette apps
        known="2 pass parent_task_spans= to pydocket's Worker, which its current release does not take",
    ),
    Package(
        "a2a-sdk",
        (*PYTEST_ASYNCIO, "pytest-mock", "pytest-timeout", "respx", "httpx", "pyjwt", "cryptography")
        + ("sse-starlette", "sqlalchemy[asyncio]", "aiosqlite", "grpcio", "grpcio-status", "grpcio-reflection")
        + ("opentelemetry-sdk",),
        ("tests/server",),  # its server: JSON-RPC and REST routes as Starlette apps
        known="1 resubscribes to a task and misses an artifact sent before",
        sdist_has_tests=False,
    ),
    Package(
        "starlette-apispec",
        ("pytest", "httpx", "apispec", "pyyaml"),
        sdist_has_tests=False,
        install_from_index=True,
    ),
    Package(
        "starlette-session",
        ("pytest", "pytest-mock", "httpx", "fakeredis", "redis", "pymemcache"),
        sdist_has_tests=False,
    ),
    Package(
        "starlette-flash",
        (*PYTEST_ASYNCIO, "httpx", "itsdangerous"),
        known="2 empty the flashed list in place, which Starlette 1.10's session (and typedasgi's) does not see "
        "as a change, so the cookie keeps the messages",
        sdist_has_tests=False,
    ),
)


@dataclass
class Result:
    name: str
    version: str = "?"
    counts: dict[str, int] = field(default_factory=dict[str, int])
    failures: list[str] = field(default_factory=list[str])
    note: str = ""

    @property
    def passed(self) -> int:
        return self.counts.get("passed", 0) + self.counts.get("xfailed", 0)

    @property
    def total(self) -> int:
        ran = ("passed", "failed", "errors", "xfailed", "xpassed")
        return sum(self.counts.get(key, 0) for key in ran)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _pip(python: Path, *args: str, env: dict[str, str] | None = None) -> None:
    cmd = [str(python), "-m", "pip", "--disable-pip-version-check", "-q", *args]
    _log("+ " + " ".join(cmd))
    subprocess.run(cmd, check=True, env=None if env is None else dict(os.environ, **env))


def make_venv(where: Path, package: Package, requirement: str, starlette: bool, clone: bool = False) -> Path:
    """A virtual environment with the package, its test requirements and typedasgi standing in for Starlette
    (or, with ``starlette``, Starlette itself: the baseline). A ``clone`` (a repository snapshot, no git
    history) is given a version for the build backends that read it from git tags (setuptools-scm, hatch-vcs)."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    python = where / ("Scripts" if os.name == "nt" else "bin") / "python"
    _pip(python, "install", requirement, *package.test_requires, env=SNAPSHOT_VERSION if clone else None)
    if starlette:
        _pip(python, "install", "starlette[full]")  # the extras' libraries, as typedasgi gets them below
        return python
    _pip(python, "uninstall", "-y", *UNINSTALL)
    _pip(python, "install", f"{ROOT}[{TYPEDASGI_EXTRAS}]")
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    shutil.copy(ALIAS_MODULE, site / "_typedasgi_starlette_alias.py")
    (site / "_typedasgi_starlette_alias.pth").write_text("import _typedasgi_starlette_alias\n")
    record = site / f"starlette-{STARLETTE_VERSION}.dist-info"
    record.mkdir()
    (record / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: starlette\nVersion: {STARLETTE_VERSION}\n"
        "Summary: typedasgi standing in for Starlette (compat/thirdparty.py)\n"
    )
    (record / "RECORD").write_text("")
    return python


@contextlib.contextmanager
def services(package: Package) -> Iterator[dict[str, str]]:
    """The real servers the package's tests talk to, running for the block and always stopped after it
    (each stop bounded in time); yields the environment that tells the tests where they are."""
    if not package.redis_url_env:
        yield {}
        return
    with running_redis() as redis:
        _log(f"+ redis-server on {redis.url} for {package.name} (${package.redis_url_env})")
        yield {package.redis_url_env: redis.url}


def run_suite(
    python: Path, top: Path, package: Package, timeout: float, service_env: dict[str, str]
) -> tuple[dict[str, int], list[str], str]:
    """The package's pytest run in its own folder: pytest's counts, failing tests, and a note if it did not finish."""
    # addopts is emptied: coverage thresholds and report flags are not tests.
    cmd = [str(python), "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-q", "-rfE", "--no-header"]
    cmd += ["--tb=line", "--continue-on-collection-errors", *package.pytest_args]
    env = dict(os.environ, TYPEDASGI_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1", COLUMNS="300")
    env.update(service_env)
    _log("+ " + " ".join(cmd))
    proc = subprocess.Popen(
        cmd, cwd=top, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    note = ""
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        note = f"timed out after {timeout:g}s"
    except BaseException:  # Ctrl-C or SIGTERM: its tests do not outlive the run (nor the servers they use)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    lines = out.splitlines()
    failures = [f"{m.group(1)} {m.group(2)} - {m.group(3) or ''}" for m in map(FAILURE_LINE.match, lines) if m]
    closing = next((line for line in reversed(lines) if SUMMARY_COUNT.search(line)), "")
    counts = {("errors" if word.startswith("error") else word): int(n) for n, word in SUMMARY_COUNT.findall(closing)}
    if not closing and not note:
        note = "pytest did not run: " + (lines[-1] if lines else "no output")
    return counts, failures, note


def run_package(
    package: Package, version: str | None, tests: Path | None, timeout: float, keep: Path | None, starlette: bool
) -> Result:
    result = Result(package.name)
    if tests is None and not package.sdist_has_tests:
        result.note = f"the sdist has no tests: --tests {package.name}=DIR with a clone of its repository"
        return result
    with tempfile.TemporaryDirectory(prefix=f"typedasgi-thirdparty-{package.name}-") as tmp:
        workdir = Path(tmp) if keep is None else keep / package.name
        if keep is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        try:
            if tests is None:
                archive = download_sdist(workdir / "download", package.name, version)
                result.version = archive.name.removesuffix(".tar.gz").removesuffix(".zip").rpartition("-")[2]
                top = extract(archive, workdir / "source")
                for path, content in package.sdist_lacks:
                    (top / path).parent.mkdir(parents=True, exist_ok=True)
                    (top / path).write_text(content, encoding="utf-8")
                requirement = f"{package.name}=={result.version}"
            else:  # a clone of the repository: the package is installed from it too
                result.version = "repository"
                top = workdir / "repository"
                shutil.copytree(tests, top, ignore=shutil.ignore_patterns(".git", "__pycache__"))
                requirement = package.name if package.install_from_index else str(top)
            clone = tests is not None and not package.install_from_index
            python = make_venv(workdir / "venv", package, requirement, starlette, clone)
        except subprocess.CalledProcessError as error:
            result.note = "failed: " + " ".join(str(arg) for arg in error.cmd[1:])[:160]
            return result
        started = time.monotonic()
        try:
            with services(package) as service_env:
                result.counts, result.failures, result.note = run_suite(python, top, package, timeout, service_env)
        except (RuntimeError, TimeoutError) as error:  # a server it needs is not installed or did not start
            result.note = f"failed: {error}"
            return result
        _log(f"{package.name}: {result.counts} in {time.monotonic() - started:.0f}s")
    if tests is not None:
        result.note = f"tests from {tests}; {result.note}".rstrip("; ")
    return result


def table(results: Sequence[Result]) -> str:
    rows = [("package", "version", "passed/total", "skipped", "notes")]
    for r in results:
        known = next((p.known for p in PACKAGES if p.name == r.name), "")
        notes = "; ".join(n for n in (r.note, known if r.passed < r.total else "") if n)
        score = f"{r.passed}/{r.total}" if r.counts else "-"  # "-": pytest never reported
        rows.append((r.name, r.version, score, str(r.counts.get("skipped", 0)), notes))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip() for row in rows)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM ends the run as Ctrl-C does: through every ``finally``, so the servers started are stopped."""
    sys.exit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    summary = (__doc__ or "").split("\n\n")[0]
    parser = argparse.ArgumentParser(prog="dev.py compat --third-party", description=summary)
    parser.add_argument("names", nargs="*", help="only these packages (NAME or NAME==VERSION); default: all")
    parser.add_argument(
        "--tests", action="append", default=[], metavar="NAME=DIR", help="NAME from DIR, a clone"
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per package's test run")
    parser.add_argument("--failures", action="store_true", help="also list every failing test")
    parser.add_argument("--starlette", action="store_true", help="the baseline: run on Starlette, not typedasgi")
    parser.add_argument("--keep", type=Path, help="work in KEEP/NAME and leave it there (venv, sources) to debug")
    args = parser.parse_intermixed_args(argv)  # names and --tests in any order
    known = {p.name: p for p in PACKAGES}
    tests = {name: Path(folder).resolve() for name, _, folder in (t.partition("=") for t in args.tests)}
    for name, folder in tests.items():
        if not folder.is_dir():
            parser.error(f"--tests {name}={folder}: not a folder")
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    results: list[Result] = []
    for spec in args.names or list(known):
        name, _, version = spec.partition("==")
        package = known.get(name, Package(name))
        results.append(
            run_package(package, version or None, tests.get(name), args.timeout, args.keep, args.starlette)
        )
    on = "Starlette itself (baseline)" if args.starlette else "typedasgi"
    print(f"Third-party packages' own tests on {on} ({time.strftime('%Y-%m-%d')})\n")
    print(table(results))
    if args.failures:
        print("\n" + "\n".join(f"{r.name}: {line}" for r in results for line in r.failures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
