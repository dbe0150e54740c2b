"""Agents no node fits: the status and event a Pod gets from the scheduler (pure).

One writer per field, with a second exception beside Lost (core.lost): an Agent without spec.nodeName has
no node agent to report it, so the operator writes its status — phase Pending, Scheduled=False reason
Unschedulable with the scheduler's reason as the message — and a FailedScheduling event. The node agent
that gets the agent overwrites the whole status with what it observes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from tmux_orchestrator.api.agent import AgentPhase, AgentStatus
from tmux_orchestrator.api.common import ConditionStatus

from .agents import AgentView
from .conditions import build_condition, find_condition
from .events import EventReason, TeamEvent, team_event
from .patch import merge_patch
from .scheduling import ScheduleDecision

UNSCHEDULABLE: Final = "Unschedulable"


@dataclass(frozen=True)
class AgentStatusWrite:
    """A merge patch for one Agent's status subresource."""

    name: str
    patch: Mapping[str, Any]


def unschedulable_message(schedule: ScheduleDecision, unplaced: int) -> str:
    """Why the agent has no node: the scheduler's reason, or the team's node being full."""
    if schedule.node is None:
        return schedule.message or "no TmuxNode fits the team"
    return (
        f"no room on node {schedule.node}, where the team runs: {schedule.free_slots} slot(s) for "
        f"this team, {unplaced} agent(s) left without one"
    )


def pending_status(
    *, generation: int, message: str, previous: AgentStatus | None, now: datetime
) -> AgentStatus:
    """What `kubectl get agent` shows for an agent waiting for a node: Pending, not Ready, not Scheduled;
    Reconciling=True so kstatus reads it as InProgress (waiting), never Current."""
    before = previous.conditions if previous else None

    def condition(kind: str, value: bool, text: str) -> Any:
        status = ConditionStatus.TRUE if value else ConditionStatus.FALSE
        return build_condition(
            previous=before,
            kind=kind,
            status=status,
            reason=UNSCHEDULABLE,
            message=text,
            generation=generation,
            now=now,
        )

    return AgentStatus(
        observed_generation=generation,
        phase=AgentPhase.PENDING,
        ready=False,
        conditions=[
            condition("Ready", False, message),
            condition("Scheduled", False, message),
            condition("Reconciling", True, f"waiting for a node: {message}"),
            condition("Stalled", False, "waiting for a node, not stuck"),
        ],
    )


def plan_unscheduled_agents(
    views: Sequence[AgentView],
    placement: Mapping[str, str | None],
    schedule: ScheduleDecision,
    now: datetime,
) -> tuple[list[AgentStatusWrite], list[TeamEvent]]:
    """Status patches and FailedScheduling events for existing agents this pass leaves without a node."""
    unplaced = [v for v in views if v.observed is not None and placement.get(v.name) is None]
    writes: list[AgentStatusWrite] = []
    events: list[TeamEvent] = []
    message = unschedulable_message(schedule, len(unplaced))
    for view in unplaced:
        agent = view.observed
        assert agent is not None
        status = pending_status(generation=agent.generation, message=message, previous=agent.status, now=now)
        before = agent.status.to_wire() if agent.status else {}
        patch = merge_patch(before, status.to_wire())
        if patch:
            writes.append(AgentStatusWrite(view.name, patch))
        scheduled = find_condition(agent.status.conditions if agent.status else None, "Scheduled")
        if scheduled is None or scheduled.status is not ConditionStatus.FALSE or scheduled.message != message:
            # When the reason first appears or changes, like the scheduler's event for a Pod.
            event = team_event(EventReason.FAILED_SCHEDULING, message, occasion=message, agent=view.name)
            events.append(event)
    return writes, events
