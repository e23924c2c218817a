"""typedasgi-broadcast over a real ``redis-server`` started by each test on a free 127.0.0.1 port."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Iterator

import pytest
from redis.asyncio import Redis

from typedasgi.applications import TypedASGI
from typedasgi.testclient import TestClient
from typedasgi_broadcast import Broadcast, BroadcastPlugin, BroadcastUnavailable, Event, SlowSubscriberError, Subscription
from typedasgi_broadcast.testing import RedisServer, free_port, running_redis

SUBSCRIBER = """
import asyncio, sys
from typedasgi_broadcast import Broadcast

async def main(url: str, count: int) -> None:
    async with Broadcast(url) as broadcast, broadcast.subscribe("news") as events:
        print("ready", flush=True)
        received = 0
        async for event in events:
            print(event.message, flush=True)
            received += 1
            if received == count:
                return

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


def run(main: Callable[[], Awaitable[None]], timeout: float = 60) -> None:
    async def bounded() -> None:
        await asyncio.wait_for(main(), timeout=timeout)

    asyncio.run(bounded())


async def take(events: Subscription, count: int) -> list[Event]:
    received: list[Event] = []
    async for event in events:
        received.append(event)
        if len(received) == count:
            break
    return received


async def numsub(url: str, channel: str) -> int:
    """How many connections Redis itself has subscribed to ``channel``."""
    client = Redis.from_url(url)  # pyright: ignore[reportUnknownMemberType]  # **kwargs untyped in redis-py
    try:
        counts = await client.pubsub_numsub(channel)
        return counts[0][1]
    finally:
        await client.aclose()


def test_a_message_reaches_subscribers_in_two_other_processes(redis: RedisServer) -> None:
    async def main() -> None:
        children = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-c", SUBSCRIBER, redis.url, "100", stdout=asyncio.subprocess.PIPE
            )
            for _ in range(2)
        ]
        try:
            for child in children:
                assert child.stdout is not None
                assert await child.stdout.readline() == b"ready\n"
            async with Broadcast(redis.url) as broadcast, broadcast.subscribe("news") as own:
                for n in range(100):
                    await broadcast.publish("news", f"item {n}")
                expected = [f"item {n}" for n in range(100)]
                assert [event.message for event in await take(own, 100)] == expected
                for child in children:
                    out, _ = await child.communicate()
                    assert out.decode().splitlines() == expected
                    assert child.returncode == 0
        finally:
            for child in children:
                if child.returncode is None:
                    child.kill()
                    await child.wait()

    run(main)


def test_subscriptions_survive_a_redis_restart_mid_stream(redis: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="typedasgi.broadcast")

    async def main() -> None:
        async with Broadcast(redis.url, reconnect_delay=(0.05, 0.5)) as broadcast:
            async with broadcast.subscribe("stream") as events:
                await broadcast.publish("stream", "before")
                assert await take(events, 1) == [Event("stream", "before")]

                await asyncio.to_thread(redis.restart)  # same port, empty server: our subscription is gone there
                # Redis pub/sub is at-most-once: publish until the resubscribed stream delivers again.
                received: list[Event] = []
                n = 0
                while not received:
                    n += 1
                    try:
                        await broadcast.publish("stream", f"after {n}")
                    except BroadcastUnavailable:
                        pass  # Redis not back yet, or the publisher's connection is being replaced
                    try:
                        received = await asyncio.wait_for(take(events, 1), timeout=0.1)
                    except TimeoutError:
                        pass
                assert received[0].message.startswith("after ")
                assert not events.closed
                assert broadcast.backend.reconnects == 1  # type: ignore[attr-defined]  # RedisBackend's counter
                for n in range(10):
                    await broadcast.publish("stream", f"steady {n}")
                later = [event.message for event in await take(events, 10) if event.message.startswith("steady")]
                assert later[-1] == "steady 9"

    run(main)
    messages = [record.getMessage() for record in caplog.records]
    assert any(message.startswith("Lost Redis at redis://127.0.0.1") for message in messages)
    assert any("Reconnected to Redis" in message and "1 channel(s)" in message for message in messages)


def test_a_slow_subscriber_is_dropped_without_holding_back_redis_or_the_others(redis: RedisServer) -> None:
    async def main() -> None:
        async with Broadcast(redis.url, max_pending=20) as broadcast:
            async with broadcast.subscribe("feed") as slow, broadcast.subscribe("feed", max_pending=1000) as fast:
                for n in range(1000):
                    await broadcast.publish("feed", str(n))
                received = await take(fast, 1000)
                assert [int(event.message) for event in received] == list(range(1000))
                assert slow.closed and slow.pending == 0
                with pytest.raises(SlowSubscriberError):
                    await take(slow, 1)
            async with broadcast.subscribe("feed", overflow="drop-oldest") as lagging:
                for n in range(1000, 1100):
                    await broadcast.publish("feed", str(n))
                async with broadcast.subscribe("feed") as marker:
                    await broadcast.publish("feed", "marker")
                    while (await take(marker, 1))[0].message != "marker":
                        pass  # everything before the marker has been delivered locally
                assert lagging.pending == 20 and lagging.skipped == 101 - 20
                assert (await take(lagging, 20))[-1].message == "marker"

    run(main)


def test_a_burst_from_redis_does_not_drop_a_subscriber_that_keeps_up(redis: RedisServer) -> None:
    async def main() -> None:
        async with Broadcast(redis.url, max_pending=100) as broadcast, broadcast.subscribe("feed") as events:
            reader = asyncio.create_task(take(events, 5000))
            other = Redis.from_url(redis.url)  # pyright: ignore[reportUnknownMemberType]  # **kwargs untyped in redis-py
            try:
                async with other.pipeline(transaction=False) as pipe:  # thousands of messages in each read
                    for n in range(5000):
                        pipe.publish("feed", str(n))  # pyright: ignore[reportUnknownMemberType]  # untyped in redis-py
                    await pipe.execute()
            finally:
                await other.aclose()
            assert [int(event.message) for event in await reader] == list(range(5000))  # before: dropped at 100

    run(main)


def test_a_thousand_subscribers_share_one_redis_subscription(redis: RedisServer) -> None:
    async def main() -> None:
        async with Broadcast(redis.url) as broadcast:
            async with asyncio.TaskGroup() as group:
                subscribed = asyncio.Event()
                entered = 0
                results: list[asyncio.Task[list[Event]]] = []

                async def subscriber() -> list[Event]:
                    nonlocal entered
                    async with broadcast.subscribe("crowd") as events:
                        entered += 1
                        if entered == 1000:
                            subscribed.set()
                        return await take(events, 20)

                results = [group.create_task(subscriber()) for _ in range(1000)]
                await subscribed.wait()
                assert broadcast.subscribers("crowd") == 1000
                assert await numsub(redis.url, "crowd") == 1
                for n in range(20):
                    await broadcast.publish("crowd", f"m{n}")
            expected = [Event("crowd", f"m{n}") for n in range(20)]
            assert all(task.result() == expected for task in results)
            assert broadcast.subscribers("crowd") == 0
            assert await numsub(redis.url, "crowd") == 0  # the last one out unsubscribed in Redis too

    run(main)


def test_an_unreachable_redis_fails_the_start_up_naming_the_url() -> None:
    url = f"redis://:secret@127.0.0.1:{free_port()}/0"
    app = TypedASGI(plugins=[BroadcastPlugin(Broadcast(url, connect_timeout=2))], autoload_plugins=False)
    with pytest.raises(BaseException, match=r"cannot reach Redis at redis://:\*\*\*@127\.0\.0\.1") as failure:
        with TestClient(app):
            pass
    assert "secret" not in str(failure.value)


def test_publish_while_redis_is_down_raises_broadcast_unavailable(redis: RedisServer) -> None:
    async def main() -> None:
        async with Broadcast(redis.url, reconnect_delay=(0.05, 0.2)) as broadcast:
            await asyncio.to_thread(redis.stop)
            with pytest.raises(BroadcastUnavailable, match="cannot publish to Redis"):
                await broadcast.publish("x", "lost")
            await asyncio.to_thread(redis.start)

    run(main)
