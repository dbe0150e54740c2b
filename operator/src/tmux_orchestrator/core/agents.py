"""How the operator reads one agent: its effective phase, readiness and crash history, from its spec,
its status (written by the node agent) and whether its node is alive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tmux_orchestrator.api.agent import Activity, AgentPhase, AgentStatus
from tmux_orchestrator.api.common import Condition, ConditionStatus
from tmux_orchestrator.api.constants import PM_ROLE
from tmux_orchestrator.api.workspace import WorkspaceStatus

from .clock import parse_time
from .naming import ANNOTATION_RESTARTS_AT_UPDATE, ANNOTATION_REVISION_UPDATED_AT
from .observed import ObservedAgent

_CRASHED = frozenset({AgentPhase.CRASHED, AgentPhase.FAILED})
# The node agent's condition on an Agent whose git workspace it is preparing or refuses to prepare.
WORKSPACE_CONDITION = "WorkspaceReady"
_WORKSPACE_PREPARING = "Preparing"


@dataclass(frozen=True)
class AgentKey:
    """One member replica the team declares."""

    name: str
    member: str
    member_index: int
    ordinal: int
    role: str

    @property
    def is_pm(self) -> bool:
        return self.role == PM_ROLE


@dataclass(frozen=True)
class AgentView:
    """A declared agent (`key`) with the object that exists for it, if any."""

    key: AgentKey
    observed: ObservedAgent | None
    node_live: bool
    """spec.nodeName names a node whose Lease is fresh."""

    @property
    def name(self) -> str:
        return self.key.name

    @property
    def revision(self) -> str | None:
        """Revision in the agent's spec; None while the agent does not exist yet."""
        return self.observed.spec.revision if self.observed else None

    @property
    def node(self) -> str | None:
        return self.observed.spec.node_name if self.observed else None

    @property
    def status(self) -> AgentStatus | None:
        """The node agent's status if it describes the current placement; a status written by the node
        the agent was moved away from says nothing about it any more."""
        if self.observed is None or self.observed.status is None:
            return None
        status = self.observed.status
        if status.node is not None and status.node != self.observed.spec.node_name:
            return None
        return status

    @property
    def phase(self) -> AgentPhase:
        if self.observed is None or self.observed.spec.node_name is None:
            return AgentPhase.PENDING
        if not self.node_live:
            return AgentPhase.LOST
        status = self.status
        return status.phase if status and status.phase else AgentPhase.PENDING

    @property
    def ready(self) -> bool:
        status = self.status
        return self.phase is AgentPhase.RUNNING and status is not None and status.ready is True

    @property
    def running_revision(self) -> str | None:
        status = self.status
        return status.revision if status else None

    def ready_at(self, revision: str) -> bool:
        return self.ready and self.revision == revision and self.running_revision == revision

    @property
    def ready_since(self) -> datetime | None:
        """When the agent last became Ready: its Ready condition's transition time, else its process start.
        None when ready but neither is reported (then minReadySeconds cannot be measured)."""
        status = self.status
        if not self.ready or status is None:
            return None
        condition = next((c for c in status.conditions or () if c.type == "Ready"), None)
        if condition is not None and condition.status is ConditionStatus.TRUE:
            since = parse_time(condition.last_transition_time)
            if since is not None:
                return since
        return parse_time(status.started_at)

    @property
    def updated_at(self) -> datetime | None:
        """When the operator moved the agent to its current revision (stamped in the same patch)."""
        return (
            parse_time(self.observed.annotations.get(ANNOTATION_REVISION_UPDATED_AT))
            if self.observed
            else None
        )

    @property
    def started_at(self) -> datetime | None:
        """Start of the process running the agent's current revision."""
        status = self.status
        if status is None or self.revision is None or status.revision != self.revision:
            return None
        return parse_time(status.started_at)

    @property
    def crashes_since_update(self) -> int:
        """Crashes of the process since the agent moved to its revision: restarts beyond the count stamped
        at the update, plus one while it is down (Crashed, or Failed and no longer restarted).

        Relies on status.restartCount counting restarts after the process exited, not restarts the operator
        asked for (template change, restartedAt, move)."""
        status = self.status
        if self.observed is None or status is None or status.revision != self.revision:
            return 0
        baseline_text = self.observed.annotations.get(ANNOTATION_RESTARTS_AT_UPDATE, "")
        restarts = status.restart_count or 0
        restarted = restarts - int(baseline_text) if baseline_text.isdigit() else 0
        return max(restarted, 0) + (1 if self.phase in _CRASHED else 0)

    @property
    def activity(self) -> Activity | None:
        status = self.status
        return status.activity if status else None

    @property
    def last_activity_time(self) -> datetime | None:
        status = self.status
        return parse_time(status.last_activity_time) if status else None

    @property
    def incarnation(self) -> str:
        """Identity of the running process: a restart or a move to another node changes it."""
        status = self.status
        if status is None:
            return ""
        return f"{status.node or ''}/{status.started_at or ''}/{status.restart_count or 0}"

    @property
    def workspace(self) -> WorkspaceStatus | None:
        status = self.status
        return status.workspace if status else None

    @property
    def workspace_problem(self) -> Condition | None:
        """The node agent's refusal to prepare this agent's workspace (it waits for someone to act)."""
        status = self.status
        found = (
            next((c for c in (status.conditions or ()) if c.type == WORKSPACE_CONDITION), None)
            if status
            else None
        )
        if found is None or found.status is not ConditionStatus.FALSE or found.reason == _WORKSPACE_PREPARING:
            return None
        return found
