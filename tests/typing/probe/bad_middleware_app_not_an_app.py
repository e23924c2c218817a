"""A middleware is given the next layer, an ASGI app: never the application object, nor anything else."""

from typedasgi.applications import TypedASGI
from typedasgi.middleware import Middleware
from typedasgi.types import Receive, Scope, Send


class UsesAppState:
    def __init__(self, app: TypedASGI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        _ = self.app.state  # the next layer has no state: an AttributeError at run time
        await self.app(scope, receive, send)


app = TypedASGI(middleware=[Middleware(UsesAppState)])  # E: arg-type: Argument 1 to "Middleware" has incompatible type "type[UsesAppState]" ## reportArgumentType: "type[UsesAppState]" cannot be assigned to parameter "cls"
