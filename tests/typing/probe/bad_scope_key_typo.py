"""A misspelt scope key."""

from typedasgi.types import Receive, Scope, Send


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        print(scope["methd"])  # E: typeddict-item: has no key "methd" ## reportGeneralTypeIssues: "methd" is not a defined key
