"""What keeps kopf from being the operator's only runtime, shown against the real API server.

1. After a watch gap that ends in a relist (410 Gone: here the API server restarted, its watch cache begins
   after the resourceVersion kopf resumes from), kopf's index keeps an object deleted during the gap, and
   kopf's event handlers never hear of the deletion. `Kube.watch` answers the same relist with a RESYNC that
   drops it. This is why Agents, TmuxNodes, Leases, ControllerRevisions and AgentMessages are not kopf
   indexes, and why AgentTeams (which do come through kopf) are checked against a listing by
   `Controller.resync_teams`.
2. A kopf timer (or daemon) puts a finalizer on every object it serves: teams could not be deleted while no
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
