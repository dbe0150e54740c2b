"""The node agent's status writer: several objects written at once, never one object twice at once (its
writes arrive in order, the latest last), and a crash report goes ahead of routine updates.

The API server is stood in for by a recorder whose writes the test releases: which write goes out when is
the writer's own scheduling, which a real server's timing would make unobservable."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from tmux_orchestrator.kube import KubeObject, Resource
from tmux_sidecar.node.status import crowd_hold, starting_hold
from tmux_sidecar.node.status_writes import StatusWant, StatusWriter, WriteKey


class RecordingServer:
    """Accepts status patches, each held until the test releases it; records their order."""

    def __init__(self) -> None:
        self.statuses: dict[str, dict[str, Any]] = {}
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.in_flight: set[str] = set()
        self.most_at_once = 0
        self.release = asyncio.Event()
        self.twice_at_once = False

    async def patch_status(
        self, resource: Resource, name: str, status: Mapping[str, Any], namespace: str | None = None
    ) -> KubeObject:
        self.twice_at_once |= name in self.in_flight
        self.in_flight.add(name)
        self.most_at_once = max(self.most_at_once, len(self.in_flight))
        self.sent.append((name, dict(status)))
        await self.release.wait()
        self.in_flight.discard(name)
        self.statuses[name] = {**self.statuses.get(name, {}), **status}
        return {"status": self.statuses[name]}


def want(server: RecordingServer, name: str, phase: str, hold: float = 0.0) -> StatusWant:
    def written(result: KubeObject) -> None:
        pass

    return StatusWant(
        WriteKey(Resource.AGENTS, name, "default"),
        {"phase": phase},
        lambda: server.statuses.get(name),
        written,
        hold=hold,
    )


@contextlib.asynccontextmanager
async def running(writer: StatusWriter) -> AsyncIterator[None]:
    task = asyncio.create_task(writer.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(check: Any) -> None:
    async with asyncio.timeout(5):
        while not check():
            await asyncio.sleep(0.001)


@pytest.mark.timeout(10)
async def test_many_objects_at_once_one_object_in_order_latest_last() -> None:
    server = RecordingServer()
    writer = StatusWriter(server, writers=4)  # type: ignore[arg-type]
    async with running(writer):
        for index in range(10):
            writer.want(want(server, f"a{index}", "Starting"))
        await until(lambda: len(server.in_flight) == 4)
        writer.want(want(server, "a0", "Running"))  # while a0's first write is in flight
        server.release.set()
        await until(lambda: len(writer) == 0 and not server.in_flight)
    assert server.most_at_once == 4 and not server.twice_at_once
    assert {name: status["phase"] for name, status in server.statuses.items()} == {
        **{f"a{index}": "Starting" for index in range(10)},
        "a0": "Running",
    }
    a0 = [status["phase"] for name, status in server.sent if name == "a0"]
    assert a0 == ["Starting", "Running"]


@pytest.mark.timeout(10)
async def test_a_crash_report_is_written_at_once_ahead_of_queued_updates() -> None:
    server = RecordingServer()
    writer = StatusWriter(server, writers=1)  # type: ignore[arg-type]
    async with running(writer):
        writer.want(want(server, "first", "Running"))
        await until(lambda: server.in_flight == {"first"})
        for index in range(20):
            writer.want(want(server, f"busy{index}", "Running"))
        writer.want(want(server, "busy7", "Crashed"), urgent=True)
        # Sent at once, beside the writer that is still waiting for its answer.
        await until(lambda: server.in_flight == {"first", "busy7"})
        server.release.set()
        await until(lambda: len(writer) == 0 and not server.in_flight)
    assert [name for name, _ in server.sent[:2]] == ["first", "busy7"]
    assert server.statuses["busy7"] == {"phase": "Crashed"}
    assert len(server.sent) == 21  # each object once: the urgent want replaced the queued one


@pytest.mark.timeout(10)
async def test_a_passing_state_replaced_within_its_hold_is_never_written() -> None:
    server = RecordingServer()
    server.release.set()
    writer = StatusWriter(server, writers=2)  # type: ignore[arg-type]
    async with running(writer):
        for index in range(5):
            writer.want(want(server, f"a{index}", "Starting", hold=30))
        writer.want(want(server, "other", "Running"))  # not held: written while the others wait
        await until(lambda: server.statuses.get("other") == {"phase": "Running"})
        for index in range(5):
            writer.want(want(server, f"a{index}", "Running"))
        await until(lambda: len(writer) == 0 and not server.in_flight)
    assert sorted(server.sent) == sorted(
        [("other", {"phase": "Running"})] + [(f"a{index}", {"phase": "Running"}) for index in range(5)]
    )


@pytest.mark.timeout(10)
async def test_a_held_state_is_written_when_its_hold_ends_and_a_newer_one_does_not_put_it_off() -> None:
    server = RecordingServer()
    server.release.set()
    writer = StatusWriter(server, writers=1)  # type: ignore[arg-type]
    async with running(writer):
        writer.want(want(server, "node", "3 agents", hold=0.05))
        writer.want(want(server, "node", "4 agents", hold=30))  # replaces the content, not the deadline
        await until(lambda: server.sent)
        await until(lambda: len(writer) == 0 and not server.in_flight)
    assert server.sent == [("node", {"phase": "4 agents"})]


@pytest.mark.timeout(10)
async def test_a_want_that_comes_while_its_object_is_written_waits_its_own_hold() -> None:
    server = RecordingServer()
    writer = StatusWriter(server, writers=1)  # type: ignore[arg-type]
    async with running(writer):
        writer.want(want(server, "node", "3 agents"))
        await until(lambda: server.in_flight == {"node"})
        writer.want(want(server, "node", "4 agents", hold=30))
        writer.want(want(server, "other", "Running"))
        server.release.set()
        await until(lambda: server.statuses.get("other") == {"phase": "Running"})
        assert writer.queued(WriteKey(Resource.AGENTS, "node", "default"))  # still waiting for a newer one
        writer.want(want(server, "node", "5 agents"))
        await until(lambda: len(writer) == 0 and not server.in_flight)
    assert [status for name, status in server.sent if name == "node"] == [
        {"phase": "3 agents"},
        {"phase": "5 agents"},
    ]


@pytest.mark.timeout(10)
async def test_a_queued_starting_status_waits_longer_once_its_node_is_crowded() -> None:
    server = RecordingServer()
    server.release.set()
    writer = StatusWriter(server, writers=2)  # type: ignore[arg-type]
    async with running(writer):
        writer.want(want(server, "early", "Starting", hold=0.05))
        writer.want(want(server, "node", "4 agents", hold=0.05))  # not Starting: keeps its hold
        writer.rehold(lambda queued: crowd_hold(queued, 100))  # 30 s from its first want
        await until(lambda: server.statuses.get("node") == {"phase": "4 agents"})
        assert writer.queued(WriteKey(Resource.AGENTS, "early", "default"))
        writer.want(want(server, "early", "Running"))
        await until(lambda: len(writer) == 0 and not server.in_flight)
    assert [status for name, status in server.sent if name == "early"] == [{"phase": "Running"}]


@pytest.mark.timeout(10)
async def test_a_queued_starting_status_is_written_when_the_crowd_thins() -> None:
    server = RecordingServer()
    server.release.set()
    writer = StatusWriter(server, writers=1)  # type: ignore[arg-type]
    async with running(writer):
        writer.want(want(server, "late", "Starting", hold=30))
        writer.rehold(lambda queued: 0.0)  # its first want was long enough ago
        await until(lambda: len(writer) == 0 and not server.in_flight)
    assert server.sent == [("late", {"phase": "Starting"})]


@pytest.mark.parametrize(
    ("starting", "hold"),
    [
        (0, 1.0),
        (1, 1.0),  # a lone start keeps the 1 s hold
        (10, 1.0),  # so does a team of ten on one node
        (11, 30.0),  # a crowd waits for Running, up to 30 s
        (100, 30.0),
        (1000, 30.0),  # never more than 30 s
    ],
)
def test_a_starting_status_waits_longer_while_its_node_starts_many_agents(starting: int, hold: float) -> None:
    server = RecordingServer()
    assert crowd_hold(want(server, "a", "Starting"), starting) == pytest.approx(hold)
    assert starting_hold(starting) == pytest.approx(hold)


@pytest.mark.parametrize("phase", ["Running", "Crashed", "Failed", "Stopped"])
def test_only_a_starting_status_is_held_for_the_crowd(phase: str) -> None:
    server = RecordingServer()
    assert crowd_hold(want(server, "a", phase), 100) == 0.0
