"""The operator's pure core: observe → plan → apply, with planning as pure functions of what was observed.

The I/O layer builds an `Observed` (from_object readers turn raw API objects into its parts), calls
`plan_team`, and applies the returned `TeamPlan` in the order its module docstring gives. Nothing here
reads a clock, the network, tmux or the environment.
"""

from __future__ import annotations

from .agents import AgentKey, AgentView
from .conditions import ConditionReason, ConditionType
from .events import EventAction, EventReason, EventType, TeamEvent
from .naming import (
    ANNOTATION_BRIEFED_INCARNATION,
    ANNOTATION_RESTARTS_AT_UPDATE,
    ANNOTATION_REVISION_UPDATED_AT,
    LABEL_ABOUT,
    LABEL_AGENT,
    LABEL_NOTIFICATION,
    agent_labels,
    agent_name,
    owner_reference,
    session_name,
    window_name,
)
from .notifications import Notification, NotificationKind
from .observed import (
    DEFAULT_LEASE_SECONDS,
    Observed,
    ObservedAgent,
    ObservedMessage,
    ObservedNode,
    ObservedRevision,
    ObservedTeam,
)
from .plan import AgentDeletion, AgentUpdate, DesiredAgent, TeamPlan, plan_team
from .rollout import RolloutPhase, RolloutPolicy, RolloutStep, agents_for_weight
from .scheduling import ScheduleDecision, SchedulingReason, schedule_team
from .templates import (
    RevisionHistoryPlan,
    RevisionObject,
    RevisionRenumber,
    team_templates,
    template_revision,
)

__all__ = [
    "ANNOTATION_BRIEFED_INCARNATION",
    "ANNOTATION_RESTARTS_AT_UPDATE",
    "ANNOTATION_REVISION_UPDATED_AT",
    "DEFAULT_LEASE_SECONDS",
    "LABEL_ABOUT",
    "LABEL_AGENT",
    "LABEL_NOTIFICATION",
    "AgentDeletion",
    "AgentKey",
    "AgentUpdate",
    "AgentView",
    "ConditionReason",
    "ConditionType",
    "DesiredAgent",
    "EventAction",
    "EventReason",
    "EventType",
    "Notification",
    "NotificationKind",
    "Observed",
    "ObservedAgent",
    "ObservedMessage",
    "ObservedNode",
    "ObservedRevision",
    "ObservedTeam",
    "RevisionHistoryPlan",
    "RevisionObject",
    "RevisionRenumber",
    "RolloutPhase",
    "RolloutPolicy",
    "RolloutStep",
    "ScheduleDecision",
    "SchedulingReason",
    "TeamEvent",
    "TeamPlan",
    "agent_labels",
    "agent_name",
    "agents_for_weight",
    "owner_reference",
    "plan_team",
    "schedule_team",
    "session_name",
    "team_templates",
    "template_revision",
    "window_name",
]
