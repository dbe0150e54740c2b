"""The API models: single source of truth for the CRDs and for reading objects at run time."""

from __future__ import annotations

from .agent import Activity, Agent, AgentPhase, AgentSpec, AgentStatus, AgentTemplate, DesiredState, TeamRef
from .common import ApiModel, Condition, ConditionStatus, EnvVar
from .constants import API_VERSION, GROUP, VERSION
from .message import (
    AgentMessage,
    AgentMessageSpec,
    AgentMessageStatus,
    DeliverWhen,
    DeliveryConfirmation,
    MessagePhase,
)
from .node import TmuxNode, TmuxNodeSpec, TmuxNodeStatus
from .team import (
    AgentTeam,
    AgentTeamSpec,
    AgentTeamStatus,
    Analysis,
    Canary,
    CanaryStep,
    LastHandled,
    Member,
    Monitoring,
    Placement,
    Recovery,
    RestartPolicy,
    RolloutStatus,
    Strategy,
    StrategyType,
    TeamPhase,
)
from .workspace import AgentWorkspace, Workspace, WorkspaceStatus, effective_workspace

__all__ = [
    "API_VERSION",
    "GROUP",
    "VERSION",
    "Activity",
    "Agent",
    "AgentMessage",
    "AgentMessageSpec",
    "AgentMessageStatus",
    "AgentPhase",
    "AgentSpec",
    "AgentStatus",
    "AgentTeam",
    "AgentTeamSpec",
    "AgentTeamStatus",
    "AgentTemplate",
    "AgentWorkspace",
    "Analysis",
    "ApiModel",
    "Canary",
    "CanaryStep",
    "Condition",
    "ConditionStatus",
    "DeliverWhen",
    "DeliveryConfirmation",
    "DesiredState",
    "EnvVar",
    "LastHandled",
    "Member",
    "MessagePhase",
    "Monitoring",
    "Placement",
    "Recovery",
    "RestartPolicy",
    "RolloutStatus",
    "Strategy",
    "StrategyType",
    "TeamPhase",
    "TeamRef",
    "TmuxNode",
    "TmuxNodeSpec",
    "TmuxNodeStatus",
    "Workspace",
    "WorkspaceStatus",
    "effective_workspace",
]
