"""The kopf defects the operator works around, shown against the real API server (see docs/architecture.md,
"kopf, the operator's one watch stack").

1. After a watch gap that ends in a relist (410 Gone: here the API server restarted, its watch cache begins
   after the resourceVersion kopf resumes from), kopf's index keeps an object deleted during the gap, and
   kopf's event handlers never hear of the deletion. So the operator's caches, fed by kopf's event
   handlers, are also replaced by listings of their own (controller/listing.py), which drop it; the
   operator-level recovery is tests/operator/test_operator.py's watch-gap test.
2. A kopf timer (or daemon) puts a finalizer on every object it serves: teams could not be deleted while no
   operator runs, and a standby replica would write to every team. Pauses and deadlines stay timers of the
   Controller's work queue (`plan.requeue_after`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

import kopf
import pytest

from support.faults import API_SERVER, delete_in_etcd, restart
from support.kube import Kubectl
from tmux_orchestrator.api.constants import GROUP, VERSION
from tmux_orchestrator.controller.app import connection_info
from tmux_orchestrator.controller.cache import ObjectCache, ObjectKey
from tmux_orchestrator.devcluster.cluster import LocalCluster
from tmux_orchestrator.kube.client import Kube, Resource, connect

pytestmark = pytest.mark.cluster


def tmux_node(name: str) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "TmuxNode", "metadata": {"name": name}, "spec": {}}


def run_kopf(registry: kopf.OperatorRegistry, kube: Kube, stop: asyncio.Event) -> asyncio.Task[None]:
    """kopf in the test's event loop serving `registry`, logged in with our client's credentials."""

    @kopf.on.login(registry=registry)
    async def login(**_: Any) -> kopf.ConnectionInfo:
        return await connection_info(kube)

    settings = kopf.OperatorSettings()
    settings.scanning.disabled = True
    settings.posting.enabled = False
    settings.networking.error_backoffs = [0.5] * 60  # keep trying while the API server restarts
    return asyncio.create_task(
        kopf.operator(registry=registry, settings=settings, standalone=True, clusterwide=True, stop_flag=stop)
    )


async def until(check: Any, timeout: float, what: str) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.1)  # a poll interval: both watches run on this event loop


@pytest.mark.timeout(240)
async def test_kopf_index_keeps_an_object_deleted_during_a_watch_gap_that_ends_in_a_relist(
    control_plane: LocalCluster, kubectl: Kubectl, crds: list[str], namespace: str
) -> None:
    gone, kept, later = (f"{namespace}-{suffix}" for suffix in ("gone", "kept", "later"))
    seen: dict[str, Any] = {}
    deleted_events: list[str] = []
    registry = kopf.OperatorRegistry()
    nodes = (GROUP, VERSION, Resource.TMUX_NODES.value)

    @kopf.index(*nodes, id="names", registry=registry)
    async def names(name: str, **_: Any) -> dict[str, bool]:
        return {name: True}

    ours = ObjectCache("TmuxNode")  # fed as the operator's caches are: kopf's events, then a listing

    @kopf.on.event(*nodes, id="events", registry=registry)
    async def events(event: Mapping[str, Any], name: str, names: Any, **_: Any) -> None:
        seen["index"] = names  # kopf's live index, for the test to read
        if event.get("type") == "DELETED":
            deleted_events.append(name)
            ours.remove(dict(event["object"]))
        else:
            ours.put(dict(event["object"]))

    for name in (gone, kept):
        kubectl.apply(tmux_node(name))
    stop = asyncio.Event()
    async with await connect(str(control_plane.kubeconfig)) as kube:
        operator = run_kopf(registry, kube, stop)
        try:
            await until(lambda: gone in seen.get("index", {}) and kept in seen["index"], 60, "kopf index")
            await until(lambda: ours.get(ObjectKey("", gone)) is not None, 30, "our cache")

            # The gap: the API server is down while the object is deleted (straight from etcd, as any
            # deletion the watches did not see); it comes back with a watch cache that starts after it.
            await asyncio.to_thread(
                restart,
                control_plane,
                API_SERVER,
                lambda: delete_in_etcd(control_plane, f"/registry/{GROUP}/tmuxnodes/{gone}"),
            )
            await asyncio.to_thread(kubectl.apply, tmux_node(later))
            await until(lambda: later in seen["index"], 90, "kopf index after the restart")
            await until(lambda: ours.get(ObjectKey("", later)) is not None, 60, "our cache after restart")
            # The defect: kopf relisted (it knows `later`) yet still indexes the deleted object, and never
            # told a handler it was deleted; a cache fed by its events still holds it too.
            assert gone in seen["index"] and gone not in deleted_events
            assert ours.get(ObjectKey("", gone)) is not None
            # The workaround: a listing of our own replaces what the cache holds.
            items, version = await kube.list(Resource.TMUX_NODES)
            ours.replace_all(items, None, version)
        finally:
            stop.set()
            await asyncio.gather(operator, return_exceptions=True)
            for name in (gone, kept, later):
                kubectl.run("delete", "tmuxnode", name, "--ignore-not-found", check=False)

    assert kubectl.run("get", "tmuxnode", gone, check=False).returncode != 0  # really gone
    assert ours.get(ObjectKey("", gone)) is None, "the listing did not drop the deleted object"
    assert ours.get(ObjectKey("", kept)) is not None and ours.get(ObjectKey("", later)) is not None


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

    kubectl.apply(tmux_node(name))
    stop = asyncio.Event()
    async with await connect(str(control_plane.kubeconfig)) as kube:
        operator = run_kopf(registry, kube, stop)
        try:
            await until(lambda: name in ticks, 60, "a timer tick")
            # kopf may patch its finalizer in after the first tick (CI saw none at that moment): the claim
            # is that it comes, so look for 30 s; without it the assertion below fails.
            finalizers = None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(30):
                    while not finalizers:
                        finalizers = (await kube.get(Resource.TMUX_NODES, name))["metadata"].get("finalizers")
                        await asyncio.sleep(0.1)
        finally:
            stop.set()
            await asyncio.gather(operator, return_exceptions=True)
            kubectl.run("patch", "tmuxnode", name, "--type=merge", "-p", '{"metadata":{"finalizers":null}}',
                        check=False)  # fmt: skip
            kubectl.run("delete", "tmuxnode", name, "--ignore-not-found", check=False)
    assert finalizers == ["kopf.zalando.org/KopfFinalizerMarker"]
