"""Kube.watch against the real API server: what every cache and node agent is fed. A listing first, then
each change once, as plain objects for our resources and for typed ones (Leases) alike."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator

import pytest

from support.kube import Kubectl
from tmux_orchestrator.devcluster.cluster import LocalCluster
from tmux_orchestrator.kube import Resource, connect
from tmux_orchestrator.kube.client import WatchEvent, WatchEventType

pytestmark = pytest.mark.cluster


async def _next(events: AsyncIterator[WatchEvent], wanted: str) -> WatchEvent:
    """The next event about the object `wanted` (others in the namespace are skipped)."""
    async with asyncio.timeout(20):
        async for event in events:
            if event.type is WatchEventType.RESYNC or event.object is None:
                continue
            if event.object["metadata"]["name"] == wanted:
                return event
    raise AssertionError("the watch ended")


@pytest.mark.timeout(60)
async def test_a_watch_sees_each_change_of_a_custom_object_as_a_plain_object(
    control_plane: LocalCluster, kubectl: Kubectl, crds: list[str], namespace: str
) -> None:
    async with await connect(str(control_plane.kubeconfig)) as kube:
        before = {
            "apiVersion": "orchestrator.tmux.dev/v1alpha1",
            "kind": "AgentMessage",
            "metadata": {"name": "listed"},
            "spec": {"agent": "web-pm-0", "text": "there before the watch"},
        }
        await kube.create(Resource.AGENT_MESSAGES, before, namespace)
        events = aiter(kube.watch(Resource.AGENT_MESSAGES, namespace))
        first = await anext(events)
        assert first.type is WatchEventType.RESYNC
        assert [obj["metadata"]["name"] for obj in first.objects] == ["listed"]

        body = {**before, "metadata": {"name": "hello"}, "spec": {"agent": "web-pm-0", "text": "a ü\nb"}}
        await kube.create(Resource.AGENT_MESSAGES, body, namespace)
        added = await _next(events, "hello")
        assert added.type is WatchEventType.ADDED and added.object is not None
        assert added.object["spec"]["text"] == "a ü\nb"  # as written, decoded once

        await kube.patch(Resource.AGENT_MESSAGES, "hello", {"metadata": {"labels": {"x": "1"}}}, namespace)
        modified = await _next(events, "hello")
        assert modified.type is WatchEventType.MODIFIED and modified.object is not None
        assert modified.object["metadata"]["labels"] == {"x": "1"}

        await kube.delete(Resource.AGENT_MESSAGES, "hello", namespace)
        assert (await _next(events, "hello")).type is WatchEventType.DELETED
        await events.aclose()  # type: ignore[attr-defined]


@pytest.mark.timeout(60)
async def test_a_lease_watch_gives_plain_objects_too(
    control_plane: LocalCluster, kubectl: Kubectl, namespace: str
) -> None:
    async with await connect(str(control_plane.kubeconfig)) as kube:
        events = aiter(kube.watch_leases(namespace))
        assert (await anext(events)).type is WatchEventType.RESYNC
        now = datetime.datetime.now(datetime.UTC)
        await kube.renew_lease("held", namespace, "me", 40, now)
        added = await _next(events, "held")
        assert added.type is WatchEventType.ADDED and added.object is not None
        assert added.object["spec"]["holderIdentity"] == "me"  # the wire's camelCase dict, not a model
        await events.aclose()  # type: ignore[attr-defined]
