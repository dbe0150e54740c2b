"""Events a node agent posts about its Agents: each crash, the back-off before a restart, each start (pure).

Like the kubelet's: one Event object per agent and reason, counted up on every repeat (`xN` in `kubectl
describe` and `kubectl events`), so a crash loop reads as a few lines with counts, not hundreds of lines.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from .converge import ActionReason
from .restart import RestartAction, RestartDecision


class AgentEventReason(StrEnum):
    STARTED = "Started"
    CRASHED = "Crashed"
    COMPLETED = "Completed"  # a clean exit (status 0)
    BACK_OFF = "BackOff"
    FAILED = "Failed"  # the circuit breaker opened: no more restarts


_NORMAL = frozenset({AgentEventReason.STARTED, AgentEventReason.COMPLETED})
_ACTIONS = {
    AgentEventReason.STARTED: "Start",
    AgentEventReason.BACK_OFF: "Restart",
    AgentEventReason.FAILED: "Restart",
}


@dataclass(frozen=True)
class AgentEvent:
    reason: AgentEventReason
    note: str

    @property
    def type(self) -> str:
        return "Normal" if self.reason in _NORMAL else "Warning"

    @property
    def action(self) -> str:
        return _ACTIONS.get(self.reason, "Supervise")

    def object_name(self, agent: str, uid: str) -> str:
        """One Event object per agent (this incarnation of its name) and reason: repeats count it up."""
        digest = hashlib.sha256(f"{uid}/{self.reason}".encode()).hexdigest()[:10]
        return f"{agent}.{digest}"


def exit_events(decision: RestartDecision, crash_message: str, failed: bool) -> tuple[AgentEvent, ...]:
    """What an exit tells: how the process ended, then what the supervisor does about it."""
    ended = AgentEvent(AgentEventReason.CRASHED if failed else AgentEventReason.COMPLETED, crash_message)
    if decision.action is RestartAction.RESTART:
        note = f"Back-off {decision.delay_seconds:g}s restarting the agent's process ({decision.message})"
        return ended, AgentEvent(AgentEventReason.BACK_OFF, note)
    if decision.action is RestartAction.GIVE_UP:
        return ended, AgentEvent(AgentEventReason.FAILED, f"not restarted any more: {decision.message}")
    return (ended,)


_START_NOTES = {
    ActionReason.MISSING: "Started the agent's process",
    ActionReason.RESTART_DUE: "Restarted the agent's process after it exited",
    ActionReason.REVISION_CHANGED: "Started the agent's process with its new template",
    ActionReason.RESTART_REQUESTED: "Restarted the agent's process as spec.restartedAt asked",
}


def start_event(reason: ActionReason, restart_count: int, command: str) -> AgentEvent | None:
    """The Started event of a process the node agent just started; None for actions that start nothing."""
    note = _START_NOTES.get(reason)
    if note is None:
        return None
    suffix = f" (restart {restart_count})" if reason is ActionReason.RESTART_DUE else ""
    return AgentEvent(AgentEventReason.STARTED, f"{note}: {command}{suffix}")
