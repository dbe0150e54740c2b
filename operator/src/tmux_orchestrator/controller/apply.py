"""Writing a TeamPlan to the API server, in the order core.plan prescribes, and posting Events.

Every write is counted (metrics.API_WRITES) and its response put into the caches (read-your-writes), so
the next pass plans from what was written even before the watch delivers it. The first failure stops the
pass: the caller re-observes and plans again, never retrying a stale plan.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from tmux_orchestrator.api.constants import API_VERSION
from tmux_orchestrator.core import EventType, TeamEvent, TeamPlan
from tmux_orchestrator.core.naming import short_hash
from tmux_orchestrator.kube.client import Kube, KubeObject, Resource, is_already_exists

from .cache import ObjectKey, object_key
from .metrics import Verb, count_write
from .observe import ClusterCaches, agent_node

log = logging.getLogger(__name__)

REPORTER: Final = "operator"
_POSTED_MEMORY: Final = 8192
"""Names of recently posted events remembered, so a level-triggered event costs one request, not one per
pass (after a restart each is attempted once more and answered AlreadyExists)."""
_EVENTS = "events"
_REVISIONS = "controllerrevisions"


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


class EventPoster:
    """Posts named (hence deduplicated) Events and remembers what it posted."""

    def __init__(self, kube: Kube) -> None:
        self._kube = kube
        self._posted: OrderedDict[str, None] = OrderedDict()

    async def post(
        self,
        regarding: Mapping[str, Any],
        *,
        name: str,
        type_: EventType,
        reason: str,
        action: str,
        note: str,
    ) -> None:
        if name in self._posted:
            return
        count_write(Verb.CREATE, _EVENTS)
        created = await self._kube.emit_event(
            regarding,
            type_=type_.value,
            reason=reason,
            note=note,
            action=action,
            reporter=REPORTER,
            now=datetime.now(UTC),
            name=name,
        )
        if created:
            log.info("event %s %s on %s: %s", type_.value, reason, regarding["metadata"]["name"], note)
        self._posted[name] = None
        while len(self._posted) > _POSTED_MEMORY:
            self._posted.popitem(last=False)

    async def post_team_event(self, team: Mapping[str, Any], event: TeamEvent, caches: ClusterCaches) -> None:
        meta = team["metadata"]
        regarding: Mapping[str, Any] = team
        if event.regarding_name is not None:
            agent = caches.agents.get(ObjectKey(meta["namespace"], event.regarding_name))
            uid = (agent or {}).get("metadata", {}).get("uid")
            regarding = reference(event.regarding_kind, meta["namespace"], event.regarding_name, uid)
        await self.post(
            regarding,
            name=event.object_name(event.regarding_name or meta["name"]),
            type_=event.type,
            reason=event.reason.value,
            action=event.action.value,
            note=event.message,
        )

    async def post_lifecycle(
        self, team: Mapping[str, Any], reason: AgentLifecycle, agent: str, occasion: str, note: str
    ) -> None:
        name = team["metadata"]["name"]
        await self.post(
            team,
            name=f"{name}.{short_hash(reason, agent, occasion)}",
            type_=EventType.NORMAL,
            reason=reason.value,
            action=_LIFECYCLE_ACTIONS[reason],
            note=note,
        )


async def apply_team_plan(
    kube: Kube, caches: ClusterCaches, events: EventPoster, plan: TeamPlan, team: KubeObject
) -> None:
    """Write `plan` (made from `team` as observed). Raises the first API error."""
    namespace = plan.namespace
    # 1. Revisions first: a rollout's target template must be on record before anything refers to it.
    for body in plan.revision_bodies():
        count_write(Verb.CREATE, _REVISIONS)
        try:
            caches.revisions.put(await kube.create_controller_revision(body))
        except Exception as error:
            if not is_already_exists(error):
                raise
    for renumber in plan.revisions.to_renumber:
        count_write(Verb.PATCH, _REVISIONS)
        patch = {"revision": renumber.number}
        caches.revisions.put(await kube.patch_controller_revision(renumber.name, namespace, patch))

    # 2. Status, fenced by the resourceVersion the plan was made from: a 409 drops the whole plan.
    if plan.status_patch is not None:
        count_write(Verb.PATCH_STATUS, Resource.AGENT_TEAMS)
        resource_version = (plan.status_patch.get("metadata") or {}).get("resourceVersion")
        team = await kube.patch_status(
            Resource.AGENT_TEAMS,
            plan.team,
            plan.status_patch["status"],
            namespace,
            resource_version=resource_version,
        )
        caches.teams.put(team)

    # 3. Notifications: named after their cause, so AlreadyExists means already sent.
    for body in plan.message_bodies():
        count_write(Verb.CREATE, Resource.AGENT_MESSAGES)
        try:
            caches.messages.put(await kube.create(Resource.AGENT_MESSAGES, body, namespace))
        except Exception as error:
            if not is_already_exists(error):
                raise

    # 4. Agents. An AlreadyExists on create means the cache lags: stop and re-observe.
    for body in plan.agent_bodies():
        count_write(Verb.CREATE, Resource.AGENTS)
        created = await kube.create(Resource.AGENTS, body, namespace)
        caches.agents.put(created)
        node = agent_node(created) or "no node yet"
        await events.post_lifecycle(
            team,
            AgentLifecycle.CREATED,
            object_key(created).name,
            str(created["metadata"].get("uid")),
            f"created agent {object_key(created).name} ({node}, revision {created['spec']['revision']})",
        )
    for update in plan.agents_to_update:
        before = caches.agents.get(ObjectKey(namespace, update.name))
        count_write(Verb.PATCH, Resource.AGENTS)
        updated = await kube.patch(Resource.AGENTS, update.name, dict(update.patch), namespace)
        caches.agents.put(updated)
        log.info("agent %s/%s updated: %s", namespace, update.name, ", ".join(update.changes))
        if "node" in update.changes:
            old, new = agent_node(before or {}), agent_node(updated)
            await events.post_lifecycle(
                team,
                AgentLifecycle.RESCHEDULED,
                update.name,
                f"{(before or {}).get('metadata', {}).get('resourceVersion')}/{new}",
                f"moved agent {update.name} from node {old or '-'} to node {new or '-'}",
            )
    for deletion in plan.agents_to_delete:
        count_write(Verb.DELETE, Resource.AGENTS)
        await kube.delete(Resource.AGENTS, deletion.name, namespace, uid=deletion.uid)
        await events.post_lifecycle(
            team, AgentLifecycle.DELETED, deletion.name, deletion.uid, f"deleted agent {deletion.name}"
        )

    # 5. The plan's own events (transitions and levels, named after their occasion).
    for event in plan.events:
        await events.post_team_event(team, event, caches)

    # 6. Cleanup of history beyond its limits.
    for name in plan.revisions.to_delete:
        count_write(Verb.DELETE, _REVISIONS)
        await kube.delete_controller_revision(name, namespace)
    for name in plan.messages_to_delete:
        count_write(Verb.DELETE, Resource.AGENT_MESSAGES)
        await kube.delete(Resource.AGENT_MESSAGES, name, namespace)
