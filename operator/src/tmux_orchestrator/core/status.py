"""The AgentTeam status, computed from what was observed and decided in one pass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tmux_orchestrator.api.agent import AgentPhase
from tmux_orchestrator.api.common import Condition
from tmux_orchestrator.api.team import AgentTeamStatus, LastHandled, TeamPhase

from .agents import AgentView
from .conditions import ConditionReason, ConditionType, build_condition, find_condition
from .rollout import RolloutPhase, RolloutPolicy, RolloutState
from .scheduling import ScheduleDecision

_HUMAN_PAUSES = frozenset({ConditionReason.SPEC_PAUSED, ConditionReason.WAITING_FOR_PROMOTE})


@dataclass(frozen=True)
class TeamProgress:
    """Work of this pass that is not visible in the agents yet."""

    restarting: Sequence[str] = ()
    """Agents whose rolling restart is not finished."""
    creating: int = 0
    deleting: int = 0
    conflicts: Sequence[str] = ()
    """Declared agent names taken by an object the team does not own (or one being deleted)."""


@dataclass(frozen=True)
class _Verdict:
    active: bool
    reason: ConditionReason
    message: str = ""


def _names(agents: Sequence[AgentView]) -> str:
    shown = ", ".join(a.name for a in agents[:5])
    return shown + (f" and {len(agents) - 5} more" if len(agents) > 5 else "")


def _lost_nodes(agents: Sequence[AgentView], schedule: ScheduleDecision) -> str:
    """ "node X lost (Lease expired)" for the nodes the team lost, or "" — said even when the team is stalled
    for another reason, so the conditions never hide that the node is gone."""
    nodes = sorted(
        {a.node for a in agents if a.phase is AgentPhase.LOST and a.node} | {schedule.lost_node or ""}
    )
    nodes = [node for node in nodes if node]
    return "; ".join(f"node {node} lost (Lease expired)" for node in nodes)


def _stalled(agents: Sequence[AgentView], rollout: RolloutState, lost: str) -> _Verdict:
    """Stalled: nothing will improve without someone acting (kstatus Failed)."""
    suffix = f"; {lost}" if lost else ""
    if rollout.phase is RolloutPhase.ABORTED:
        return _Verdict(True, ConditionReason.ROLLOUT_ABORTED, rollout.message + suffix)
    if rollout.phase is RolloutPhase.HALTED:
        return _Verdict(True, ConditionReason.ROLLOUT_FAILED, rollout.message + suffix)
    failed = [a for a in agents if a.phase is AgentPhase.FAILED]
    if failed:
        message = f"{len(failed)} agent(s) Failed: {_names(failed)}{suffix}"
        return _Verdict(True, ConditionReason.AGENT_FAILED, message)
    refused = [(a.name, problem) for a in agents if (problem := a.workspace_problem) is not None]
    if refused:
        details = "; ".join(f"{name}: {p.reason}: {p.message or ''}".rstrip(": ") for name, p in refused[:3])
        more = f" and {len(refused) - 3} more" if len(refused) > 3 else ""
        message = f"{len(refused)} agent(s) cannot start in their workspace: {details}{more}{suffix}"
        return _Verdict(True, ConditionReason.WORKSPACE_NOT_READY, message)
    return _Verdict(False, ConditionReason.NO_FAILURE)


def _progressing(rollout: RolloutState, stalled: _Verdict, reconciling: _Verdict, ready: str) -> _Verdict:
    """Progressing agrees with the agents: a complete rollout is still progressing while agents are not
    Ready, and not progressing once one of them Failed. The reason is the rollout's record (see
    RolloutRecord.from_status), refined for a complete rollout."""
    if rollout.in_progress or rollout.phase is not RolloutPhase.COMPLETE:
        return _Verdict(
            rollout.in_progress,
            rollout.progressing_reason,
            rollout.message or f"revision {rollout.current_revision} rolled out",
        )
    if stalled.active:
        return _Verdict(False, ConditionReason.AGENT_FAILED, stalled.message)
    if reconciling.active:
        message = (
            f"revision {rollout.current_revision} rolled out; {ready} agents Ready: {reconciling.message}"
        )
        return _Verdict(True, ConditionReason.AGENTS_NOT_READY, message)
    return _Verdict(
        False, ConditionReason.ROLLOUT_COMPLETE, f"revision {rollout.current_revision} rolled out"
    )


def _reconciling(
    agents: Sequence[AgentView], rollout: RolloutState, schedule: ScheduleDecision, progress: TeamProgress
) -> _Verdict:
    """Reconciling: the operator or node agents are still working towards the spec (kstatus InProgress)."""
    if schedule.node is None:
        if schedule.lost_node:
            message = f"node {schedule.lost_node} lost (Lease expired); {schedule.message}"
            return _Verdict(True, ConditionReason.NODE_LOST, message)
        return _Verdict(True, ConditionReason.UNSCHEDULABLE, schedule.message)
    lost = [a for a in agents if a.phase is AgentPhase.LOST]
    if lost:
        return _Verdict(True, ConditionReason.NODE_LOST, f"{len(lost)} agent(s) Lost: {_names(lost)}")
    if progress.conflicts:
        names = ", ".join(progress.conflicts)
        return _Verdict(
            True, ConditionReason.NAME_CONFLICT, f"names taken by objects the team does not own: {names}"
        )
    unplaced = [a for a in agents if a.observed is not None and a.node is None]
    if unplaced:
        message = f"{len(unplaced)} agent(s) do not fit on node {schedule.node}: {_names(unplaced)}"
        return _Verdict(True, ConditionReason.UNSCHEDULABLE, message)
    if rollout.in_progress:
        return _Verdict(True, rollout.pause or ConditionReason.ROLLOUT_IN_PROGRESS, rollout.message)
    if progress.restarting:
        return _Verdict(True, ConditionReason.RESTARTING, f"restarting {len(progress.restarting)} agent(s)")
    if progress.creating or progress.deleting:
        message = f"creating {progress.creating}, deleting {progress.deleting} agent(s)"
        return _Verdict(True, ConditionReason.SCALING, message)
    waiting = [a for a in agents if not a.ready_at(rollout.current_revision)]
    if waiting:
        ready = len(agents) - len(waiting)
        message = (
            f"{ready}/{len(agents)} agents Ready on revision {rollout.current_revision}; "
            f"waiting for {_names(waiting)}"
        )
        return _Verdict(True, ConditionReason.AGENTS_NOT_READY, message)
    return _Verdict(False, ConditionReason.RECONCILED)


def _phase(
    agents: Sequence[AgentView], rollout: RolloutState, schedule: ScheduleDecision, reconciling: bool
) -> TeamPhase:
    phases = [a.phase for a in agents]
    if rollout.phase in (RolloutPhase.ABORTED, RolloutPhase.HALTED):
        return TeamPhase.DEGRADED
    if phases and all(p is AgentPhase.FAILED for p in phases):
        return TeamPhase.FAILED
    if AgentPhase.FAILED in phases or AgentPhase.LOST in phases:
        return TeamPhase.DEGRADED
    if any(a.workspace_problem is not None for a in agents):
        return TeamPhase.DEGRADED
    if schedule.node is None:
        return TeamPhase.PENDING
    if rollout.pause in _HUMAN_PAUSES:
        return TeamPhase.PAUSED
    return TeamPhase.PROGRESSING if reconciling else TeamPhase.RUNNING


def compute_team_status(
    *,
    previous: AgentTeamStatus,
    generation: int,
    agents: Sequence[AgentView],
    rollout: RolloutState,
    policy: RolloutPolicy,
    schedule: ScheduleDecision,
    last_handled: LastHandled,
    progress: TeamProgress,
    now: datetime,
) -> AgentTeamStatus:
    """Status of the team for `agents` (the declared ones, as observed) after this pass's decisions.
    lastTransitionTime of every condition is kept from `previous` unless its status flips."""
    ready = sum(1 for a in agents if a.ready)
    total = len(agents)
    stalled = _stalled(agents, rollout, _lost_nodes(agents, schedule))
    # kstatus reads Reconciling before Stalled: a stalled team must not also claim to be reconciling.
    reconciling = (
        _Verdict(False, stalled.reason, "stalled: see the Stalled condition")
        if stalled.active
        else _reconciling(agents, rollout, schedule, progress)
    )
    if stalled.active or reconciling.active:
        blocker = stalled if stalled.active else reconciling
        readiness = _Verdict(False, blocker.reason, blocker.message)
    else:
        message = f"{total} agent(s) Ready on revision {rollout.current_revision}"
        readiness = _Verdict(True, ConditionReason.RECONCILED, message)

    def condition(kind: ConditionType, verdict: _Verdict, restart: bool = False) -> Condition:
        return build_condition(
            previous=previous.conditions,
            kind=kind,
            status=verdict.active,
            reason=verdict.reason,
            message=verdict.message,
            generation=generation,
            now=now,
            restart=restart,
        )

    progressing = _progressing(rollout, stalled, reconciling, f"{ready}/{total}")
    before = find_condition(previous.conditions, ConditionType.PROGRESSING)
    # Progressing.lastTransitionTime is when a rollout started (RolloutRecord.started_at), also when the
    # condition was already True because agents were not Ready.
    rollout_started = (
        progressing.reason is ConditionReason.ROLLOUT_IN_PROGRESS
        and before is not None
        and before.reason != ConditionReason.ROLLOUT_IN_PROGRESS
    )

    available = ready == total
    conditions = [
        condition(ConditionType.READY, readiness),
        condition(ConditionType.RECONCILING, reconciling),
        condition(ConditionType.STALLED, stalled),
        condition(ConditionType.PROGRESSING, progressing, restart=rollout_started),
        condition(
            ConditionType.AVAILABLE,
            _Verdict(
                available,
                ConditionReason.ALL_AGENTS_READY if available else ConditionReason.AGENTS_NOT_READY,
                f"{ready}/{total} agents Ready",
            ),
        ),
        condition(
            ConditionType.PAUSED,
            _Verdict(True, rollout.pause, rollout.message)
            if rollout.pause
            else _Verdict(False, ConditionReason.NOT_PAUSED),
        ),
    ]
    return AgentTeamStatus(
        observed_generation=generation,
        phase=_phase(agents, rollout, schedule, reconciling.active),
        replicas=total,
        ready_replicas=ready,
        updated_replicas=sum(1 for a in agents if a.revision == rollout.current_revision),
        ready=f"{ready}/{total}",
        node=schedule.node or schedule.lost_node,
        current_revision=rollout.current_revision,
        stable_revision=rollout.stable_revision,
        rollout=rollout.to_status(policy),
        # Absent until a control annotation was handled: `kubectl describe` prints no empty section.
        last_handled=last_handled if last_handled.to_wire() else None,
        conditions=conditions,
    )
