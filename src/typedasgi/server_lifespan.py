"""The lifespan ``typedasgi run`` serves with: the app's shut-down bounded in time.

uvicorn waits for an app's lifespan shut-down (``on_shutdown``, a lifespan context's exit, a
plugin's) for ever: ``--timeout-graceful-shutdown`` bounds only the connections and their tasks,
and a second Ctrl-C sets a flag nothing reads by then, so a server whose app hangs there stays
alive after SIGTERM until a service manager SIGKILLs it, with nothing in the log to say why.
Here a shut-down still running after ``--timeout-lifespan-shutdown`` seconds is given up: one
error line names the bound, and the process exits with status ``SHUTDOWN_TIMED_OUT``.

Needs the ``standard`` extra (uvicorn); imported only by the CLI.
"""

from __future__ import annotations

import os
import threading

from uvicorn.config import Config
from uvicorn.lifespan.on import LifespanOn

from typedasgi.server_limits import (
    DEFAULT_LIFESPAN_SHUTDOWN_TIMEOUT,
    LIFESPAN_SHUTDOWN_TIMEOUT_ENV,
    SHUTDOWN_TIMED_OUT,
    seconds_from_env,
)

__all__ = ["BoundedShutdownLifespan", "ServerConfig"]


class ServerConfig(Config):
    """uvicorn's ``Config`` serving the ASGI lifespan with ``BoundedShutdownLifespan``."""

    def load(self) -> None:
        super().load()
        if self.lifespan_class is LifespanOn:  # --lifespan auto or on; off has no shut-down to bound
            self.lifespan_class = BoundedShutdownLifespan


class BoundedShutdownLifespan(LifespanOn):
    """``LifespanOn`` whose shut-down ends the process once it has run past its bound.

    The bound is read from the environment, as the request timers read theirs: ``typedasgi run``
    sets it from ``--timeout-lifespan-shutdown``, and ``--workers``/``--reload`` processes inherit it.

    The bound is kept by a thread, not the event loop: a shut-down handler that blocks the loop (a
    synchronous call that never returns) or ignores cancellation would stop a loop timer, or the
    clean-up after it, from ever running. Past the bound nothing more of the app can be trusted to
    finish, so the process ends at once (``os._exit``), as the SIGKILL it spares would.
    """

    async def shutdown(self) -> None:
        seconds = seconds_from_env(LIFESPAN_SHUTDOWN_TIMEOUT_ENV, DEFAULT_LIFESPAN_SHUTDOWN_TIMEOUT)
        watchdog = threading.Timer(seconds, self._give_up, args=(seconds,))
        watchdog.daemon = True  # never what keeps the process alive
        watchdog.start()
        try:
            await super().shutdown()
        finally:
            watchdog.cancel()

    def _give_up(self, seconds: float) -> None:
        self.logger.error(
            "Application shutdown did not finish within %g s (--timeout-lifespan-shutdown): exiting with status %d.",
            seconds,
            SHUTDOWN_TIMED_OUT,
        )
        os._exit(SHUTDOWN_TIMED_OUT)
