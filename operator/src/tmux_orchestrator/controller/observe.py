"""What the operator keeps in memory, and one team's `Observed` built from it.

Per team the core needs (see core.plan): the team; every Agent labelled with it (including ones being
deleted); every TmuxNode with its Lease and the number of Agents placed on it; the team's
ControllerRevisions; and the notifications the operator sent for it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tmux_orchestrator.api.constants import LABEL_NODE, LABEL_TEAM
from tmux_orchestrator.core import (
    LABEL_NOTIFICATION,
    Observed,
    ObservedAgent,
    ObservedMessage,
    ObservedNode,
    ObservedRevision,
    ObservedTeam,
)
from tmux_orchestrator.kube.client import NODE_LEASE_NAMESPACE, KubeObject, node_lease_name

from .cache import ObjectCache, ObjectKey, object_key
from .routing import target_agent

BY_TEAM = "team"
BY_NODE = "node"
BY_TARGET = "target"
NOTIFICATIONS_BY_TEAM = "notifications"


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def team_key(obj: Mapping[str, Any]) -> ObjectKey | None:
    """The team an Agent, ControllerRevision or AgentMessage belongs to, by its team label."""
    team = _labels(obj).get(LABEL_TEAM)
    return ObjectKey(object_key(obj).namespace, str(team)) if team else None


def _team_of(obj: KubeObject) -> Iterable[Hashable]:
    key = team_key(obj)
    return [key] if key else []


def agent_node(agent: Mapping[str, Any]) -> str | None:
    return (agent.get("spec") or {}).get("nodeName") or None


def _node_of_agent(agent: KubeObject) -> Iterable[Hashable]:
    node = agent_node(agent)
    return [node] if node else []


def _notification_team(message: KubeObject) -> Iterable[Hashable]:
    return _team_of(message) if _labels(message).get(LABEL_NOTIFICATION) else []


def _message_target(message: KubeObject) -> Iterable[Hashable]:
    name = target_agent(message.get("spec") or {})
    return [ObjectKey(object_key(message).namespace, name)] if name else []


def team_node(team: Mapping[str, Any]) -> str:
    """status.node; empty while the team is not placed (Pending, or never reconciled)."""
    return str((team.get("status") or {}).get("node") or "")


def _node_of_team(team: KubeObject) -> Iterable[Hashable]:
    return [team_node(team)]


def _node_of_lease(lease: KubeObject) -> Iterable[Hashable]:
    node = _labels(lease).get(LABEL_NODE)
    return [node] if node else []


@dataclass
class ClusterCaches:
    """Everything the operator watches (kopf's watch events, checked against our listings: listing.py)."""

    teams: ObjectCache = field(default_factory=lambda: ObjectCache("AgentTeam", {BY_NODE: _node_of_team}))
    agents: ObjectCache = field(
        default_factory=lambda: ObjectCache("Agent", {BY_TEAM: _team_of, BY_NODE: _node_of_agent})
    )
    nodes: ObjectCache = field(default_factory=lambda: ObjectCache("TmuxNode"))
    leases: ObjectCache = field(default_factory=lambda: ObjectCache("Lease", {BY_NODE: _node_of_lease}))
    revisions: ObjectCache = field(
        default_factory=lambda: ObjectCache("ControllerRevision", {BY_TEAM: _team_of})
    )
    messages: ObjectCache = field(
        default_factory=lambda: ObjectCache(
            "AgentMessage", {NOTIFICATIONS_BY_TEAM: _notification_team, BY_TARGET: _message_target}
        )
    )
    placing: Counter[str] = field(default_factory=Counter)
    """Agents a pass is writing onto each node (created or moved there) and the cache does not hold there
    yet. Passes over different teams run concurrently: like the kube-scheduler's assumed pods, these count
    against the node, or two teams placed at once take the same room."""

    @property
    def watched(self) -> tuple[ObjectCache, ...]:
        return (self.teams, self.agents, self.nodes, self.leases, self.revisions, self.messages)

    @property
    def synced(self) -> bool:
        return all(cache.synced for cache in self.watched)

    def node_lease(self, node: str) -> KubeObject | None:
        return self.leases.get(ObjectKey(NODE_LEASE_NAMESPACE, node_lease_name(node)))

    def teams_on_node(self, node: str) -> set[ObjectKey]:
        """Teams placed on `node` (status.node) or with an agent there."""
        keys = {object_key(team) for team in self.teams.lookup(BY_NODE, node)}
        keys.update(key for agent in self.agents.lookup(BY_NODE, node) if (key := team_key(agent)))
        return keys

    def unplaced_teams(self) -> set[ObjectKey]:
        """Teams without a node: they wait for one to appear, turn Ready or get room."""
        return {object_key(team) for team in self.teams.lookup(BY_NODE, "")}


def observed_node(caches: ClusterCaches, node: KubeObject) -> ObservedNode:
    name = object_key(node).name
    placed = caches.agents.count(BY_NODE, name) + caches.placing[name]
    return ObservedNode.from_objects(node, caches.node_lease(name), placed)


def lease_is_live(lease: KubeObject | None, now: datetime) -> bool:
    """The core's liveness rule applied to a Lease alone."""
    return lease is not None and ObservedNode.from_objects({}, lease, 0).is_live(now)


def observe_team(caches: ClusterCaches, key: ObjectKey, now: datetime) -> Observed | None:
    """The team's Observed from the caches; None when the team is gone. Raises pydantic's
    ValidationError for an object that does not match its schema."""
    team = caches.teams.get(key)
    if team is None:
        return None
    return Observed(
        team=ObservedTeam.from_object(team),
        now=now,
        agents=[ObservedAgent.from_object(agent) for agent in caches.agents.lookup(BY_TEAM, key)],
        nodes=[observed_node(caches, node) for node in caches.nodes],
        revisions=[ObservedRevision.from_object(rev) for rev in caches.revisions.lookup(BY_TEAM, key)],
        messages=[
            ObservedMessage.from_object(message)
            for message in caches.messages.lookup(NOTIFICATIONS_BY_TEAM, key)
        ],
    )
