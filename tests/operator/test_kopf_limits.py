"""What keeps kopf from being the operator's only runtime, shown against the real API server (see
docs/architecture.md, "Why kopf is not the operator's only runtime").

A kopf timer (or daemon) puts a finalizer on every object it serves: teams could not be deleted while no
operator runs, and a standby replica would write to every team. Pauses and deadlines stay timers of the
Controller's work queue (`plan.requeue_after`)."""

from __future__ import annotations

import asyncio
from typing import Any

import kopf
import pytest

from support.kube import Kubectl
from tmux_orchestrator.api.constants import GROUP, VERSION
from tmux_orchestrator.devcluster.cluster import LocalCluster
from tmux_orchestrator.kube.client import Resource, connect

pytestmark = pytest.mark.cluster


def tmux_node(name: str) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "TmuxNode", "metadata": {"name": name}, "spec": {}}


async def until(check: Any, timeout: float, what: str) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.1)  # a poll interval: both watches run on this event loop


@pytest.mark.timeout(120)
async def test_a_kopf_timer_puts_a_finalizer_on_every_object_it_serves(
    control_plane: LocalCluster, kubectl: Kubectl, crds: list[str], namespace: str
) -> None:
    name = f"{namespace}-timed"
    registry = kopf.OperatorRegistry()
    ticks: list[str] = []

    @kopf.timer(GROUP, VERSION, Resource.TMUX_NODES.value, id="tick", interval=1.0, registry=registry)
    async def tick(name: str, **_: Any) -> None:
        ticks.append(name)

    settings = kopf.OperatorSettings()
    settings.scanning.disabled = True
    settings.posting.enabled = False
    kubectl.apply(tmux_node(name))
    stop = asyncio.Event()
    async with await connect(str(control_plane.kubeconfig)) as kube:

        @kopf.on.login(registry=registry)
        async def login(**_: Any) -> kopf.ConnectionInfo:
            from tmux_orchestrator.controller.app import connection_info

            return await connection_info(kube)

        operator = asyncio.create_task(
            kopf.operator(registry=registry, settings=settings, standalone=True, clusterwide=True,
                          stop_flag=stop)
        )  # fmt: skip
        try:
            await until(lambda: name in ticks, 60, "a timer tick")
            finalizers = (await kube.get(Resource.TMUX_NODES, name))["metadata"].get("finalizers")
        finally:
            stop.set()
            await asyncio.gather(operator, return_exceptions=True)
            kubectl.run("patch", "tmuxnode", name, "--type=merge", "-p", '{"metadata":{"finalizers":null}}',
                        check=False)  # fmt: skip
            kubectl.run("delete", "tmuxnode", name, "--ignore-not-found", check=False)
    assert finalizers == ["kopf.zalando.org/KopfFinalizerMarker"]
