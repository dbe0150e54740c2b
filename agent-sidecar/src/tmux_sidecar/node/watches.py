"""The two watches of a node agent: its Agents (field selector on spec.nodeName) and the AgentMessages
routed to it (label selector). Each event updates the shared state and wakes the sync pass."""

from __future__ import annotations

import asyncio
import logging

from tmux_orchestrator.api import AgentSpec
from tmux_orchestrator.api.constants import LABEL_NODE
from tmux_orchestrator.kube import Kube, KubeObject, Resource
from tmux_orchestrator.kube.client import WatchEvent, WatchEventType
from tmux_sidecar.profile_plugins import load_profile_or_fallback

from .records import NodeState, seed_record, take_reported

log = logging.getLogger(__name__)


async def watch_agents(
    kube: Kube, node: str, state: NodeState, *, synced: asyncio.Event, wake: asyncio.Event
) -> None:
    async for event in kube.watch(Resource.AGENTS, field_selector=f"spec.nodeName={node}"):
        apply_agent_event(state, event)
        synced.set()
        wake.set()


def apply_agent_event(state: NodeState, event: WatchEvent) -> None:
    if event.type is WatchEventType.RESYNC:
        seen = set()
        for obj in event.objects:
            seen.add(obj["metadata"]["uid"])
            _upsert_agent(state, obj)
        for uid in set(state.agents) - seen:
            del state.agents[uid]
        return
    assert event.object is not None
    uid = event.object["metadata"]["uid"]
    if event.type is WatchEventType.DELETED:
        state.agents.pop(uid, None)
        state.readings.pop(uid, None)
    else:
        _upsert_agent(state, event.object)


def _upsert_agent(state: NodeState, obj: KubeObject) -> None:
    uid = obj["metadata"]["uid"]
    try:
        spec = AgentSpec.model_validate(obj["spec"])
    except ValueError as error:
        log.warning("ignoring Agent %s: %s", obj["metadata"].get("name"), error)
        return
    record = state.agents.get(uid)
    if record is None:
        state.agents[uid] = seed_record(obj, spec, load_profile_or_fallback(spec.template.profile))
        return
    if spec.template.profile != record.spec.template.profile:
        record.profile = load_profile_or_fallback(spec.template.profile)
    record.obj, record.spec = obj, spec
    # Our own writes come back through the watch; the server's copy is what the next patch diffs against.
    take_reported(record, obj)


async def watch_messages(kube: Kube, node: str, state: NodeState, *, wake: asyncio.Event) -> None:
    async for event in kube.watch(Resource.AGENT_MESSAGES, label_selector=f"{LABEL_NODE}={node}"):
        if event.type is WatchEventType.RESYNC:
            state.messages = {obj["metadata"]["uid"]: obj for obj in event.objects}
        elif event.object is not None:
            uid = event.object["metadata"]["uid"]
            if event.type is WatchEventType.DELETED:
                state.messages.pop(uid, None)
            else:
                state.messages[uid] = event.object
        wake.set()
