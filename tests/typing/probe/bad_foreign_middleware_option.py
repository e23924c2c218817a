"""A Starlette-typed middleware's option misspelt: its arguments are checked like typedasgi's own."""

from starlette.middleware.cors import CORSMiddleware

from typedasgi.applications import TypedASGI
from typedasgi.middleware import Middleware

app = TypedASGI(middleware=[Middleware(CORSMiddleware, allow_origin=["*"])])  # E: call-arg: Unexpected keyword argument "allow_origin" ## reportCallIssue: No parameter named "allow_origin"
