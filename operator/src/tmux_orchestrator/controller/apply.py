"""Writing a TeamPlan to the API server, in the order core.plan prescribes, and posting Events.

Every write is counted by Kube itself (its on_write is metrics.count_write) and its response put into the
caches (read-your-writes), so the next pass plans from what was written even before the watch delivers it.
The first failure stops the pass: the caller re-observes and plans again, never retrying a stale plan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Iterable, Iterator, Mapping
from enum import StrEnum
from typing import Any, Final

from tmux_orchestrator.api.constants import API_VERSION, GROUP
from tmux_orchestrator.core import AgentDeletion, AgentUpdate, EventType, Notification, TeamEvent, TeamPlan
from tmux_orchestrator.core.naming import short_hash
from tmux_orchestrator.core.unscheduled import AgentStatusWrite
from tmux_orchestrator.kube.client import (
    ApiError,
    Kube,
    KubeObject,
    Resource,
    is_already_exists,
    is_not_found,
)
from tmux_orchestrator.kube.events import EventRecorder

from .cache import ObjectKey, object_key
from .observe import ClusterCaches, agent_node

log = logging.getLogger(__name__)

REPORTER: Final = "operator"
COMPONENT: Final = "tmux-orchestrator-operator"
"""`kubectl describe` shows this in the From column."""
_CONCURRENT_WRITES: Final = 8
"""Writes of one step of one pass in flight at once."""


class AgentLifecycle(StrEnum):
    """Events about the agents of a team, posted on the team like a ReplicaSet's SuccessfulCreate."""

    CREATED = "AgentCreated"
    DELETED = "AgentDeleted"
    RESCHEDULED = "AgentRescheduled"


_LIFECYCLE_ACTIONS = {
    AgentLifecycle.CREATED: "Create",
    AgentLifecycle.DELETED: "Delete",
    AgentLifecycle.RESCHEDULED: "Schedule",
}


def reference(kind: str, namespace: str, name: str, uid: str | None) -> dict[str, Any]:
    """The minimal object an Event can be about."""
    return {
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": {"name": name, "namespace": namespace, "uid": uid},
    }


class EventPoster(EventRecorder):
    """The operator's Events: named (hence deduplicated), posted from a background queue; one that could not
    be posted is forgotten, so the next pass that wants it tries again."""

    def __init__(self, kube: Kube, workers: int = 4) -> None:
        super().__init__(kube, controller=f"{GROUP}/{REPORTER}", component=COMPONENT, workers=workers)

    def post_team_event(self, team: Mapping[str, Any], event: TeamEvent, caches: ClusterCaches) -> None:
        meta = team["metadata"]
        regarding: Mapping[str, Any] = team
        if event.regarding_name is not None:
            agent = caches.agents.get(ObjectKey(meta["namespace"], event.regarding_name))
            uid = (agent or {}).get("metadata", {}).get("uid")
            regarding = reference(event.regarding_kind, meta["namespace"], event.regarding_name, uid)
        self.post(
            regarding,
            name=event.object_name(event.regarding_name or meta["name"]),
            type_=event.type.value,
            reason=event.reason.value,
            action=event.action.value,
            note=event.message,
        )

    def post_lifecycle(
        self, team: Mapping[str, Any], reason: AgentLifecycle, agent: str, occasion: str, note: str
    ) -> None:
        name = team["metadata"]["name"]
        self.post(
            team,
            name=f"{name}.{short_hash(reason, agent, occasion)}",
            type_=EventType.NORMAL.value,
            reason=reason.value,
            action=_LIFECYCLE_ACTIONS[reason],
            note=note,
        )


async def _concurrently(writes: Iterable[Awaitable[None]]) -> None:
    """Independent writes of one step at once (bounded); the first error is raised once all have ended."""
    limit = asyncio.Semaphore(_CONCURRENT_WRITES)

    async def bounded(write: Awaitable[None]) -> None:
        async with limit:
            await write

    results = await asyncio.gather(*(bounded(write) for write in writes), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def apply_team_plan(
    kube: Kube, caches: ClusterCaches, events: EventPoster, plan: TeamPlan, team: KubeObject
) -> None:
    """Write `plan` (made from `team` as observed), step by step in the order core.plan prescribes. The
    writes within a step are independent and go out together; a failed step ends the pass with its error
    (the caller re-observes and plans again)."""
    writer = _PlanWriter(kube, caches, events, plan, team)
    with writer.room_held():
        await _write_steps(writer)


async def _write_steps(writer: _PlanWriter) -> None:
    plan = writer.plan
    # 1. Revisions first: a rollout's target template must be on record before anything refers to it.
    await writer.write_revisions()
    # 2. Status, fenced by the resourceVersion the plan was made from: a 409 drops the whole plan.
    await writer.write_status()
    # 3. Notifications: named after their cause, so AlreadyExists means already sent.
    await _concurrently(map(writer.send_notification, plan.message_bodies(), plan.messages_to_send))
    # 4. Agents. An AlreadyExists on create means the cache lags: the pass ends and re-observes.
    await _concurrently(
        [
            *map(writer.create_agent, writer.agent_bodies),
            *map(writer.update_agent, plan.agents_to_update),
            *map(writer.delete_agent, plan.agents_to_delete),
            *map(writer.write_agent_status, plan.agent_statuses),
        ]
    )
    # 5. The plan's own events (transitions and levels, named after their occasion).
    for event in plan.events:
        writer.events.post_team_event(writer.team, event, writer.caches)
    # 6. Cleanup of history beyond its limits.
    await _concurrently(
        [
            *map(writer.delete_revision, plan.revisions.to_delete),
            *map(writer.delete_message, plan.messages_to_delete),
        ]
    )


def _moved_to(change: AgentUpdate) -> str | None:
    """The node an update moves its agent to (placing an unplaced one, or rescheduling), if it does."""
    if "node" not in change.changes:
        return None
    return agent_node(change.patch)


class _PlanWriter:
    """The writes of one TeamPlan, each counted and its response put into the caches."""

    def __init__(
        self, kube: Kube, caches: ClusterCaches, events: EventPoster, plan: TeamPlan, team: KubeObject
    ) -> None:
        self.kube, self.caches, self.events, self.plan, self.team = kube, caches, events, plan, team
        self.namespace = plan.namespace
        self.agent_bodies = plan.agent_bodies()
        self.placing: Counter[str] = Counter(
            node
            for node in [
                *(agent_node(body) for body in self.agent_bodies),
                *(_moved_to(change) for change in plan.agents_to_update),
            ]
            if node
        )
        """Nodes this plan puts agents on (creates, moves) and the cache does not show there yet."""

    @contextlib.contextmanager
    def room_held(self) -> Iterator[None]:
        """The room this plan takes counts against its nodes (`ClusterCaches.placing`) from before the first
        await, so a pass over another team sees it taken, until each agent is cached or the pass ends (what is
        still counted then was not written: its room is free again)."""
        self.caches.placing.update(self.placing)
        try:
            yield
        finally:
            for node, count in list(self.placing.items()):
                self._release(node, count)

    def _placed(self, node: str | None) -> None:
        """The cache now holds the agent written onto `node`: stop counting it as being placed."""
        if node:
            self._release(node, 1)

    def _release(self, node: str, count: int) -> None:
        count = min(count, self.placing[node])
        if count <= 0:
            return
        self.placing[node] -= count
        self.caches.placing[node] -= count
        if self.caches.placing[node] <= 0:
            del self.caches.placing[node]

    async def write_revisions(self) -> None:
        for body in self.plan.revision_bodies():
            try:
                self.caches.revisions.put(await self.kube.create_controller_revision(body))
            except Exception as error:
                if not is_already_exists(error):
                    raise
        for renumber in self.plan.revisions.to_renumber:
            patch = {"revision": renumber.number}
            self.caches.revisions.put(
                await self.kube.patch_controller_revision(renumber.name, self.namespace, patch)
            )

    async def write_status(self) -> None:
        status_patch = self.plan.status_patch
        if status_patch is None:
            return
        self.team = await self.kube.patch_status(
            Resource.AGENT_TEAMS,
            self.plan.team,
            status_patch["status"],
            self.namespace,
            resource_version=(status_patch.get("metadata") or {}).get("resourceVersion"),
        )
        self.caches.teams.put(self.team)

    async def send_notification(self, body: KubeObject, note: Notification) -> None:
        try:
            self.caches.messages.put(await self.kube.create(Resource.AGENT_MESSAGES, body, self.namespace))
        except Exception as error:
            if not is_already_exists(error):
                raise
            return
        log.info("notification %s/%s (%s) sent to %s", self.namespace, note.name, note.kind, note.spec.agent)

    async def create_agent(self, body: KubeObject) -> None:
        created = await self.kube.create(Resource.AGENTS, body, self.namespace)
        self.caches.agents.put(created)
        self._placed(agent_node(body))
        name, node = object_key(created).name, agent_node(created) or "no node yet"
        note = f"created agent {name} ({node}, revision {created['spec']['revision']})"
        uid = str(created["metadata"].get("uid"))
        self.events.post_lifecycle(self.team, AgentLifecycle.CREATED, name, uid, note)

    async def update_agent(self, change: AgentUpdate) -> None:
        before = self.caches.agents.get(ObjectKey(self.namespace, change.name)) or {}
        updated = await self.kube.patch(Resource.AGENTS, change.name, dict(change.patch), self.namespace)
        self.caches.agents.put(updated)
        self._placed(_moved_to(change))
        log.info("agent %s/%s updated: %s", self.namespace, change.name, ", ".join(change.changes))
        if "node" in change.changes:
            old, new = agent_node(before), agent_node(updated)
            occasion = f"{before.get('metadata', {}).get('resourceVersion')}/{new}"
            note = f"moved agent {change.name} from node {old or '-'} to node {new or '-'}"
            self.events.post_lifecycle(self.team, AgentLifecycle.RESCHEDULED, change.name, occasion, note)

    async def write_agent_status(self, write: AgentStatusWrite) -> None:
        """Status of an agent no node fits (the one-writer exception of core.unscheduled)."""
        try:
            updated = await self.kube.patch_status(Resource.AGENTS, write.name, write.patch, self.namespace)
        except ApiError as error:
            if is_not_found(error):  # deleted meanwhile: nothing to report
                return
            raise
        self.caches.agents.put(updated)

    async def delete_agent(self, deletion: AgentDeletion) -> None:
        await self.kube.delete(Resource.AGENTS, deletion.name, self.namespace, uid=deletion.uid)
        note = f"deleted agent {deletion.name}"
        self.events.post_lifecycle(self.team, AgentLifecycle.DELETED, deletion.name, deletion.uid, note)

    async def delete_revision(self, name: str) -> None:
        await self.kube.delete_controller_revision(name, self.namespace)

    async def delete_message(self, name: str) -> None:
        await self.kube.delete(Resource.AGENT_MESSAGES, name, self.namespace)
