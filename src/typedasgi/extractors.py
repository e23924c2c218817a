"""What a typed handler's parameters are read from, and the per-request steps that read them.

``Inputs`` is one request's sources (query string, headers, cookies, the
connection), each parsed on first use. The step factories here are called at
registration by ``typedasgi.params``; the steps they return run per request and
raise :class:`Invalid` for a missing or malformed value, which
``typedasgi.handlers`` gathers into one :class:`RequestValidationError`.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypedDict
from urllib.parse import parse_qsl

import msgspec
from typing_extensions import TypeIs

from typedasgi.background import BackgroundTasks
from typedasgi.convertors import Convertor

from typedasgi.exceptions import HTTPException
from typedasgi.requests import HTTPConnection, Request, cookie_parser
from typedasgi.responses import JSONResponse, Response
from typedasgi.types import FrameworkKeys, Receive, Scope, Send, WWWScope
from typedasgi.uploads import FormData, UploadFile
from typedasgi.websockets import WebSocket

__all__ = [
    "Inputs",
    "Invalid",
    "Location",
    "RequestValidationError",
    "ValidationErrorItem",
    "ValidationErrorResponse",
    "request_validation_error_response",
]

Location = Literal["path", "query", "header", "cookie", "body"]


# ------------------------------------------------------------------ validation errors


class ValidationErrorItem(TypedDict):
    """One problem with the request: where it is (location and field) and what is wrong (message)."""

    location: Location
    field: str
    message: str


class RequestValidationError(HTTPException):
    """The request does not fit the handler's signature: 422, with every problem in ``errors``.

    Rendered as JSON by :func:`request_validation_error_response`; an app
    overrides that with ``exception_handlers={RequestValidationError: ...}``.
    """

    def __init__(self, errors: Sequence[ValidationErrorItem]) -> None:
        self.errors: list[ValidationErrorItem] = list(errors)
        super().__init__(422, "Request validation failed")


class ValidationErrorResponse(msgspec.Struct):
    """The 422 answer: every problem found in the request."""

    detail: str
    errors: list[ValidationErrorItem]


def request_validation_error_response(request: HTTPConnection[Any], exc: RequestValidationError) -> Response:
    """The default 422 answer: ``{"detail": ..., "errors": [{"location", "field", "message"}, ...]}``.

    Also a typed WebSocket's refused handshake, sent as a denial response where the server offers one.
    """
    return JSONResponse(ValidationErrorResponse(str(exc.detail), exc.errors), status_code=exc.status_code, headers=exc.headers)


class Invalid(Exception):
    """Raised by an extraction step: the value is missing or does not convert."""

    def __init__(self, location: Location, field: str, message: str) -> None:
        self.item: ValidationErrorItem = {"location": location, "field": field, "message": message}


def validation_item(location: Location, field: str, error: msgspec.ValidationError | ValueError) -> Invalid:
    """Turn msgspec's ``"Expected `int`, got `str` - at `$.items[0]`"`` into a located problem."""
    message, _, at = str(error).partition(" - at `$")
    path = field + at.rstrip("`")
    if message.startswith("Object missing required field `"):
        path += "." + message[len("Object missing required field `") : -1]
        message = "Field required"
    return Invalid(location, path.lstrip("."), message)


# ------------------------------------------------------------------ request inputs


def parse_query(raw: bytes) -> dict[str, list[str]]:
    """The query string as lists of values; plain ASCII (the usual case) skips unquoting."""
    if not raw:
        return {}
    text = raw.decode("latin-1")
    if "%" in text or "+" in text:  # escapes: the standard parser (same result as Request.query_params)
        quoted: dict[str, list[str]] = {}
        for key, value in parse_qsl(text, keep_blank_values=True):
            quoted.setdefault(key, []).append(value)
        return quoted
    if "&" not in text:
        key, _, value = text.partition("=")
        return {key: [value]}
    found: dict[str, list[str]] = {}
    for piece in text.split("&"):
        if piece:
            key, _, value = piece.partition("=")
            if key in found:
                found[key].append(value)
            else:
                found[key] = [value]
    return found


class Inputs:
    """What one request offers the steps; each source is parsed on first use, once.

    The sources start as class defaults (``None``): a new Inputs stores four attributes.
    """

    _query: dict[str, list[str]] | None = None
    _headers: dict[str, list[str]] | None = None
    _cookies: dict[str, str] | None = None
    _connection: Request[Any] | WebSocket[Any] | None = None
    stack: contextlib.AsyncExitStack | None = None
    # background, response, status_code: set by the handlers that inject them (not on the lean path)
    background: BackgroundTasks | None
    response: Response | None
    status_code: int  # the handler's status: where an injected Response starts

    def __init__(
        self, scope: Scope, receive: Receive, send: Send, websocket: bool, connection: Request[Any] | None = None
    ) -> None:
        self.scope: WWWScope = scope  # type: ignore[assignment]  # handlers serve http and websocket routes only
        self.receive: Receive = receive
        self.send: Send = send
        self.websocket: bool = websocket
        if connection is not None:  # the request the app's dispatch made already
            self._connection = connection

    def query(self) -> dict[str, list[str]]:
        if self._query is None:
            self._query = parse_query(self.scope.get("query_string") or b"")  # a WebSocket scope's may be None
        return self._query

    def headers(self) -> dict[str, list[str]]:
        if self._headers is None:
            found: dict[str, list[str]] = {}
            for key, value in self.scope.get("headers", ()):
                found.setdefault(key.decode("latin-1").lower(), []).append(value.decode("latin-1"))
            self._headers = found
        return self._headers

    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            header = self.headers().get("cookie")
            self._cookies = cookie_parser("; ".join(header)) if header else {}
        return self._cookies

    def connection(self) -> Any:  # Request or WebSocket, by route kind
        if self._connection is None:
            if self.websocket:
                self._connection = WebSocket(self.scope, self.receive, self.send)  # type: ignore[arg-type]  # websocket scope
            else:
                self._connection = Request(self.scope, self.receive, self.send)  # type: ignore[arg-type]  # http scope
        return self._connection

    def injecting(self, status_code: int) -> None:
        """Ready BackgroundTasks and a temporal Response for handlers that may ask for them."""
        self.status_code, self.background, self.response = status_code, None, None

    def background_tasks(self) -> BackgroundTasks:
        """The request's ``BackgroundTasks``: they run once the response is sent."""
        if self.background is None:
            self.background = BackgroundTasks()
        return self.background

    def temporal_response(self) -> Response:
        """A response to set headers, cookies and the status on; merged into whatever the handler answers."""
        if self.response is None:
            self.response = Response(status_code=self.status_code)
            self.response.raw_headers = []
        return self.response

    def exit_stack(self) -> contextlib.AsyncExitStack:
        if self.stack is None:
            self.stack = contextlib.AsyncExitStack()
        return self.stack


# ------------------------------------------------------------------ converters


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_WORDS = {"int": "integer", "float": "number", "bool": "boolean", "str": "string"}
_EXPECTED = "Expected `"


def _is_list(value: object) -> TypeIs[list[object]]:
    return isinstance(value, list)


def explain(value: object, error: Exception, choices: str | None = None) -> str:
    """msgspec's ``Expected `int`, got `str``` as ``'x' is not a valid integer`` (the ``- at`` suffix kept)."""
    message, _, at = str(error).partition(" - at `$")
    suffix = f" - at `${at}" if at else ""
    index = at[1:].partition("]")[0] if at.startswith("[") else ""
    if index.isdigit() and _is_list(value) and int(index) < len(value):
        value = value[int(index)]
    if message.startswith(_EXPECTED) and message.endswith(", got `str`"):
        word = message[len(_EXPECTED) : message.index("`", len(_EXPECTED))]
        return f"{_shown(value)} is not a valid {_WORDS.get(word, word)}{suffix}"
    if message.startswith("Invalid enum value") and choices:
        return f"{_shown(value)} is not one of {choices}{suffix}"
    if message.startswith("Invalid "):
        return f"{_shown(value)} is not a valid {message[len('Invalid '):]}{suffix}"
    return f"{_shown(value)}: {message}{suffix}"


def to_int(value: str) -> int:
    """``int()`` for plain decimal digits only (no spaces, underscores or other scripts' digits)."""
    if value.isdigit() and value.isascii() or value[:1] == "-" and value[1:].isdigit() and value.isascii():
        try:
            return int(value)
        except ValueError:  # more digits than int() converts
            pass
    raise ValueError(f"{_shown(value)} is not a valid integer")


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def to_bool(value: str) -> bool:
    """The usual spellings, any case: true/false, 1/0, yes/no, on/off (an HTML checkbox sends "on")."""
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"{_shown(value)} is not a valid boolean (use true/false, 1/0, yes/no or on/off)")


def _choices(annotation: object) -> str | None:
    """``'red', 'blue'`` for an enum or a Literal (also inside ``Optional``/``list``)."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
            return ", ".join(repr(member.value) for member in candidate)
        if typing.get_origin(candidate) is Literal:
            return ", ".join(repr(value) for value in typing.get_args(candidate))
    return None


def _each(convert: Callable[[str], object]) -> Callable[[Any], object]:
    def convert_all(values: list[str]) -> list[object]:
        converted: list[object] = []
        for index, value in enumerate(values):
            try:
                converted.append(convert(value))
            except ValueError as error:
                raise ValueError(f"{error} - at `$[{index}]`") from None
        return converted

    return convert_all


def str_converter(annotation: object) -> Callable[[Any], object]:
    """A converter from one string (or a list of them) to ``annotation``, as fast as the type allows.

    It raises ``ValueError`` saying what was wrong with which value (``'yes' is not a valid integer``).
    """
    if annotation is str or annotation is Any:
        return identity
    if annotation is int:
        return to_int
    if annotation is bool:
        return to_bool
    if annotation == list[int] or annotation == list[bool]:
        return _each(to_int if annotation == list[int] else to_bool)
    convert = functools.partial(msgspec.convert, type=annotation, strict=False)
    choices = _choices(annotation)

    def converted(value: Any) -> object:
        try:
            return convert(value)
        except msgspec.ValidationError as error:
            raise ValueError(explain(value, error, choices)) from None

    return converted


def identity(value: object) -> object:
    return value


def convertor_type(convertor: Convertor[Any]) -> object:
    for base in getattr(type(convertor), "__orig_bases__", ()):
        if typing.get_origin(base) is Convertor:
            return typing.get_args(base)[0]
    return Any


# ------------------------------------------------------------------ steps


def path_step(key: str, convert: Callable[[Any], object]) -> Callable[[Inputs], object]:
    if convert is identity:  # the route's convertor already gave the declared type
        def same(inputs: Inputs) -> object:
            try:
                return inputs.scope["path_params"][key]  # type: ignore[typeddict-item]  # set by the route
            except KeyError:
                raise Invalid("path", key, "Field required") from None

        return same

    def step(inputs: Inputs) -> object:
        try:
            return convert(inputs.scope["path_params"][key])  # type: ignore[typeddict-item]  # set by the route
        except (msgspec.ValidationError, ValueError) as error:
            raise validation_item("path", key, error) from None
        except KeyError:
            raise Invalid("path", key, "Field required") from None

    return step


def _query_below_mounts(
    key: str, multi: bool, convert: Callable[[Any], object], by_query: Callable[[Inputs], object]
) -> Callable[[Inputs], object]:
    """``by_query`` (a query parameter by its name alone), unless a ``Mount`` or ``Host`` above the route has ``{key}``.

    A route is compiled without the paths of the mounts it is later put below, so ``user_id``
    below ``Mount("/u/{user_id}")`` looked like a query parameter: the client's ``?user_id=`` filled it
    while the URL named another user. It is that path parameter, as below ``include_router(prefix=...)``.
    """

    def as_text(value: object) -> object:  # a mount's convertor may have made an int, float or UUID
        text = value if isinstance(value, str) else str(value)
        return convert([text] if multi else text)

    from_path = path_step(key, as_text)

    def query_or_mount(inputs: Inputs) -> object:
        keys: FrameworkKeys = inputs.scope  # type: ignore[assignment]  # the same dict, framework view (no call)
        path_params = keys.get("path_params")
        if path_params is not None and key in path_params:
            return from_path(inputs)
        return by_query(inputs)

    return query_or_mount


def lookup_step(
    location: Location, key: str, multi: bool, required: bool, default: object, convert: Callable[[Any], object],
    *, by_name: bool = False,
) -> Callable[[Inputs], object]:
    """A query/header/cookie step over ``inputs.query()``/``headers()`` (value lists) or ``cookies()``.

    Specialised at registration (one value or all, converted or not): each is
    one dict lookup and at most one converter call per request. ``by_name``: a
    query parameter by its name alone (no marker), which a mount's ``{key}`` overrides.
    """
    sources: dict[str, Callable[[Inputs], Mapping[str, Any]]] = {
        "query": Inputs.query, "header": Inputs.headers, "cookie": Inputs.cookies,
    }
    source = sources[location]

    def missing() -> object:
        if required:
            raise Invalid(location, key, "Field required")
        return default

    if by_name:
        return _query_below_mounts(key, multi, convert, lookup_step(location, key, multi, required, default, convert))
    if location == "cookie" or multi:  # the whole value: a cookie's string or every repeated value
        def whole(inputs: Inputs) -> object:
            values = source(inputs).get(key)
            if values is None:
                return missing()
            try:
                return convert(values)
            except (msgspec.ValidationError, ValueError) as error:
                raise validation_item(location, key, error) from None

        return whole
    # A repeated query key gives its last value (Starlette's query_params.get), a repeated header its first
    # (request.headers.get, so also the security schemes): one request never has two readings of a value.
    at = 0 if location == "header" else -1
    if convert is identity:
        def one_str(inputs: Inputs) -> object:
            values = source(inputs).get(key)
            return missing() if values is None else values[at]

        return one_str

    def one(inputs: Inputs) -> object:
        values = source(inputs).get(key)
        if values is None:
            return missing()
        try:
            return convert(values[at])
        except (msgspec.ValidationError, ValueError) as error:
            raise validation_item(location, key, error) from None

    return one


NOT_A_FILE = "Expected a text field, got a file"


def form_step(
    key: str, multi: bool, required: bool, default: object, convert: Callable[[Any], object], is_file: bool
) -> Callable[[FormData], object]:
    """A form-field step over the parsed form: text fields converted, file parts checked to be files."""

    def step(form: FormData) -> object:
        values = form.getlist(key)
        if not values:
            if required:
                raise Invalid("body", key, "Field required")
            return default
        files = [isinstance(value, UploadFile) for value in values]
        if is_file:
            if not all(files):
                raise Invalid("body", key, "Expected a file, got a text field")
            return values if multi else values[-1]
        if any(files):
            raise Invalid("body", key, NOT_A_FILE)
        try:
            return convert(values if multi else values[-1])
        except (msgspec.ValidationError, ValueError) as error:
            raise validation_item("body", key, error) from None

    return step
