"""What typed handlers get injected: BackgroundTasks, a temporal Response, form fields and uploads,
the connection anywhere, ``Depends()`` for the annotated class; and what a wrong annotation is told."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

import msgspec
import pytest

from typedasgi import formparsers
from typedasgi.applications import TypedASGI
from typedasgi.background import BackgroundTasks
from typedasgi.datastructures import UploadFile
from typedasgi.params import Depends, File, Form, HandlerSignatureError, Query
from typedasgi.requests import HTTPConnection, Request
from typedasgi.responses import PlainTextResponse, Response
from typedasgi.routing import Route, WebSocketRoute
from typedasgi.testclient import TestClient
from typedasgi.types import ASGIApp, Receive, Scope, Send, SendEvent
from typedasgi.websockets import WebSocket

events: list[str] = []


def recording_send(app: ASGIApp) -> ASGIApp:
    """Records "sent" when the last body message has gone to the client."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_and_record(message: SendEvent) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                events.append("sent")

        await app(scope, receive, send_and_record)

    return wrapped


async def session() -> AsyncIterator[str]:
    yield "db"
    events.append("teardown")


# ------------------------------------------------------------------ BackgroundTasks


def test_background_tasks_run_after_the_response_before_teardown() -> None:
    async def notify(who: str) -> None:
        events.append(f"task {who}")

    async def handler(tasks: BackgroundTasks, db: Annotated[str, Depends(session)], who: str = "ada") -> str:
        tasks.add_task(notify, who)
        events.append("handler")
        return db

    events.clear()
    client = TestClient(recording_send(TypedASGI(routes=[Route("/", handler)])))
    assert client.get("/?who=bob").json() == "db"
    assert events == ["handler", "sent", "task bob", "teardown"]


async def broken_session() -> AsyncIterator[str]:
    yield "db"
    events.append("teardown")
    raise RuntimeError("teardown broke")


async def uses_broken_session(db: Annotated[str, Depends(broken_session)]) -> str:
    return db


def test_a_teardown_failing_after_the_response_is_logged_once_as_a_failing_task_is(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events.clear()
    client = TestClient(recording_send(TypedASGI(routes=[Route("/items", uses_broken_session)])), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR):
        assert client.get("/items").json() == "db"  # as a server runs it: the answer stands
    assert events == ["sent", "teardown"]
    records = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert [(record.name, record.getMessage()) for record in records] == [
        ("typedasgi.background", "Dependency teardown after GET /items failed")
    ]
    assert records[0].exc_info is not None and str(records[0].exc_info[1]) == "teardown broke"


def test_the_test_client_raises_a_teardown_failing_after_the_response(caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(TypedASGI(routes=[Route("/items", uses_broken_session)]))
    with caplog.at_level(logging.ERROR), pytest.raises(RuntimeError, match="teardown broke"):
        client.get("/items")
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]  # raised instead of logged


def test_background_tasks_join_those_of_a_returned_response() -> None:
    def sync_task(label: str) -> None:
        events.append(label)

    async def handler(tasks: BackgroundTasks) -> Response:
        tasks.add_task(sync_task, "injected")
        return _with_task(sync_task)

    events.clear()
    assert TestClient(TypedASGI(routes=[Route("/", handler)])).get("/").text == "own"
    assert events == ["own task", "injected"]


def _with_task(task: Any) -> Response:
    tasks = BackgroundTasks()
    tasks.add_task(task, "own task")
    return PlainTextResponse("own", background=tasks)


# ------------------------------------------------------------------ the temporal Response


class Created(msgspec.Struct):
    id: int


def test_injected_response_sets_status_headers_and_cookies() -> None:
    async def create(response: Response, id: int) -> Created:
        response.status_code = 201
        response.headers["Location"] = f"/items/{id}"
        response.set_cookie("last", str(id))
        response.set_cookie("seen", "1")
        return Created(id)

    client = TestClient(TypedASGI(routes=[Route("/items", create, methods=["POST"])]))
    answer = client.post("/items?id=7")
    assert answer.status_code == 201
    assert answer.json() == {"id": 7}
    assert answer.headers["location"] == "/items/7"
    assert answer.headers["content-type"] == "application/json"
    assert [value.split(";")[0] for value in answer.headers.get_list("set-cookie")] == ["last=7", "seen=1"]


async def tag(response: Response) -> None:
    response.headers["X-Tag"] = "from-dependency"


def test_injected_response_headers_merge_into_a_returned_response_and_a_dependency_can_use_it() -> None:
    async def handler(_: Annotated[None, Depends(tag)], response: Response) -> Response:
        response.status_code = 418  # a returned Response keeps its own status
        return PlainTextResponse("plain", headers={"X-Own": "1"})

    answer = TestClient(TypedASGI(routes=[Route("/", handler)])).get("/")
    assert (answer.status_code, answer.text) == (200, "plain")
    assert answer.headers["x-tag"] == "from-dependency"
    assert answer.headers["x-own"] == "1"


def test_status_left_alone_keeps_the_declared_one() -> None:
    async def handler(response: Response) -> dict[str, bool]:
        response.headers["X-A"] = "a"
        return {"ok": True}

    app = TypedASGI()
    app.post("/", status_code=202)(handler)
    answer = TestClient(app).post("/")
    assert (answer.status_code, answer.headers["x-a"]) == (202, "a")


# ------------------------------------------------------------------ forms and uploads


async def profile(
    name: Annotated[str, Form()],
    age: Annotated[int, Form()],
    tags: Annotated[list[str], Form(alias="tag")] = [],  # noqa: B006
    subscribed: Annotated[bool, Form()] = False,
) -> dict[str, object]:
    return {"name": name, "age": age, "tags": tags, "subscribed": subscribed}


def test_form_fields_from_urlencoded_and_multipart() -> None:
    client = TestClient(TypedASGI(routes=[Route("/", profile, methods=["POST"])]))
    fields = {"name": "Ada", "age": "36", "tag": ["math", "engines"], "subscribed": "on"}
    expected = {"name": "Ada", "age": 36, "tags": ["math", "engines"], "subscribed": True}
    assert client.post("/", data=fields).json() == expected
    multipart = client.post("/", data=fields, files={"unused": ("a.txt", b"x", "text/plain")})
    assert multipart.json() == expected
    answer = client.post("/", data={"age": "old"})
    assert answer.status_code == 422
    assert [(e["location"], e["field"]) for e in answer.json()["errors"]] == [("body", "name"), ("body", "age")]


async def upload(
    title: Annotated[str, Form()],
    document: UploadFile,
    attachments: list[UploadFile] = [],  # noqa: B006
    cover: Annotated[UploadFile | None, File()] = None,
) -> dict[str, object]:
    return {
        "title": title,
        "document": [document.filename, (await document.read()).decode()],
        "attachments": [item.filename for item in attachments],
        "cover": cover.filename if cover else None,
    }


def test_upload_files_single_list_and_optional() -> None:
    client = TestClient(TypedASGI(routes=[Route("/", upload, methods=["POST"])]))
    files = [
        ("document", ("a.txt", b"alpha", "text/plain")),
        ("attachments", ("b.txt", b"b", "text/plain")),
        ("attachments", ("c.txt", b"c", "text/plain")),
    ]
    answer = client.post("/", data={"title": "T"}, files=files)
    assert answer.json() == {
        "title": "T", "document": ["a.txt", "alpha"], "attachments": ["b.txt", "c.txt"], "cover": None,
    }
    text_for_file = client.post("/", data={"title": "T", "document": "not a file"}, files=files[1:])
    assert text_for_file.status_code == 422
    assert text_for_file.json()["errors"] == [
        {"location": "body", "field": "document", "message": "Expected a file, got a text field"}
    ]
    missing = client.post("/", data={"title": "T"}, files=files[1:])
    assert missing.json()["errors"] == [{"location": "body", "field": "document", "message": "Field required"}]


def test_file_parameters_without_the_forms_extra_name_it_at_registration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formparsers, "_multipart", None)
    monkeypatch.setitem(sys.modules, "python_multipart", None)  # import now fails as if not installed
    with pytest.raises(HandlerSignatureError, match=r"parameter 'document': .*typedasgi\[forms\]"):
        Route("/", upload, methods=["POST"])


async def _body_and_form(item: Created, name: Annotated[str, Form()]) -> None: ...


def test_body_and_form_fields_together_are_refused() -> None:
    with pytest.raises(HandlerSignatureError, match=r"parameter 'item': a handler takes a body or form fields"):
        Route("/", _body_and_form, methods=["POST"])


# ------------------------------------------------------------------ the connection anywhere


async def client_host(request: Request) -> str:
    return request.url.path


def test_request_anywhere_in_the_signature_and_in_dependencies() -> None:
    async def handler(
        q: int, request: Request, path: Annotated[str, Depends(client_host)], conn: HTTPConnection
    ) -> dict[str, object]:
        return {"q": q, "method": request.method, "path": path, "same": conn is request}

    answer = TestClient(TypedASGI(routes=[Route("/here", handler)])).get("/here?q=1")
    assert answer.json() == {"q": 1, "method": "GET", "path": "/here", "same": True}


def test_websocket_anywhere_in_a_websocket_handler() -> None:
    async def chat(room: str, websocket: WebSocket, name: Annotated[str, Query()] = "anon") -> None:
        await websocket.accept()
        await websocket.send_text(f"{name}@{room}")
        await websocket.close()

    client = TestClient(TypedASGI(routes=[WebSocketRoute("/ws/{room}", chat)]))
    with client.websocket_connect("/ws/lobby?name=ada") as connection:
        assert connection.receive_text() == "ada@lobby"


async def _unannotated_request(request, item_id: int, q: str = "none") -> dict[str, object]:  # type: ignore[no-untyped-def]  # the Starlette habit under test
    return {"id": item_id, "q": q, "path": request.url.path, "is_request": isinstance(request, Request)}


async def _unannotated_websocket(websocket, room: str) -> None:  # type: ignore[no-untyped-def]  # likewise
    await websocket.accept()
    await websocket.send_text(f"{type(websocket).__name__}@{room}")
    await websocket.close()


def test_an_unannotated_request_or_websocket_beside_typed_parameters_is_the_connection() -> None:
    """Starlette's name for it, unannotated: before, a required query parameter 'request' (a 422 on every call)."""
    app = TypedASGI(routes=[
        Route("/items/{item_id:int}", _unannotated_request),
        WebSocketRoute("/rooms/{room}", _unannotated_websocket),
    ])
    client = TestClient(app)
    assert client.get("/items/7?q=hi").json() == {"id": 7, "q": "hi", "path": "/items/7", "is_request": True}
    with client.websocket_connect("/rooms/lobby") as connection:
        assert connection.receive_text() == "WebSocket@lobby"
    parameters = app.openapi()["paths"]["/items/{item_id}"]["get"]["parameters"]
    assert sorted(parameter["name"] for parameter in parameters) == ["item_id", "q"]  # not a documented input


async def _tasks_in_websocket(websocket: WebSocket, tasks: BackgroundTasks) -> None: ...


def test_websocket_handler_refuses_background_tasks() -> None:
    with pytest.raises(HandlerSignatureError, match=r"parameter 'tasks': a WebSocket handler sends no HTTP response"):
        WebSocketRoute("/ws", _tasks_in_websocket)


# ------------------------------------------------------------------ Depends() for the annotated class


class Paging:
    def __init__(self, page: int = 1, size: Annotated[int, msgspec.Meta(le=50)] = 10) -> None:
        self.page, self.size = page, size


async def _paged(paging: Annotated[Paging, Depends()]) -> dict[str, int]:
    return {"page": paging.page, "size": paging.size}


async def _depends_on_a_union(value: Annotated[int | None, Depends()]) -> None: ...


def test_depends_without_argument_builds_the_annotated_class() -> None:
    client = TestClient(TypedASGI(routes=[Route("/", _paged)]))
    assert client.get("/?page=3").json() == {"page": 3, "size": 10}
    assert client.get("/?size=99").status_code == 422
    with pytest.raises(HandlerSignatureError, match=r"parameter 'value': Depends\(\) with no argument .* write Depends"):
        Route("/", _depends_on_a_union)


# ------------------------------------------------------------------ what an unsupported annotation is told


class Opaque:
    pass


async def _opaque(thing: Opaque) -> None: ...


async def _marker_class(q: Annotated[str, Query]) -> None: ...


def test_unsupported_annotation_names_the_parameter_and_what_to_write() -> None:
    with pytest.raises(HandlerSignatureError) as raised:
        Route("/", _opaque, methods=["POST"])
    message = str(raised.value)
    assert "parameter 'thing': unsupported annotation Opaque" in message
    assert "Annotated[T, Depends(provider)]" in message and "msgspec Struct" in message
    with pytest.raises(HandlerSignatureError, match=r"parameter 'q': write the marker as an instance: Query\(\)"):
        Route("/", _marker_class)


# ------------------------------------------------------------------ conversion messages and booleans


def test_booleans_take_the_usual_spellings_and_messages_name_the_value() -> None:
    async def handler(flag: bool, flags: list[bool] = [], n: int = 0, colour: Literal["red", "blue"] = "red") -> list[object]:  # noqa: B006
        return [flag, flags]

    client = TestClient(TypedASGI(routes=[Route("/", handler)]))
    for word, value in [("true", True), ("YES", True), ("On", True), ("1", True),
                        ("false", False), ("no", False), ("OFF", False), ("0", False)]:
        assert client.get(f"/?flag={word}").json() == [value, []], word
    assert client.get("/?flag=yes&flags=on&flags=0").json() == [True, [True, False]]
    errors = client.get("/?flag=maybe&flags=yes&flags=nah&n=yes&colour=green").json()["errors"]
    assert [(error["field"], error["message"]) for error in errors] == [
        ("flag", "'maybe' is not a valid boolean (use true/false, 1/0, yes/no or on/off)"),
        ("flags[1]", "'nah' is not a valid boolean (use true/false, 1/0, yes/no or on/off)"),
        ("n", "'yes' is not a valid integer"),
        ("colour", "'green' is not one of 'red', 'blue'"),
    ]


class SignupForm(msgspec.Struct):
    name: str
    age: int


async def _form_model(form: Annotated[SignupForm, Form()]) -> None: ...


async def _form_body(form: SignupForm) -> SignupForm:
    return form


def test_a_whole_form_is_a_struct_body_not_a_form_field() -> None:
    with pytest.raises(HandlerSignatureError, match=r"parameter 'form': .* drop Form\(\): a Struct body reads forms too"):
        Route("/", _form_model, methods=["POST"])
    client = TestClient(TypedASGI(routes=[Route("/", _form_body, methods=["POST"])]))
    assert client.post("/", data={"name": "ada", "age": "36"}).json() == {"name": "ada", "age": 36}
