"""Builders of observed objects for the core's tests: everything relative to one fixed instant."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tmux_orchestrator.api import (
    Activity,
    AgentPhase,
    AgentStatus,
    AgentTeamSpec,
    Condition,
    ConditionStatus,
    TmuxNodeSpec,
    TmuxNodeStatus,
)
from tmux_orchestrator.core.agents import AgentKey, AgentView
from tmux_orchestrator.core.clock import format_time
from tmux_orchestrator.core.naming import (
    ANNOTATION_RESTARTS_AT_UPDATE,
    ANNOTATION_REVISION_UPDATED_AT,
    agent_name,
)
from tmux_orchestrator.core.observed import ObservedAgent, ObservedNode
from tmux_orchestrator.core.plan import agent_spec
from tmux_orchestrator.core.templates import team_templates, template_revision

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
TEAM = "web"
UID = "team-uid"


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def stamp(seconds: float) -> str:
    return format_time(at(seconds))


def member(name: str, replicas: int = 1, role: str = "developer", **fields: Any) -> dict[str, Any]:
    return {"name": name, "role": role, "replicas": replicas, "command": ["claude"], **fields}


def team_spec(*members: dict[str, Any], **fields: Any) -> AgentTeamSpec:
    """A team spec; by default a PM and three developers."""
    chosen = list(members) or [member("pm", role="pm", briefing="Lead the team."), member("dev", 3)]
    return AgentTeamSpec.model_validate({"members": chosen, **fields})


def node(
    name: str = "node-a",
    *,
    renewed: float | None = 0,
    capacity: int = 100,
    agents: int = 0,
    labels: Mapping[str, str] | None = None,
    unschedulable: bool = False,
    tmux_ready: bool | None = None,
) -> ObservedNode:
    """A TmuxNode whose Lease was renewed `renewed` seconds from NOW (None: no Lease)."""
    conditions = None
    if tmux_ready is not None:
        value = ConditionStatus.TRUE if tmux_ready else ConditionStatus.FALSE
        conditions = [Condition(type="Ready", status=value)]
    return ObservedNode(
        name=name,
        spec=TmuxNodeSpec(capacity=capacity, unschedulable=unschedulable),
        status=TmuxNodeStatus(conditions=conditions),
        labels=dict(labels or {}),
        lease_renewed_at=None if renewed is None else at(renewed),
        lease_duration_seconds=40,
        agent_count=agents,
    )


def agent_status(
    *,
    revision: str,
    node_name: str | None = "node-a",
    phase: AgentPhase = AgentPhase.RUNNING,
    ready: bool | None = None,
    ready_since: float | None = -3600,
    started: float | None = -3600,
    restarts: int = 0,
    activity: Activity | None = Activity.BUSY,
    active_since: float | None = -10,
    restarted_at: str | None = None,
) -> AgentStatus:
    is_ready = phase is AgentPhase.RUNNING if ready is None else ready
    conditions = (
        [Condition(type="Ready", status=ConditionStatus.TRUE, last_transition_time=stamp(ready_since))]
        if is_ready and ready_since is not None
        else None
    )
    return AgentStatus(
        phase=phase,
        ready=is_ready,
        revision=revision,
        node=node_name,
        restart_count=restarts,
        started_at=None if started is None else stamp(started),
        activity=activity,
        last_activity_time=None if active_since is None else stamp(active_since),
        restarted_at=restarted_at,
        conditions=conditions,
    )


def observed_agent(
    spec: AgentTeamSpec,
    member_name: str,
    ordinal: int,
    *,
    revision: str | None = None,
    node_name: str | None = "node-a",
    status: AgentStatus | bool | None = True,
    annotations: Mapping[str, str] | None = None,
    updated: float = -3600,
    baseline: int = 0,
    controller: str | None = UID,
    **status_fields: Any,
) -> ObservedAgent:
    """An Agent the operator created for `member_name`/`ordinal` at `revision` (default: the spec's),
    with a node-agent status running that revision (status=True), the given status, or none."""
    templates = team_templates(spec)
    revision = revision or template_revision(templates)
    index, found = next((i, m) for i, m in enumerate(spec.members) if m.name == member_name)
    key = AgentKey(agent_name(TEAM, member_name, ordinal), member_name, index, ordinal, found.role)
    if status is True:
        status = agent_status(revision=revision, node_name=node_name, **status_fields)
    return ObservedAgent(
        name=key.name,
        spec=agent_spec(
            TEAM,
            spec=spec,
            key=key,
            revision=revision,
            template=templates[member_name],
            node=node_name,
            restarted_at=None,
        ),
        status=status or None,
        uid=f"uid-{key.name}",
        resource_version="1",
        annotations={
            ANNOTATION_REVISION_UPDATED_AT: stamp(updated),
            ANNOTATION_RESTARTS_AT_UPDATE: str(baseline),
            **(annotations or {}),
        },
        controller_uid=controller,
        owner_references=({"uid": controller, "controller": True},) if controller else (),
    )


def view(agent: ObservedAgent | None, *, key: AgentKey | None = None, live: bool = True) -> AgentView:
    """An AgentView of `agent` (or of a declared agent not created yet, given its key)."""
    if key is None:
        assert agent is not None
        spec = agent.spec
        key = AgentKey(agent.name, spec.member, 0 if spec.role == "pm" else 1, spec.ordinal, spec.role)
    return AgentView(key, agent, live and agent is not None and agent.spec.node_name is not None)


def pm_key(ordinal: int = 0) -> AgentKey:
    return AgentKey(agent_name(TEAM, "pm", ordinal), "pm", 0, ordinal, "pm")


def dev_key(ordinal: int) -> AgentKey:
    return AgentKey(agent_name(TEAM, "dev", ordinal), "dev", 1, ordinal, "developer")
