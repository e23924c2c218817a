"""A middleware option of the wrong type, caught where the middleware is declared."""

from typedasgi.applications import TypedASGI
from typedasgi.middleware import Middleware
from typedasgi.middleware.gzip import GZipMiddleware

app = TypedASGI(middleware=[Middleware(GZipMiddleware, minimum_size="500")])  # E: arg-type: Argument "minimum_size" to "Middleware" has incompatible type "str"; expected "int" ## reportArgumentType: parameter "minimum_size" of type "int"
