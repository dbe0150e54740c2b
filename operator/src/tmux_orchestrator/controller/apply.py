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
from collections.abc import Awaitable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
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
from tmux_orchestrator.kube.events import MAX_MESSAGE, EventRecorder

from .cache import ObjectKey, object_key
from .observe import ClusterCaches, agent_node

log = logging.getLogger(__name__)

REPORTER: Final = "operator"
COMPONENT: Final = "tmux-orchestrator-operator"
"""`kubectl describe` shows this in the From column."""
_CONCURRENT_WRITES: Final = 8
"""Writes of one step of one pass in flight at once."""


class AgentLifecycle(StrEnum):
    """Events about the agents of a team, posted on the team like a ReplicaSet's SuccessfulCreate. The agents
    one pass created are one AgentCreated event naming them all (as a Deployment's ScalingReplicaSet is one
    event per scale, not one per pod): at 1,000 agents applied at once, an Event per agent was a fifth of
    all writes the API server took while the agents started."""

    CREATED = "AgentCreated"
    DELETED = "AgentDeleted"
    RESCHEDULED = "AgentRescheduled"


_LIFECYCLE_ACTIONS = {
    AgentLifecycle.CREATED: "Create",
    AgentLifecycle.DELETED: "Delete",
    AgentLifecycle.RESCHEDULED: "Schedule",
}


@dataclass(frozen=True)
class CreatedAgent:
    """An Agent a pass created: what its AgentCreated event says about it."""

    name: str
    node: str | None
    revision: str


def created_note(created: Sequence[CreatedAgent], limit: int = MAX_MESSAGE) -> str:
    """`created 3 agent(s): web-pm-0, web-dev-0 (node a, revision r); web-dev-1 (no node yet, revision r)`:
    every name, grouped by node and revision, within `limit` characters (the rest counted, not named)."""
    groups: dict[tuple[str | None, str], list[str]] = {}
    for agent in created:
        groups.setdefault((agent.node, agent.revision), []).append(agent.name)
    head, named = f"created {len(created)} agent(s)", 0
    segments: list[str] = []
    for (node, revision), names in groups.items():
        where = f" ({f'node {node}' if node else 'no node yet'}, revision {revision})"
        shown: list[str] = []
        for name in names:
            segment = ", ".join([*shown, name]) + where
            rest = len(created) - named - len(shown) - 1
            if len(_joined(head, [*segments, segment], rest)) > limit:
                break
            shown.append(name)
        if shown:
            segments.append(", ".join(shown) + where)
            named += len(shown)
        if len(shown) < len(names):
            break
    return _joined(head, segments, len(created) - named)


def _joined(head: str, segments: list[str], unnamed: int) -> str:
    text = head + (": " + "; ".join(segments) if segments else "")
    return text + (f"; and {unnamed} more" if segments and unnamed else "")


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

    def post_created(
        self, team: Mapping[str, Any], created: Sequence[CreatedAgent], uids: Iterable[str]
    ) -> None:
        """One AgentCreated event for the agents a pass created, named after their uids (a replayed pass
        cannot create them again, so no agent is ever named in two)."""
        name = team["metadata"]["name"]
        self.post(
            team,
            name=f"{name}.{short_hash(AgentLifecycle.CREATED, *sorted(uids))}",
            type_=EventType.NORMAL.value,
            reason=AgentLifecycle.CREATED.value,
            action=_LIFECYCLE_ACTIONS[AgentLifecycle.CREATED],
            note=created_note(created),
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
    try:
        await _concurrently(
            [
                *map(writer.create_agent, writer.agent_bodies),
                *map(writer.update_agent, plan.agents_to_update),
                *map(writer.delete_agent, plan.agents_to_delete),
                *map(writer.write_agent_status, plan.agent_statuses),
            ]
        )
    finally:
        writer.post_created()  # those created, even when another write of the step failed
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
        self.created: dict[str, CreatedAgent] = {}
        """Agents this pass created, by uid."""

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
        uid = str(created["metadata"].get("uid"))
        self.created[uid] = CreatedAgent(
            object_key(created).name, agent_node(created), str(created["spec"]["revision"])
        )

    def post_created(self) -> None:
        if self.created:
            self.events.post_created(self.team, list(self.created.values()), self.created)

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
