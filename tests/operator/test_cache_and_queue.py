"""The controller's in-memory machinery: object caches (RESYNC semantics, indexes, read-your-writes) and
the keyed work queue (one pass per key at a time, coalescing, timers)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tmux_orchestrator.controller.cache import Change, ObjectCache, ObjectKey
from tmux_orchestrator.controller.workqueue import WorkQueue
from tmux_orchestrator.kube.client import WatchEvent, WatchEventType


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the event loop run until `check()` holds (the queue's workers are tasks on this loop)."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.001)  # a poll interval, not a wait for something to happen


def obj(name: str, rv: int, namespace: str = "ns", uid: str | None = None, team: str = "t") -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid or f"uid-{name}",
            "resourceVersion": str(rv),
            "labels": {"team": team},
        }
    }


def team_cache() -> tuple[ObjectCache, list[Change]]:
    cache = ObjectCache("Thing", {"team": lambda o: [o["metadata"]["labels"]["team"]]})
    changes: list[Change] = []
    cache.subscribe(lambda _kind, change: changes.append(change))
    return cache, changes


def test_resync_drops_what_was_deleted_while_nobody_watched() -> None:
    cache, changes = team_cache()
    cache.apply(WatchEvent(WatchEventType.RESYNC, objects=(obj("a", 1), obj("b", 2))))
    assert cache.synced
    cache.apply(WatchEvent(WatchEventType.RESYNC, objects=(obj("b", 2),)))
    assert [o["metadata"]["name"] for o in cache] == ["b"]
    assert changes[-1].new is None and changes[-1].old is not None
    assert cache.lookup("team", "t") == [obj("b", 2)]


def test_resync_of_one_namespace_leaves_the_others() -> None:
    cache, _ = team_cache()
    cache.expect_scopes(["x", "y"])
    cache.apply(WatchEvent(WatchEventType.RESYNC, objects=(obj("a", 1, "x"),)), "x")
    assert not cache.synced
    cache.apply(WatchEvent(WatchEventType.RESYNC, objects=(obj("b", 2, "y"),)), "y")
    assert cache.synced
    cache.apply(WatchEvent(WatchEventType.RESYNC, objects=()), "y")
    assert cache.get(ObjectKey("x", "a")) is not None and cache.get(ObjectKey("y", "b")) is None


def test_a_listing_drops_what_it_lacks_but_not_what_the_watch_saw_after_it_was_taken() -> None:
    # The operator's listings run while kopf's watch goes on: events newer than the listing win over it.
    cache, _ = team_cache()
    cache.put(obj("gone", 3))  # deleted while the watch was down: the listing at 10 lacks it
    cache.put(obj("created", 12))  # created after the listing was taken, seen by the watch first
    cache.put(obj("deleted", 4))
    cache.remove(obj("deleted", 11))  # deleted after the listing was taken, seen by the watch first
    cache.put(obj("changed", 13))  # the listing holds an older version
    cache.replace_all([obj("deleted", 4), obj("changed", 5), obj("kept", 6)], None, "10")
    assert sorted(o["metadata"]["name"] for o in cache) == ["changed", "created", "kept"]
    assert cache.get(ObjectKey("ns", "changed")) == obj("changed", 13)
    # Once a listing was taken after the deletion, an object of that name is believed again (re-created).
    cache.replace_all([obj("deleted", 15), obj("changed", 13), obj("created", 12)], None, "16")
    assert sorted(o["metadata"]["name"] for o in cache) == ["changed", "created", "deleted"]


def test_a_listing_without_comparable_versions_wins() -> None:
    cache, _ = team_cache()
    cache.put(obj("a", 12))
    cache.replace_all([obj("b", 2)], None, "")
    assert [o["metadata"]["name"] for o in cache] == ["b"]


def test_an_older_version_never_replaces_a_written_one() -> None:
    cache, changes = team_cache()
    cache.put(obj("a", 7))  # the response of our own write
    cache.put(obj("a", 5))  # a watch event that was already on its way
    cache.put(obj("a", 7))  # the watch catching up
    assert cache.get(ObjectKey("ns", "a")) == obj("a", 7)
    assert len(changes) == 1


def test_a_new_object_with_a_reused_name_replaces_the_old_one() -> None:
    cache, _ = team_cache()
    cache.put(obj("a", 9, uid="old"))
    cache.put(obj("a", 3, uid="new"))
    assert cache.get(ObjectKey("ns", "a")) == obj("a", 3, uid="new")


def test_indexes_follow_label_changes_and_deletions() -> None:
    cache, _ = team_cache()
    cache.put(obj("a", 1, team="t1"))
    cache.put(obj("a", 2, team="t2"))
    assert cache.count("team", "t1") == 0 and cache.count("team", "t2") == 1
    cache.apply(WatchEvent(WatchEventType.DELETED, object=obj("a", 3, team="t2")))
    assert cache.count("team", "t2") == 0 and len(cache) == 0


async def test_one_pass_per_key_at_a_time_and_triggers_coalesce() -> None:
    running: set[str] = set()
    passes: list[str] = []
    release = asyncio.Event()

    async def process(key: str) -> float | None:
        assert key not in running, "two passes over one key at once"
        running.add(key)
        passes.append(key)
        await release.wait()
        running.discard(key)
        return None

    queue: WorkQueue[str] = WorkQueue("test", process, workers=4)
    task = asyncio.create_task(queue.run())
    queue.add("a")
    await until(lambda: "a" in running)
    for _ in range(5):  # while "a" is being processed: one more pass afterwards, not five
        queue.add("a")
    queue.add("b")
    await until(lambda: running == {"a", "b"})
    release.set()
    # Done once a third pass has run and nothing is queued or running: a sixth "a" would still be due.
    await until(lambda: len(passes) >= 3 and not running and len(queue) == 0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(passes) == ["a", "a", "b"]


async def test_requeue_after_and_backoff_on_failure() -> None:
    loop = asyncio.get_running_loop()
    times: dict[str, list[float]] = {"timer": [], "failing": []}

    async def process(key: str) -> float | None:
        times[key].append(loop.time())
        if key == "failing":
            raise RuntimeError("boom")
        return 0.05 if len(times[key]) < 3 else None

    queue: WorkQueue[str] = WorkQueue("test", process, workers=2, backoff=(0.02, 0.04))
    task = asyncio.create_task(queue.run())
    queue.add("timer")
    queue.add("failing")
    # Seven failed attempts take at least 0.22 s (0.02 + 5 * 0.04): past the time a wrong fourth timer pass
    # (0.15 s) would have run.
    await until(lambda: len(times["failing"]) >= 7)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(times["timer"]) == 3
    assert times["timer"][1] - times["timer"][0] >= 0.05
    gaps = [b - a for a, b in zip(times["failing"], times["failing"][1:], strict=False)]
    assert gaps[0] >= 0.02 and all(gap >= 0.04 for gap in gaps[1:])


async def test_a_pass_that_hangs_does_not_hold_up_other_keys_and_is_cancelled_at_its_deadline() -> None:
    """One worker, one key whose pass hangs (as on an API call nobody answers): the other key is served
    once the hung pass has had its `detach_after`, and the hung pass is cancelled at `pass_timeout` and
    tried again with backoff — never two passes over the hung key at once."""
    loop = asyncio.get_running_loop()
    started: dict[str, list[float]] = {"hung": [], "other": []}
    cancelled: list[float] = []
    running: set[str] = set()
    never = asyncio.Event()

    async def process(key: str) -> float | None:
        assert key not in running, "two passes over one key at once"
        started[key].append(loop.time())
        if key == "hung":
            running.add(key)
            try:
                await never.wait()
            except asyncio.CancelledError:
                cancelled.append(loop.time())
                raise
            finally:
                running.discard(key)
        return None

    queue: WorkQueue[str] = WorkQueue(
        "test", process, workers=1, backoff=(0.05, 0.05), detach_after=0.1, pass_timeout=0.5
    )
    task = asyncio.create_task(queue.run())
    queue.add("hung")
    await until(lambda: bool(started["hung"]))
    queue.add("other")
    await until(lambda: bool(started["other"]))
    assert started["other"][0] - started["hung"][0] < 0.4, "the other key waited for the hung pass"
    await until(lambda: len(started["hung"]) >= 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancelled[0] - started["hung"][0] >= 0.5
    assert started["hung"][1] >= cancelled[0] + 0.05
