"""A keyed work queue, as controllers use: one worker at a time per key, triggers coalesced, delays.

`add(key)` asks for a pass over `key` now, `add(key, delay)` later; the earliest request wins. A key being
processed is not handed to a second worker: a request that arrives meanwhile makes it due again once the
running pass ends, so every change is followed by at least one pass that started after it.

One slow key never holds up the others: a pass still running after `detach_after` seconds (an API call
that hangs: a frozen API server, a webhook that does not answer) goes on by itself and its worker serves
the next key; a pass running longer than `pass_timeout` is cancelled and retried with backoff (passes are
crash-safe: the next one observes what the cancelled one wrote).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)

Processor = Callable[[K], Awaitable[float | None]]
"""Handles one key; returns seconds until the key needs another pass (None: only when triggered)."""
Describer = Callable[[Exception], str | None]
"""One line for an expected failure (the API server said no); None for a bug, logged with its traceback."""


class WorkQueue(Generic[K]):
    def __init__(
        self,
        name: str,
        processor: Processor[K],
        *,
        workers: int = 4,
        backoff: tuple[float, float] = (0.5, 60.0),
        describe: Describer | None = None,
        detach_after: float = 2.0,
        pass_timeout: float = 120.0,
    ) -> None:
        self.name = name
        self._processor = processor
        self._describe = describe or (lambda _: None)
        self._workers = workers
        self._backoff_first, self._backoff_max = backoff
        self._due: dict[K, float] = {}
        self._heap: list[tuple[float, int, K]] = []
        self._order = itertools.count()
        self._processing: set[K] = set()
        self._again: dict[K, float] = {}
        self._failures: dict[K, int] = {}
        self._wakeup = asyncio.Event()
        self._detach_after = detach_after
        self._pass_timeout = pass_timeout
        self._group: asyncio.TaskGroup | None = None

    def __len__(self) -> int:
        return len(self._due)

    def add(self, key: K, delay: float = 0.0) -> None:
        loop = asyncio.get_running_loop()
        at = loop.time() + max(delay, 0.0)
        if key in self._processing:
            self._again[key] = min(at, self._again.get(key, at))
            return
        if key in self._due and self._due[key] <= at:
            return
        self._due[key] = at
        heapq.heappush(self._heap, (at, next(self._order), key))
        self._wakeup.set()

    def forget(self, key: K) -> None:
        """Drop pending passes and the failure history of a key whose object is gone."""
        self._due.pop(key, None)
        self._again.pop(key, None)
        self._failures.pop(key, None)

    async def run(self) -> None:
        """Process keys until cancelled."""
        async with asyncio.TaskGroup() as group:
            self._group = group  # passes that outlive their worker's patience run in it too
            for number in range(self._workers):
                group.create_task(self._worker(), name=f"{self.name}-worker-{number}")

    async def _next(self) -> K:
        loop = asyncio.get_running_loop()
        while True:
            while self._heap:
                at, _, key = self._heap[0]
                if self._due.get(key) != at:  # superseded by an earlier request, or forgotten
                    heapq.heappop(self._heap)
                    continue
                wait = at - loop.time()
                if wait > 0:
                    break
                heapq.heappop(self._heap)
                del self._due[key]
                self._processing.add(key)
                return key
            timeout = self._heap[0][0] - loop.time() if self._heap else None
            self._wakeup.clear()
            # asyncio.timeout, not wait_for: when a cancellation and the timeout land in the same loop
            # iteration (every timer is overdue after the process was stopped), Python 3.11's wait_for
            # may report the timeout and lose the cancellation, and the worker would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wakeup.wait()

    async def _worker(self) -> None:
        while True:
            key = await self._next()
            assert self._group is not None
            running = self._group.create_task(self._pass(key), name=f"{self.name}-pass-{key}")
            # Wait for the pass, but not for ever: a slow one goes on alone and this worker moves on.
            await asyncio.wait({running}, timeout=self._detach_after)
            if not running.done():
                log.warning(
                    "%s: pass over %s is slow (%gs and running); other keys go on",
                    self.name,
                    key,
                    self._detach_after,
                )

    async def _pass(self, key: K) -> None:
        requeue: float | None
        deadline = asyncio.timeout(self._pass_timeout)
        try:
            async with deadline:
                requeue = await self._processor(key)
            self._failures.pop(key, None)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            failures = self._failures.get(key, 0) + 1
            self._failures[key] = failures
            requeue = min(self._backoff_first * 2 ** (failures - 1), self._backoff_max)
            what = "%s: pass over %s failed (%d in a row); again in %.1fs"
            description = self._describe(error)
            if deadline.expired():
                description = f"cancelled: still running after {self._pass_timeout:g}s"
            if description is None:
                log.exception(what, self.name, key, failures, requeue)
            else:
                log.warning(what + ": %s", self.name, key, failures, requeue, description)
        finally:
            self._processing.discard(key)
        again = self._again.pop(key, None)
        loop = asyncio.get_running_loop()
        if again is not None:
            self.add(key, again - loop.time())
        if requeue is not None:
            self.add(key, requeue)
