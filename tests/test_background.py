from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable, Generator

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.background import BackgroundTask, BackgroundTasks
from typedasgi.requests import Request
from typedasgi.responses import PlainTextResponse
from typedasgi.routing import Route
from typedasgi.testclient import TestClient


def test_sync_task_runs_in_the_thread_pool_with_its_arguments() -> None:
    calls: list[tuple[int, str, str]] = []

    def record(n: int, *, label: str) -> None:
        calls.append((n, label, threading.current_thread().name))

    task = BackgroundTask(record, 7, label="x")
    assert not task.is_async
    asyncio.run(task())
    assert [(n, label) for n, label, _ in calls] == [(7, "x")]
    assert calls[0][2] != threading.current_thread().name


def test_async_task_is_awaited_in_the_loop() -> None:
    calls: list[str] = []

    async def record(value: str) -> None:
        await asyncio.sleep(0)
        calls.append(value)

    task = BackgroundTask(record, "done")
    assert task.is_async
    asyncio.run(task())
    assert calls == ["done"]


def test_async_detection_sees_through_partials_and_callable_objects() -> None:
    class AsyncCallable:
        async def __call__(self) -> None:
            return None

    async def coroutine_function(value: int) -> None:
        return None

    def plain() -> None:
        return None

    assert BackgroundTask(AsyncCallable()).is_async
    assert BackgroundTask(functools.partial(coroutine_function, 1)).is_async
    assert not BackgroundTask(plain).is_async


def failing_job() -> None:
    raise RuntimeError("job broke")


async def failing_async_job() -> None:
    raise ValueError("async job broke")


@pytest.mark.parametrize(
    ("func", "message"), [(failing_job, "job broke"), (failing_async_job, "async job broke")]
)
def test_failure_is_logged_once_with_the_qualified_name_and_not_raised(
    caplog: pytest.LogCaptureFixture, func: Callable[[], object], message: str
) -> None:
    task = BackgroundTask(func)
    with caplog.at_level(logging.ERROR, logger="typedasgi.background"):
        asyncio.run(task())  # must not raise
    records = [r for r in caplog.records if r.name == "typedasgi.background"]
    assert len(records) == 1
    assert getattr(func, "__qualname__") in records[0].getMessage()
    assert records[0].exc_info is not None and str(records[0].exc_info[1]) == message


def test_tasks_run_in_order_and_a_failure_does_not_stop_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []

    async def first() -> None:
        calls.append("first")

    def third(value: str) -> None:
        calls.append(value)

    tasks = BackgroundTasks(tasks=[BackgroundTask(first)])
    tasks.add_task(failing_job)
    tasks.add_task(third, value="third")
    with caplog.at_level(logging.ERROR, logger="typedasgi.background"):
        asyncio.run(tasks())
    assert calls == ["first", "third"]
    records = [r for r in caplog.records if r.name == "typedasgi.background"]
    assert len(records) == 1
    assert "failing_job" in records[0].getMessage()


def test_empty_background_tasks_do_nothing() -> None:
    asyncio.run(BackgroundTasks()())


def test_cancellation_is_not_swallowed() -> None:
    async def cancelled() -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(BackgroundTask(cancelled)())


def test_tasks_run_after_the_response_was_sent() -> None:
    events: list[str] = []

    def after(label: str) -> None:
        events.append(label)

    tasks = BackgroundTasks()
    tasks.add_task(after, "one")
    tasks.add_task(after, "two")
    app = PlainTextResponse("ok", background=tasks)
    response = TestClient(app).get("/")
    assert response.text == "ok"
    assert events == ["one", "two"]


def test_a_failing_task_does_not_break_the_response(caplog: pytest.LogCaptureFixture) -> None:
    app = PlainTextResponse("ok", background=BackgroundTask(failing_job))
    with caplog.at_level(logging.ERROR, logger="typedasgi.background"):
        response = TestClient(app, raise_server_exceptions=False).get("/")  # as a server runs it
    assert response.status_code == 200
    assert response.text == "ok"
    assert any("failing_job" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("through", ["app", "response"])
def test_a_failing_task_is_logged_with_the_request_it_followed(
    caplog: pytest.LogCaptureFixture, through: str
) -> None:
    """Method and path name the request (no query string), and a line break in the path cannot start a log line."""

    async def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok", background=BackgroundTask(failing_job))

    app = TypedASGI(routes=[Route("/orders/{order}", endpoint)]) if through == "app" else (
        PlainTextResponse("ok", background=BackgroundTask(failing_job))
    )
    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="typedasgi.background"):
        assert client.get("/orders/7%0Aforged?token=secret").text == "ok"
    [record] = [r for r in caplog.records if r.name == "typedasgi.background"]
    message = record.getMessage()
    assert message.endswith("failing_job failed after GET /orders/7%0Aforged"), message  # as the error log names it
    assert "\n" not in message and "secret" not in message


def test_a_failing_task_after_a_hand_built_scope_without_a_path_is_still_logged(caplog: pytest.LogCaptureFixture) -> None:
    """The request's name is read only for the log line, and a scope missing ``path`` does not break it."""
    sent: list[object] = []

    async def receive() -> object:
        return {"type": "http.disconnect"}

    async def send(message: object) -> None:
        sent.append(message)

    response = PlainTextResponse("ok", background=BackgroundTask(failing_job))
    with caplog.at_level(logging.ERROR, logger="typedasgi.background"):
        asyncio.run(response({"type": "http", "method": "POST"}, receive, send))  # type: ignore[arg-type]  # hand-built on purpose: no path
    [record] = [r for r in caplog.records if r.name == "typedasgi.background"]
    assert record.getMessage().endswith("failing_job failed after POST ")
    assert len(sent) == 2


def test_the_test_client_raises_a_failing_task_after_the_others_ran(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []
    tasks = BackgroundTasks()
    tasks.add_task(failing_job)
    tasks.add_task(calls.append, "next task")
    app = PlainTextResponse("ok", background=tasks)
    with caplog.at_level(logging.ERROR, logger="typedasgi.background"):
        with pytest.raises(RuntimeError, match="job broke"):
            TestClient(app).get("/")
    assert calls == ["next task"]  # as in production: one failing task does not cancel the next
    assert not [r for r in caplog.records if r.name == "typedasgi.background"]  # raised instead of logged


def test_several_failing_tasks_are_raised_together() -> None:
    tasks = BackgroundTasks([BackgroundTask(failing_job), BackgroundTask(failing_async_job)])
    with pytest.raises(ExceptionGroup) as info:
        TestClient(PlainTextResponse("ok", background=tasks)).get("/")
    assert [str(error) for error in info.value.exceptions] == ["job broke", "async job broke"]


def test_closing_a_streamed_response_waits_for_the_task_and_raises_its_error() -> None:
    finished = threading.Event()

    async def slow_failure() -> None:
        await asyncio.sleep(0.01)
        finished.set()
        raise ValueError("late failure")

    client = TestClient(PlainTextResponse("ok", background=BackgroundTask(slow_failure)))
    with client.stream("GET", "/") as response:
        chunks = response.iter_raw()
        assert isinstance(chunks, Generator)
        assert next(chunks) == b"ok"
        with pytest.raises(ValueError, match="late failure"):
            chunks.close()  # the body is complete: closing waits for the task
        assert finished.is_set()
