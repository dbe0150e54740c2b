"""Events a process posts again (a crash loop's BackOff): one Event whose count grows, on a real API server.

A repeat of an Event the recorder wrote itself is one patch of its count; an Event gone meanwhile (deleted,
or expired after the API server's event TTL) starts over at count 1."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from support.kube import Kubectl
from tmux_orchestrator.devcluster.cluster import LocalCluster
from tmux_orchestrator.kube import Kube, connect, is_not_found
from tmux_orchestrator.kube.events import EventRecorder

NAME = "worker.backoff"


@contextlib.asynccontextmanager
async def recording(kube: Kube) -> AsyncIterator[EventRecorder]:
    recorder = EventRecorder(kube, controller="test.tmux.dev/recorder", component="test")
    task = asyncio.create_task(recorder.run())
    try:
        yield recorder
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def event_count(kube: Kube, namespace: str) -> int | None:
    try:
        return int((await kube.read_event(NAME, namespace)).get("count") or 0)
    except Exception as error:
        if is_not_found(error):
            return None
        raise


async def until_count(kube: Kube, namespace: str, expected: int) -> dict[str, Any]:
    async with asyncio.timeout(30):
        while await event_count(kube, namespace) != expected:
            await asyncio.sleep(0.05)
    return await kube.read_event(NAME, namespace)


def back_off(recorder: EventRecorder, regarding: dict[str, Any], note: str) -> None:
    recorder.post(
        regarding, name=NAME, type_="Warning", reason="BackOff", action="Restart", note=note, repeat=True
    )


async def test_a_repeated_event_counts_up_and_starts_over_once_gone(
    control_plane: LocalCluster, kubectl: Kubectl, namespace: str
) -> None:
    regarding = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "worker", "namespace": namespace, "uid": "0d9c4f1e"},
    }
    writes: list[str] = []
    kube = await connect(str(control_plane.kubeconfig), on_write=lambda verb, _: writes.append(verb))
    async with kube, recording(kube) as recorder:
        for attempt in range(1, 4):
            note = f"Back-off restarting (restart {attempt})"
            back_off(recorder, regarding, note)
            event = await until_count(kube, namespace, attempt)
            assert event["message"] == note
        assert writes == ["create", "patch", "patch"]  # no create refused as AlreadyExists, no reads
        kubectl.in_namespace(namespace).run("delete", "event", NAME)
        back_off(recorder, regarding, "again")
        event = await until_count(kube, namespace, 1)
        assert event["message"] == "again" and event["reason"] == "BackOff"
