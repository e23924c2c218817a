"""Reading an HTTP-only key before narrowing the scope (a lifespan scope has no method)."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    print(scope["method"])  # E: typeddict-item: TypedDict "LifespanScope" has no key "method" ## reportGeneralTypeIssues: "method" is not a defined key in "LifespanScope"
