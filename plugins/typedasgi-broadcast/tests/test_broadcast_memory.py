"""typedasgi-broadcast in one process (``memory://``): the API, the plugin's lifespan, the slow-subscriber policies."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from typedasgi.applications import TypedASGI
from typedasgi.routing import WebSocketRoute
from typedasgi.testclient import TestClient
from typedasgi.websockets import WebSocket
from typedasgi_broadcast import (
    DEFAULT_MAX_MESSAGE_LENGTH,
    Broadcast,
    BroadcastPlugin,
    BroadcastUnavailable,
    Event,
    MessageTooLong,
    SlowSubscriberError,
    Subscription,
)


def run(main: Callable[[], Awaitable[None]]) -> None:
    async def bounded() -> None:
        await asyncio.wait_for(main(), timeout=30)

    asyncio.run(bounded())


async def take(events: Subscription, count: int) -> list[Event]:
    received: list[Event] = []
    async for event in events:
        received.append(event)
        if len(received) == count:
            break
    return received


def test_every_subscriber_of_a_channel_gets_every_message_in_order() -> None:
    async def main() -> None:
        async with Broadcast("memory://") as broadcast:
            async with broadcast.subscribe("a") as first, broadcast.subscribe("a") as second:
                async with broadcast.subscribe("b") as other:
                    for n in range(3):
                        await broadcast.publish("a", f"m{n}")
                    await broadcast.publish("b", "for b")
                    assert [e.message for e in await take(first, 3)] == ["m0", "m1", "m2"]
                    assert await take(second, 3) == [Event("a", "m0"), Event("a", "m1"), Event("a", "m2")]
                    assert await take(other, 1) == [Event("b", "for b")]
                    assert broadcast.subscribers("a") == 2
            assert broadcast.subscribers("a") == 0
            await broadcast.publish("a", "nobody listens")  # not an error

    run(main)


def test_iteration_ends_when_the_broadcast_disconnects() -> None:
    async def main() -> None:
        broadcast = Broadcast()
        await broadcast.connect()
        async with broadcast.subscribe("a") as events:
            await broadcast.publish("a", "last")
            await broadcast.disconnect()
            assert [event.message async for event in events] == ["last"]  # pending ones first, then the end
        with pytest.raises(BroadcastUnavailable, match="not connected"):
            await broadcast.publish("a", "x")

    run(main)


def test_use_before_connecting_is_a_clear_error() -> None:
    async def main() -> None:
        broadcast = Broadcast()
        with pytest.raises(BroadcastUnavailable, match="lifespan"):
            await broadcast.publish("a", "x")
        with pytest.raises(BroadcastUnavailable, match="lifespan"):
            async with broadcast.subscribe("a"):
                pass

    run(main)


def test_a_message_past_max_message_length_is_refused_before_it_is_sent() -> None:
    async def main() -> None:
        async with Broadcast(max_message_length=10) as broadcast, broadcast.subscribe("a") as events:
            with pytest.raises(MessageTooLong, match="11 characters is over max_message_length"):
                await broadcast.publish("a", "x" * 11)
            await broadcast.publish("a", "x" * 10)
            assert await take(events, 1) == [Event("a", "x" * 10)]  # the long one never reached the queue
        async with Broadcast() as broadcast:
            with pytest.raises(ValueError, match="max_message_length"):
                await broadcast.publish("a", "x" * (DEFAULT_MAX_MESSAGE_LENGTH + 1))

    run(main)


def test_bad_configuration_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="memory://"):
        Broadcast("kafka://localhost")
    with pytest.raises(ValueError, match="max_pending"):
        Broadcast(max_pending=0)
    with pytest.raises(ValueError, match="max_message_length"):
        Broadcast(max_message_length=0)
    with pytest.raises(ValueError, match="overflow"):
        Broadcast(overflow="block")  # type: ignore[arg-type]  # the run-time check for untyped callers
    with pytest.raises(ValueError, match="reconnect_delay"):
        Broadcast("redis://127.0.0.1:1/0", reconnect_delay=(2.0, 1.0))


def test_a_slow_subscriber_is_dropped_and_the_others_keep_everything() -> None:
    async def main() -> None:
        async with Broadcast(max_pending=50) as broadcast:
            async with broadcast.subscribe("feed") as slow, broadcast.subscribe("feed") as fast:
                received: list[Event] = []
                for n in range(5000):
                    await broadcast.publish("feed", str(n))
                    received += await take(fast, 1)
                    assert slow.pending <= 50  # bounded: memory stays flat
                assert [int(event.message) for event in received] == list(range(5000))
                assert slow.closed and slow.pending == 0
                with pytest.raises(SlowSubscriberError, match="fell 50 events behind"):
                    await take(slow, 1)
                assert broadcast.subscribers("feed") == 1  # the slow one is out of the fan-out already

    run(main)


def test_a_subscriber_that_keeps_up_is_not_dropped_by_a_publishing_loop() -> None:
    async def main() -> None:
        async with Broadcast(max_pending=10) as broadcast, broadcast.subscribe("feed") as events:
            reader = asyncio.create_task(take(events, 1000))
            for n in range(1000):  # a publisher that never waits for anyone (a client's flood, a feed)
                await broadcast.publish("feed", str(n))
            assert [int(event.message) for event in await reader] == list(range(1000))

    run(main)


def test_drop_oldest_keeps_a_slow_subscriber_with_the_newest_events() -> None:
    async def main() -> None:
        async with Broadcast() as broadcast:
            async with broadcast.subscribe("feed", max_pending=10, overflow="drop-oldest") as slow:
                for n in range(1000):
                    await broadcast.publish("feed", str(n))
                assert slow.pending == 10 and slow.skipped == 990
                assert [int(event.message) for event in await take(slow, 10)] == list(range(990, 1000))
                await broadcast.publish("feed", "still subscribed")
                assert [event.message for event in await take(slow, 1)] == ["still subscribed"]

    run(main)


def test_the_plugin_connects_in_the_lifespan_and_puts_the_broadcast_in_state() -> None:
    broadcast = Broadcast()

    async def relay(websocket: WebSocket) -> None:
        await websocket.accept()
        assert websocket.state["broadcast"] is broadcast
        async with broadcast.subscribe("room") as events:
            await websocket.send_text("subscribed")
            await broadcast.publish("room", await websocket.receive_text())
            async for event in events:
                await websocket.send_text(event.message)
                break

    app = TypedASGI(routes=[WebSocketRoute("/ws", relay)], plugins=[BroadcastPlugin(broadcast)], autoload_plugins=False)
    connected = [broadcast.connected]
    with TestClient(app) as client:
        connected.append(broadcast.connected)
        with client.websocket_connect("/ws") as ws:
            assert ws.receive_text() == "subscribed"
            ws.send_text("hello")
            assert ws.receive_text() == "hello"
    connected.append(broadcast.connected)
    assert connected == [False, True, False]
