"""Agent: one agent process in one tmux window, the Pod of this system (DESIGN §3)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from .common import CONDITIONS_LIST, DNS_LABEL_PATTERN, ENV_LIST, SESSION_PATTERN, ApiModel, Condition, EnvVar
from .team import MemberTools, Monitoring, Recovery, RestartPolicy
from .workspace import AgentWorkspace, WorkspaceStatus


class AgentPhase(StrEnum):
    PENDING = "Pending"
    STARTING = "Starting"
    RUNNING = "Running"
    CRASHED = "Crashed"
    FAILED = "Failed"
    STOPPED = "Stopped"
    LOST = "Lost"


class Activity(StrEnum):
    BUSY = "Busy"
    IDLE = "Idle"
    WAITING_FOR_INPUT = "WaitingForInput"
    RATE_LIMITED = "RateLimited"
    UNKNOWN = "Unknown"


class ActivitySource(StrEnum):
    """Where status.activity came from: the CLI's own hooks, or reading its screen."""

    HOOK = "Hook"
    SCREEN = "Screen"


class ReportState(StrEnum):
    """What an agent says about its own work (`tmux-orchestrator team report STATE`)."""

    WORKING = "working"
    BLOCKED = "blocked"
    NEEDS_REVIEW = "needs-review"
    DONE = "done"


class DesiredState(StrEnum):
    RUNNING = "Running"
    STOPPED = "Stopped"


class TeamRef(ApiModel):
    """The AgentTeam an agent belongs to."""

    name: str = Field(max_length=253, description="Name of the AgentTeam in the same namespace.")


class AgentTemplate(ApiModel):
    """What runs in the agent's pane. Its hash is the template revision."""

    command: list[str] = Field(
        min_length=1,
        max_length=64,
        description="argv of the agent CLI.",
        json_schema_extra={"items": {"type": "string", "minLength": 1, "maxLength": 4096}},
    )
    env: list[EnvVar] | None = Field(
        default=None, description="Environment of the pane.", json_schema_extra=ENV_LIST
    )
    working_dir: str | None = Field(
        default=None, max_length=4096, description="Working directory of the pane."
    )
    profile: str = Field(
        default="claude-code", pattern=DNS_LABEL_PATTERN, max_length=63, description="Detector profile."
    )
    briefing: str | None = Field(
        default=None, max_length=65536, description="Typed in once the agent is ready."
    )
    tools: MemberTools | None = Field(default=None, description="Team tools given to the agent's CLI.")
    workspace: AgentWorkspace | None = Field(
        default=None, description="Git workspace; when set, the agent runs in it instead of workingDir."
    )


class AgentReport(ApiModel):
    """The agent's own account of its work, written by its node agent when the agent reports."""

    state: ReportState = Field(description="working, blocked, needs-review or done.")
    note: str | None = Field(default=None, max_length=4096, description="What the agent said with it.")
    time: str = Field(description="When the agent reported.", json_schema_extra={"format": "date-time"})


class AgentSpec(ApiModel):
    """Desired state of one agent, written by the operator."""

    team_ref: TeamRef = Field(description="Owning team.")
    member: str = Field(pattern=DNS_LABEL_PATTERN, max_length=63, description="Member of the team.")
    role: str = Field(default="developer", pattern=DNS_LABEL_PATTERN, max_length=63, description="Role.")
    ordinal: int = Field(ge=0, le=99, description="Replica ordinal within the member.")
    node_name: str | None = Field(
        default=None, max_length=253, description="TmuxNode that runs the agent; empty while unscheduled."
    )
    session: str = Field(pattern=SESSION_PATTERN, max_length=64, description="tmux session.")
    window: str = Field(pattern=SESSION_PATTERN, max_length=128, description="tmux window name.")
    revision: str = Field(max_length=63, description="Template revision this spec carries.")
    template: AgentTemplate = Field(description="What runs in the pane.")
    restart_policy: RestartPolicy = Field(
        default=RestartPolicy.ALWAYS, description="Always, OnFailure or Never."
    )
    recovery: Recovery = Field(default_factory=Recovery, description="Restart backoff and circuit breaker.")
    monitoring: Monitoring = Field(default_factory=Monitoring, description="Idle detection.")
    desired_state: DesiredState = Field(default=DesiredState.RUNNING, description="Running or Stopped.")
    restarted_at: str | None = Field(
        default=None,
        max_length=256,
        description=(
            "Changing this value restarts the agent once; the operator copies the team's annotation "
            "orchestrator.tmux.dev/restartedAt here during a rolling restart."
        ),
    )


class AgentStatus(ApiModel):
    """Observed state of one agent, written by the node agent of spec.nodeName only.

    Two exceptions, as the Kubernetes node lifecycle controller and scheduler make for Pods: the operator
    writes phase Lost when the node's Lease expired, and phase Pending with Scheduled=False while no node
    fits (spec.nodeName is empty, so no node agent owns the status)."""

    observed_generation: int | None = Field(default=None, description="Generation this status describes.")
    phase: AgentPhase | None = Field(
        default=None, description="Pending, Starting, Running, Crashed, Failed, Stopped, Lost."
    )
    activity: Activity | None = Field(
        default=None, description="Busy, Idle, WaitingForInput, RateLimited, Unknown."
    )
    activity_source: ActivitySource | None = Field(
        default=None,
        description=(
            "Hook when the CLI's hooks said so recently (they win), Screen when read from the pane."
        ),
    )
    last_assistant_message: str | None = Field(
        default=None,
        description="The agent's last answer as its Stop hook reported it, trimmed.",
    )
    ready: bool | None = Field(default=None, description="The agent process runs and its CLI is up.")
    restart_count: int | None = Field(default=None, ge=0, description="Restarts by the node agent.")
    last_exit_code: int | None = Field(default=None, description="Exit status of the last process exit.")
    last_crash_reason: str | None = Field(
        default=None,
        description=(
            "Why the last process ended, one CamelCase word: Exited, Signaled, CommandNotFound or "
            "Uncollected (the exit status was not known yet)."
        ),
    )
    last_crash_message: str | None = Field(
        default=None,
        description="How the last process ended (exit status or signal) and the last line it printed.",
    )
    pane_id: str | None = Field(default=None, description="tmux pane id, e.g. %3.")
    pid: int | None = Field(default=None, description="PID of the agent process.")
    revision: str | None = Field(default=None, description="Template revision running in the pane.")
    node: str | None = Field(default=None, description="Node that wrote this status.")
    last_activity_time: str | None = Field(
        default=None, description="When activity last changed.", json_schema_extra={"format": "date-time"}
    )
    started_at: str | None = Field(
        default=None,
        description="When the current process started.",
        json_schema_extra={"format": "date-time"},
    )
    briefed_revision: str | None = Field(default=None, description="Revision whose briefing was delivered.")
    restarted_at: str | None = Field(default=None, description="spec.restartedAt value already acted on.")
    workspace: WorkspaceStatus | None = Field(
        default=None, description="The agent's git workspace: path, branch, head, dirty, aheadOfBase."
    )
    conditions: list[Condition] | None = Field(
        default=None,
        description=(
            "Ready, Scheduled, Reconciling and Stalled (kstatus-compatible: Stalled=True in phase Failed)."
        ),
        json_schema_extra=CONDITIONS_LIST,
    )
    report: AgentReport | None = Field(
        default=None, description="The agent's own report of its work (team report STATE [NOTE])."
    )


class Agent(ApiModel):
    """One AI coding agent in a tmux window; created by the operator for an AgentTeam member replica."""

    spec: AgentSpec = Field(description="Desired state, written by the operator.")
    status: AgentStatus | None = Field(
        default=None,
        description=(
            "Observed state, written by the node agent of spec.nodeName; by the operator only while no node "
            "fits (phase Pending, Scheduled=False) and once the node's Lease expired (phase Lost)."
        ),
    )
