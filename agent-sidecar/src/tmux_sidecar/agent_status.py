"""The Agent status a node agent reports, computed from what it observed (pure).

One writer per field: only the node agent of spec.nodeName writes Agent status. It writes only when the
computed status differs from the last one the API server has, so a steady agent costs no API writes.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from tmux_orchestrator.api import Activity, AgentPhase, AgentStatus, Condition, ConditionStatus, DesiredState

from .classification import CrashEvidence


@dataclass(frozen=True)
class PaneState:
    """What tmux says about the agent's pane; None when the window does not exist."""

    pane_id: str
    pid: int | None
    dead: bool
    exit_status: int | None = None
    exit_signal: int | None = None
    started_at: datetime.datetime | None = None


@dataclass(frozen=True)
class SupervisorFacts:
    """The restart supervisor's memory of this agent."""

    restart_count: int = 0
    failed: bool = False  # the circuit breaker is open
    last_exit_code: int | None = None
    last_crash_reason: str | None = None


def rfc3339(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def agent_phase(
    desired_state: DesiredState, process: PaneState | None, supervisor: SupervisorFacts, cli_ready: bool
) -> AgentPhase:
    if supervisor.failed:
        return AgentPhase.FAILED
    if process is None:
        return AgentPhase.STOPPED if desired_state is DesiredState.STOPPED else AgentPhase.PENDING
    if process.dead:
        return AgentPhase.CRASHED
    return AgentPhase.RUNNING if cli_ready else AgentPhase.STARTING


def compute_agent_status(
    *,
    generation: int | None,
    node: str,
    revision: str | None,
    desired_state: DesiredState,
    process: PaneState | None,
    supervisor: SupervisorFacts,
    activity: Activity,
    cli_ready: bool,
    previous: AgentStatus | None,
    now: datetime.datetime,
    briefed_revision: str | None = None,
    restarted_at: str | None = None,
) -> AgentStatus:
    """The full status; `previous` keeps timestamps stable while nothing they describe changed."""
    phase = agent_phase(desired_state, process, supervisor, cli_ready)
    alive = process is not None and not process.dead
    activity = activity if alive else Activity.UNKNOWN
    ready = phase is AgentPhase.RUNNING
    last_activity = (
        previous.last_activity_time
        if previous is not None and previous.activity is activity and previous.last_activity_time
        else rfc3339(now)
    )
    ready_condition = _condition(
        "Ready",
        ready,
        reason=phase.value,
        message=supervisor.last_crash_reason if phase in (AgentPhase.CRASHED, AgentPhase.FAILED) else None,
        previous=previous,
        now=now,
    )
    return AgentStatus(
        observed_generation=generation,
        phase=phase,
        activity=activity,
        ready=ready,
        restart_count=supervisor.restart_count,
        last_exit_code=supervisor.last_exit_code,
        last_crash_reason=supervisor.last_crash_reason,
        pane_id=process.pane_id if process else None,
        pid=process.pid if alive and process else None,
        revision=revision if process else None,
        node=node,
        last_activity_time=last_activity,
        started_at=rfc3339(process.started_at) if process and process.started_at else None,
        briefed_revision=briefed_revision,
        restarted_at=restarted_at,
        conditions=[ready_condition],
        # The agent's own report is written through the local API, not observed: it is kept as it is.
        report=previous.report if previous is not None else None,
    )


def reported_revision(*, spec_revision: str | None, runs_desired: bool, reported: str | None) -> str | None:
    """The spec's revision once the window runs the desired template; until then the last one reported."""
    return (spec_revision if runs_desired else None) or reported


def keep_started_at(
    status: AgentStatus, previous: AgentStatus | None, process: PaneState | None
) -> AgentStatus:
    """A live process we did not start ourselves (adopted after a restart) keeps the startedAt reported."""
    if status.started_at is None and previous is not None and process is not None and not process.dead:
        return status.model_copy(update={"started_at": previous.started_at})
    return status


def crash_line(crash: CrashEvidence, last_seen: tuple[str, ...]) -> str:
    """How the agent ended, with the last lines seen while it lived when tmux dropped its final output."""
    if not crash.last_lines and last_seen:
        crash = replace(crash, last_lines=last_seen)
    return crash.reason


def _condition(
    type_: str,
    value: bool,
    *,
    reason: str,
    message: str | None,
    previous: AgentStatus | None,
    now: datetime.datetime,
) -> Condition:
    status = ConditionStatus.TRUE if value else ConditionStatus.FALSE
    before = next((c for c in (previous.conditions or []) if c.type == type_), None) if previous else None
    transition = before.last_transition_time if before is not None and before.status is status else None
    return Condition(
        type=type_,
        status=status,
        reason=reason,
        message=message,
        last_transition_time=transition or rfc3339(now),
    )


def status_patch(previous: Mapping[str, Any] | None, current: AgentStatus) -> dict[str, Any] | None:
    """A merge patch turning `previous` (the wire status) into `current`, or None when nothing changed."""
    wanted = current.to_wire()
    before = dict(previous or {})
    patch: dict[str, Any] = {key: value for key, value in wanted.items() if before.get(key) != value}
    for key in before:
        if key not in wanted:
            patch[key] = None  # merge-patch deletion of a field that no longer applies
    return patch or None
