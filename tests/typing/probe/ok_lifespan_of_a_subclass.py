"""A lifespan written for an app subclass takes the subclass (Starlette types ``__init__`` the same way)."""

import contextlib
from collections.abc import AsyncGenerator

from typedasgi.applications import Starlette


class MyApp(Starlette):
    db_url: str = "sqlite://"


@contextlib.asynccontextmanager
async def lifespan(app: MyApp) -> AsyncGenerator[None]:
    _ = app.db_url
    yield


app = MyApp(lifespan=lifespan)
