"""Kubernetes Events as data. The I/O layer posts them after the status write of the same plan.

Each event has a deterministic `key`; posting it as the object named `<regarding>.<key>` turns a replayed
plan (operator restarted, stale cache) into AlreadyExists instead of a duplicate event.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .naming import AGENT_KIND, TEAM_KIND, short_hash


class EventType(StrEnum):
    NORMAL = "Normal"
    WARNING = "Warning"


class EventReason(StrEnum):
    SCHEDULED = "Scheduled"
    FAILED_SCHEDULING = "FailedScheduling"
    NODE_LOST = "NodeLost"
    RESCHEDULED = "Rescheduled"
    ROLLOUT_STARTED = "RolloutStarted"
    ROLLOUT_STEP_ADVANCED = "RolloutStepAdvanced"
    ROLLOUT_PAUSED = "RolloutPaused"
    ROLLOUT_PROMOTED = "RolloutPromoted"
    ROLLOUT_COMPLETED = "RolloutCompleted"
    ROLLOUT_REVERTED = "RolloutReverted"
    ROLLOUT_ABORTED = "RolloutAborted"
    ROLLOUT_FAILED = "RolloutFailed"
    RESTART_STARTED = "RestartStarted"
    AGENT_FAILED = "AgentFailed"


class EventAction(StrEnum):
    """events.k8s.io/v1 `action`: what the operator did or tried."""

    SCHEDULE = "Schedule"
    ROLLOUT = "Rollout"
    ROLLBACK = "Rollback"
    RESTART = "Restart"
    MONITOR = "Monitor"


_ACTIONS = {
    EventReason.SCHEDULED: EventAction.SCHEDULE,
    EventReason.FAILED_SCHEDULING: EventAction.SCHEDULE,
    EventReason.NODE_LOST: EventAction.SCHEDULE,
    EventReason.RESCHEDULED: EventAction.SCHEDULE,
    EventReason.ROLLOUT_ABORTED: EventAction.ROLLBACK,
    EventReason.ROLLOUT_REVERTED: EventAction.ROLLBACK,
    EventReason.RESTART_STARTED: EventAction.RESTART,
    EventReason.AGENT_FAILED: EventAction.MONITOR,
}
_WARNINGS = frozenset(
    {
        EventReason.FAILED_SCHEDULING,
        EventReason.NODE_LOST,
        EventReason.ROLLOUT_ABORTED,
        EventReason.ROLLOUT_FAILED,
        EventReason.AGENT_FAILED,
    }
)


@dataclass(frozen=True)
class TeamEvent:
    reason: EventReason
    message: str
    key: str
    regarding_kind: str = TEAM_KIND
    regarding_name: str | None = None
    """Name of the object the event is about; None means the team itself."""

    @property
    def type(self) -> EventType:
        return EventType.WARNING if self.reason in _WARNINGS else EventType.NORMAL

    @property
    def action(self) -> EventAction:
        return _ACTIONS.get(self.reason, EventAction.ROLLOUT)

    def object_name(self, regarding_name: str) -> str:
        return f"{regarding_name}.{self.key}"


def team_event(reason: EventReason, message: str, *, occasion: str, agent: str | None = None) -> TeamEvent:
    """An event about the team (or one of its agents). `occasion` tells two otherwise equal events apart:
    the transition time for a transition, the identity of a condition (e.g. a failure) for a level."""
    return TeamEvent(
        reason=reason,
        message=message,
        key=short_hash(reason, agent or "", message, occasion),
        regarding_kind=AGENT_KIND if agent else TEAM_KIND,
        regarding_name=agent,
    )
