"""The node agent's status writes: queued per object, coalesced to the latest wanted status and written by
a few writer tasks (never two at once for one object), so that exit detection, restarts and typing never
wait for the API server, and a crash report (queued first) never waits behind routine updates.

A sync pass says what each status should be (`want`); nothing is written when that is what the server
already has (`core.patch.status_write`, the pure decision). A passing state may be `held` a moment: an agent
that is Starting is usually Running within a second, and then one write says both (a fleet start otherwise
writes every agent twice, to an API server that the starting agents already leave short of CPU). While
the server is away or hung, the queue keeps one entry per object, the latest; writes are retried with
backoff and flushed once it answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from tmux_orchestrator.core.backoff import WRITE_BACKOFF, retry_delay
from tmux_orchestrator.core.patch import status_write
from tmux_orchestrator.kube import Kube, KubeObject, Resource, is_not_found
from tmux_orchestrator.kube.client import describe_error, is_unavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WriteKey:
    """The object whose status is written."""

    resource: Resource
    name: str
    namespace: str | None = None

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.resource} {where}{self.name}"


@dataclass(frozen=True)
class StatusWant:
    """The status one object should have, and how to learn what the server has."""

    key: WriteKey
    wanted: Mapping[str, Any]
    reported: Callable[[], Mapping[str, Any] | None]
    """What the server has, as far as we know: read again just before writing (the watch keeps it fresh)."""
    written: Callable[[KubeObject], None]
    """Told the object the server answered with, once the write succeeded."""
    whole: bool = True
    """`wanted` is the entire status (fields it lacks are removed), else only the fields it names."""
    hold: float = 0.0
    """Seconds the write may wait for a newer want of the same object to replace it (a passing state). A
    newer want never pushes an earlier one's write back: the object is written by the earliest deadline."""

    def patch(self) -> dict[str, Any] | None:
        return status_write(self.reported(), self.wanted, whole=self.whole)


WRITERS = 8
"""Writes in flight at once, each to another object: a hundred agents that start together are not written
one round trip after another, and a crash report finds a writer free soon."""


class StatusWriter:
    """One queue of wanted statuses (one entry per object, the latest) and the writers that empty it, never
    two at once for the same object (so an object's writes arrive in order)."""

    def __init__(self, kube: Kube, writers: int = WRITERS) -> None:
        self.kube = kube
        self._writers = writers
        self._queue: dict[WriteKey, StatusWant] = {}
        self._due: dict[WriteKey, float] = {}  # when each queued want is to be written (event loop time)
        self._since: dict[WriteKey, float] = {}  # when the object's first want not yet being written came
        self._writing: set[WriteKey] = set()
        self._urgent: set[asyncio.Task[None]] = set()  # urgent writes under way (kept from the GC)
        self._more = asyncio.Event()
        self.failures = 0  # writes failed in a row because the server did not answer
        self.writes = 0  # requests sent that succeeded (the soak benchmark reads it)

    def want(self, want: StatusWant, *, urgent: bool = False) -> None:
        """The status `want.key` should have from now on. A whole status replaces what was queued for the
        object; a partial one is merged over a queued partial one (both sets of fields are ours). An
        `urgent` one (a crash) is written at once, beside the writers (which may all be busy with routine
        updates), or first in line if its object is being written."""
        queued = self._queue.get(want.key)
        if queued is not None and not (want.whole or queued.whole):
            want = _merged(queued, want)
        if want.patch() is None:
            self._forget(want.key)  # the server already has it (or it changed back): nothing to do
            return
        now = asyncio.get_running_loop().time()
        if urgent:
            self._queue.pop(want.key, None)
            self._queue = {want.key: want, **self._queue}
            self._due[want.key] = now
            self._since.setdefault(want.key, now)
            if want.key not in self._writing:
                task = asyncio.create_task(self._write_now(want.key), name=f"urgent status {want.key}")
                self._urgent.add(task)
                task.add_done_callback(self._urgent.discard)
        else:
            self._queue[want.key] = want  # an existing key keeps its place in line
            self._due[want.key] = min(self._due.get(want.key, now + want.hold), now + want.hold)
            self._since.setdefault(want.key, now)
        self._more.set()

    def rehold(self, hold: Callable[[StatusWant], float]) -> None:
        """Give each queued want the hold `hold` says, counted from when its object's first queued want came
        (unlike `want`, this may put a write off: the node's crowd of starting agents grew meanwhile)."""
        now = asyncio.get_running_loop().time()
        for key, want in self._queue.items():
            new = hold(want)
            if new == want.hold or key in self._writing:
                continue
            self._queue[key] = replace(want, hold=new)
            self._due[key] = self._since.get(key, now) + new
        self._more.set()

    def queued(self, key: WriteKey) -> bool:
        return key in self._queue

    def __len__(self) -> int:
        return len(self._queue)

    async def run(self) -> None:
        async with asyncio.TaskGroup() as writers:
            for number in range(self._writers):
                writers.create_task(self._writer(), name=f"status-writer-{number}")

    async def _write_now(self, key: WriteKey) -> None:
        """Write the want queued for `key` now, unless a writer took it meanwhile."""
        want = self._queue.get(key)
        if want is None or key in self._writing:
            return
        if not await self._write_alone(key, want):
            self._more.set()  # still queued: the writers retry it with their backoff

    def _next(self, now: float) -> tuple[WriteKey, StatusWant] | float | None:
        """The first queued want that is due and whose object no other writer is writing; else how long
        until the next one is due (None: nothing to wait for but a new want)."""
        soonest: float | None = None
        for key, want in self._queue.items():
            if key in self._writing:
                continue
            due = self._due.get(key, now)
            if due <= now:
                return key, want
            soonest = due if soonest is None else min(soonest, due)
        return None if soonest is None else soonest - now

    async def _writer(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            item = self._next(loop.time())
            if not isinstance(item, tuple):
                self._more.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(item):  # None: until a new want comes
                        await self._more.wait()
                continue
            key, want = item
            if not await self._write_alone(key, want):
                if self._queue.get(key) is want:
                    self._queue[key] = self._queue.pop(key)  # to the back: the others get their turn too
                await asyncio.sleep(retry_delay(self.failures, random.random(), WRITE_BACKOFF))

    async def _write_alone(self, key: WriteKey, want: StatusWant) -> bool:
        """`_write`, marked as under way so that no other writer writes the same object meanwhile."""
        self._writing.add(key)
        self._due.pop(key, None)  # a want that comes while this write is on its way waits its own hold
        self._since.pop(key, None)
        try:
            return await self._write(key, want)
        finally:
            self._writing.discard(key)

    async def _write(self, key: WriteKey, want: StatusWant) -> bool:
        """Write one queued status; False when the server did not answer (kept, tried again later)."""
        patch = want.patch()
        if patch is None:
            self._drop(key, want)
            return True
        try:
            result = await self.kube.patch_status(key.resource, key.name, patch, key.namespace)
        except Exception as error:
            if is_unavailable(error):
                self.failures += 1
                log.info(
                    "status of %s not written yet (%d failed): %s", key, self.failures, describe_error(error)
                )
                return False
            if not is_not_found(error):  # an answer about the write itself: wanting it again will not help
                log.warning("status of %s refused: %s", key, describe_error(error))
            self._drop(key, want)
            return True
        if self.failures:
            log.info("API server answers again: status of %s written, %d queued", key, len(self._queue) - 1)
        self.failures = 0
        self.writes += 1
        log.debug("status of %s written", key)
        self._drop(key, want)
        want.written(result)
        return True

    def _drop(self, key: WriteKey, want: StatusWant) -> None:
        """Done with `want`; a newer want for the same object that arrived meanwhile stays queued."""
        if self._queue.get(key) is want:
            self._forget(key)

    def _forget(self, key: WriteKey) -> None:
        self._queue.pop(key, None)
        self._due.pop(key, None)
        self._since.pop(key, None)


def _merged(older: StatusWant, newer: StatusWant) -> StatusWant:
    def written(result: KubeObject) -> None:
        older.written(result)
        newer.written(result)

    return replace(newer, wanted={**older.wanted, **newer.wanted}, written=written)
