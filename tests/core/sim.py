"""A simulated API server and node agents, holding plain objects: enough to run plan_team pass after pass
the way the I/O layer will (same apply order, resourceVersion preconditions, AlreadyExists on re-create).

Each pass builds a fresh Observed from the stored objects, so every pass is also what an operator that just
restarted would see."""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tmux_orchestrator.api import AgentTeamSpec
from tmux_orchestrator.core.clock import format_time
from tmux_orchestrator.core.events import TeamEvent
from tmux_orchestrator.core.observed import (
    Observed,
    ObservedAgent,
    ObservedMessage,
    ObservedNode,
    ObservedRevision,
    ObservedTeam,
)
from tmux_orchestrator.core.plan import TeamPlan, plan_team

from .builders import NOW, TEAM, UID

STAGES = ("revisions", "status", "messages", "agents", "events", "cleanup")


class Conflict(Exception):
    """HTTP 409: the object changed since it was read."""


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


@dataclass
class SimNode:
    name: str
    capacity: int = 100
    labels: dict[str, str] = field(default_factory=dict)
    alive: bool = True
    renewed: datetime = NOW
    other_agents: int = 0


@dataclass
class Cluster:
    team: dict[str, Any]
    nodes: dict[str, SimNode]
    now: datetime = NOW
    agents: dict[str, dict[str, Any]] = field(default_factory=dict)
    revisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, TeamEvent] = field(default_factory=dict)
    duplicate_events: int = 0
    agent_writes: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    version: int = 1

    @classmethod
    def create(cls, spec: AgentTeamSpec, *nodes: SimNode) -> Cluster:
        team = {
            "metadata": {
                "name": TEAM,
                "namespace": "ns",
                "uid": UID,
                "generation": 1,
                "resourceVersion": "1",
            },
            "spec": spec.to_wire(),
        }
        chosen = nodes or (SimNode("node-a"),)
        return cls(team=team, nodes={n.name: n for n in chosen})

    # -- what the operator observes ------------------------------------------------------------------------

    def observe(self) -> Observed:
        placed: dict[str, int] = {}
        for body in self.agents.values():
            name = body["spec"].get("nodeName")
            if name:
                placed[name] = placed.get(name, 0) + 1
        nodes = [
            ObservedNode.from_objects(
                {"metadata": {"name": n.name, "labels": n.labels}, "spec": {"capacity": n.capacity}},
                {"spec": {"renewTime": format_time(n.renewed), "leaseDurationSeconds": 40}},
                placed.get(n.name, 0) + n.other_agents,
            )
            for n in self.nodes.values()
        ]
        return Observed(
            team=ObservedTeam.from_object(self.team),
            now=self.now,
            agents=[ObservedAgent.from_object(body) for body in self.agents.values()],
            nodes=nodes,
            revisions=[ObservedRevision.from_object(body) for body in self.revisions.values()],
            messages=[ObservedMessage.from_object(body) for body in self.messages.values()],
        )

    def plan(self) -> TeamPlan:
        return plan_team(self.observe())

    # -- what the I/O layer does with a plan ---------------------------------------------------------------

    def _next_version(self) -> str:
        self.version += 1
        return str(self.version)

    def apply(self, plan: TeamPlan, *, stop_after: str | None = None) -> None:
        """Apply `plan` in the documented order; `stop_after` simulates a crash after that stage."""
        for stage in STAGES:
            getattr(self, f"_apply_{stage}")(plan)
            if stage == stop_after:
                return

    def _apply_revisions(self, plan: TeamPlan) -> None:
        for body in plan.revision_bodies():
            self.revisions.setdefault(body["metadata"]["name"], body)
        for renumber in plan.revisions.to_renumber:
            self.revisions[renumber.name]["revision"] = renumber.number

    def _apply_status(self, plan: TeamPlan) -> None:
        if plan.status_patch is None:
            return
        meta = self.team["metadata"]
        wanted = plan.status_patch.get("metadata", {}).get("resourceVersion")
        if wanted is not None and wanted != meta["resourceVersion"]:
            raise Conflict(TEAM)
        self.team = apply_merge_patch(self.team, {"status": plan.status_patch["status"]})
        self.team["metadata"]["resourceVersion"] = self._next_version()

    def _apply_messages(self, plan: TeamPlan) -> None:
        for body in plan.message_bodies():
            body["metadata"]["creationTimestamp"] = format_time(self.now)
            self.messages.setdefault(body["metadata"]["name"], body)

    def _apply_agents(self, plan: TeamPlan) -> None:
        for body in plan.agent_bodies():
            name = body["metadata"]["name"]
            if name in self.agents:
                continue  # AlreadyExists
            body["metadata"].update(uid=f"uid-{name}-{self.version}", generation=1)
            body["metadata"]["resourceVersion"] = self._next_version()
            self.agents[name] = body
            self.agent_writes.append((name, ("create",)))
        for update in plan.agents_to_update:
            current = self.agents[update.name]
            wanted = update.patch["metadata"].get("resourceVersion")
            if wanted is not None and wanted != current["metadata"]["resourceVersion"]:
                raise Conflict(update.name)
            patched = apply_merge_patch(current, update.patch)
            if patched["spec"] != current["spec"]:
                patched["metadata"]["generation"] = current["metadata"]["generation"] + 1
            patched["metadata"]["resourceVersion"] = self._next_version()
            self.agents[update.name] = patched
            self.agent_writes.append((update.name, update.changes))
        for write in plan.agent_statuses:
            current = self.agents[write.name]
            self.agents[write.name] = apply_merge_patch(current, {"status": dict(write.patch)})
            self.agents[write.name]["metadata"]["resourceVersion"] = self._next_version()
        for deletion in plan.agents_to_delete:
            if self.agents.get(deletion.name, {}).get("metadata", {}).get("uid") == deletion.uid:
                del self.agents[deletion.name]

    def _apply_events(self, plan: TeamPlan) -> None:
        for event in plan.events:
            if event.key in self.events:
                self.duplicate_events += 1
            self.events[event.key] = event

    def _apply_cleanup(self, plan: TeamPlan) -> None:
        for name in plan.revisions.to_delete:
            self.revisions.pop(name, None)
        for name in plan.messages_to_delete:
            self.messages.pop(name, None)

    def reconcile(self) -> TeamPlan:
        plan = self.plan()
        self.apply(plan)
        return plan

    # -- node agents and the passing of time ---------------------------------------------------------------

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        for sim_node in self.nodes.values():
            if sim_node.alive:
                sim_node.renewed = self.now

    def run_node_agents(self, *, crashing: Collection[str] = (), failed: Collection[str] = ()) -> None:
        """Each live node agent starts what its Agents' specs ask for and reports it Running and Ready;
        agents in `crashing` crash (restartCount + 1) and are restarted by the next call, those in `failed`
        are Failed."""
        when = format_time(self.now)
        for name, body in self.agents.items():
            spec = body["spec"]
            node_name = spec.get("nodeName")
            if node_name not in self.nodes or not self.nodes[node_name].alive:
                continue
            status = dict(body.get("status") or {})
            restart = (
                status.get("revision") != spec["revision"]
                or status.get("node") != node_name
                or status.get("restartedAt") != spec.get("restartedAt")
                or (status.get("phase") == "Crashed" and name not in crashing)
            )
            if restart:
                status.update(
                    revision=spec["revision"],
                    node=node_name,
                    startedAt=when,
                    phase="Running",
                    ready=True,
                    conditions=[{"type": "Ready", "status": "True", "lastTransitionTime": when}],
                    activity="Busy",
                    lastActivityTime=when,
                    restartCount=status.get("restartCount", 0),
                )
                if spec.get("restartedAt"):
                    status["restartedAt"] = spec["restartedAt"]
            if name in crashing:
                status.update(phase="Crashed", ready=False, restartCount=status.get("restartCount", 0) + 1)
                status["conditions"] = [{"type": "Ready", "status": "False", "lastTransitionTime": when}]
            if name in failed:
                status.update(phase="Failed", ready=False, lastExitCode=1, lastCrashReason="boom")
                status["conditions"] = [{"type": "Ready", "status": "False", "lastTransitionTime": when}]
            if status != body.get("status"):
                body["status"] = status
                body["metadata"]["resourceVersion"] = self._next_version()

    def settle(self, *, passes: int = 12, seconds: float = 0) -> TeamPlan:
        """Reconcile and run node agents until a pass writes nothing (time advancing `seconds` per pass)."""
        for _ in range(passes):
            plan = self.reconcile()
            self.run_node_agents()
            if plan.writes_nothing:
                return plan
            self.tick(seconds)
        raise AssertionError("the team did not settle")

    # -- what a user does ----------------------------------------------------------------------------------

    def edit_spec(self, **changes: Any) -> None:
        self.team["spec"] = {**self.team["spec"], **changes}
        meta = self.team["metadata"]
        meta["generation"] += 1
        meta["resourceVersion"] = self._next_version()

    def annotate(self, key: str, value: str) -> None:
        meta = self.team["metadata"]
        meta.setdefault("annotations", {})[key] = value
        meta["resourceVersion"] = self._next_version()

    # -- reading back --------------------------------------------------------------------------------------

    @property
    def status(self) -> dict[str, Any]:
        return dict(self.team.get("status") or {})

    def condition(self, kind: str) -> dict[str, Any]:
        return next(c for c in self.status["conditions"] if c["type"] == kind)

    def revision_of(self, name: str) -> str:
        return str(self.agents[name]["spec"]["revision"])

    def on_revision(self, revision: str) -> list[str]:
        return sorted(name for name in self.agents if self.revision_of(name) == revision)
