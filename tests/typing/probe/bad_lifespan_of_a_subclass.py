"""A lifespan written for an app subclass takes the subclass (as Starlette types it), and fits no other app."""

import contextlib
from collections.abc import AsyncGenerator

from typedasgi.applications import Starlette


class MyApp(Starlette):
    db_url: str = "sqlite://"


@contextlib.asynccontextmanager
async def lifespan(app: MyApp) -> AsyncGenerator[None]:
    _ = app.db_url
    yield


app = Starlette(lifespan=lifespan)  # E: arg-type: Argument "lifespan" to "TypedASGI" has incompatible type ## reportArgumentType: cannot be assigned to parameter "lifespan"
subclassed = MyApp(lifespan=lifespan)  # fine
