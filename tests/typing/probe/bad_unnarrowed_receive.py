"""Reading the body of a received message before narrowing it."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    message = await receive()
    print(message["body"])  # E: typeddict-item: TypedDict "HTTPDisconnectEvent" has no key "body" ## reportGeneralTypeIssues: "body" is not a defined key in "HTTPDisconnectEvent"
