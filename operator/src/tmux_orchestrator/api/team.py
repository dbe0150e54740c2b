"""AgentTeam: the user's declaration of a team of agents (DESIGN §2)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import ConfigDict, Field
from pydantic.config import JsonValue

from .common import (
    CONDITIONS_LIST,
    DNS_LABEL_PATTERN,
    ENV_LIST,
    SESSION_PATTERN,
    ApiModel,
    Condition,
    EnvVar,
    cel,
    k8s_extensions,
)
from .workspace import Workspace


class RestartPolicy(StrEnum):
    ALWAYS = "Always"
    ON_FAILURE = "OnFailure"
    NEVER = "Never"


class StrategyType(StrEnum):
    CANARY = "Canary"
    ALL_AT_ONCE = "AllAtOnce"


class TeamPhase(StrEnum):
    PENDING = "Pending"
    PROGRESSING = "Progressing"
    RUNNING = "Running"
    PAUSED = "Paused"
    DEGRADED = "Degraded"
    FAILED = "Failed"


# A message target in a team: an agent by member-ordinal (dev-1), a member (dev), a role (@developer), all.
TARGET_PATTERN = r"^(all|@?[a-z0-9]([-a-z0-9]*[a-z0-9])?)$"


class MemberTools(ApiModel):
    """Team tools handed to the member's agent CLI."""

    mcp: bool | None = Field(
        default=None,
        description=(
            "Give the CLI the team's MCP server (tmux-orchestrator mcp) through its command line; "
            "default: on for profiles whose CLI speaks MCP (claude-code, codex)."
        ),
    )
    hooks: bool | None = Field(
        default=None,
        description=(
            "Have the CLI report its state through hooks (tmux-orchestrator hook), passed on its command "
            "line; default: on for claude-code when the command runs that CLI. Codex only with true: it is "
            "then started with --dangerously-bypass-hook-trust, which also runs any other hook its config "
            "holds without review. Off: activity is read from the screen only."
        ),
    )


class Member(ApiModel):
    """One role in the team, run as `replicas` identical agents."""

    name: str = Field(
        pattern=DNS_LABEL_PATTERN,
        min_length=1,
        max_length=63,
        description="Member name, a DNS label unique in the team; agents are named <team>-<name>-<ordinal>.",
    )
    role: str = Field(
        default="developer",
        pattern=DNS_LABEL_PATTERN,
        max_length=63,
        description="Role of the member (pm, developer, qa, ...). The pm role receives notifications.",
    )
    replicas: int = Field(default=1, ge=0, le=100, description="Number of agents for this member (0..100).")
    command: list[str] = Field(
        min_length=1,
        max_length=64,
        description="argv of the agent CLI run in the tmux pane (not a shell line); must not be empty.",
        json_schema_extra={"items": {"type": "string", "minLength": 1, "maxLength": 4096}},
    )
    profile: str = Field(
        default="claude-code",
        pattern=DNS_LABEL_PATTERN,
        max_length=63,
        description="Detector profile that reads the pane (claude-code, codex, aider, shell or a plugin's).",
    )
    briefing: str | None = Field(
        default=None, max_length=65536, description="Text typed into each agent once it is first ready."
    )
    env: list[EnvVar] | None = Field(
        default=None,
        description="Extra environment for this member; overrides team env of the same name.",
        json_schema_extra=ENV_LIST,
    )
    working_dir: str | None = Field(
        default=None,
        max_length=4096,
        description="Working directory for this member; defaults to the team's.",
    )
    tools: MemberTools | None = Field(default=None, description="Team tools given to this member's agents.")
    workspace: Workspace | None = Field(
        default=None,
        description="Overrides fields of the team's workspace for this member (e.g. worktrees: false).",
    )


class Placement(ApiModel):
    """Where the team may run. A team is co-located on one TmuxNode."""

    node_selector: dict[str, str] | None = Field(
        default=None,
        description="Labels a TmuxNode must carry for the team to be scheduled on it.",
        json_schema_extra={"maxProperties": 64},
    )


class Recovery(ApiModel):
    """Local restart behaviour of the node agent: exponential backoff and a circuit breaker."""

    model_config = ConfigDict(
        json_schema_extra={
            "x-kubernetes-validations": [
                cel(
                    "self.maxBackoffSeconds >= self.backoffSeconds",
                    "maxBackoffSeconds must be at least backoffSeconds",
                    field_path=".maxBackoffSeconds",
                    reason="FieldValueInvalid",
                )
            ]
        }
    )

    backoff_seconds: int = Field(default=10, ge=0, le=86400, description="First restart delay in seconds.")
    max_backoff_seconds: int = Field(
        default=300, ge=0, le=86400, description="Upper bound of the restart delay."
    )
    max_restarts: int = Field(
        default=5,
        ge=0,
        le=10000,
        description="Restarts allowed within windowSeconds before the agent is Failed.",
    )
    window_seconds: int = Field(default=600, ge=1, le=604800, description="Window of the circuit breaker.")


class CheckIn(ApiModel):
    """A periodic check-in: the operator sends `text` to `to` every `everySeconds`."""

    every_seconds: int = Field(ge=10, le=604800, description="Seconds between two check-ins (10..604800).")
    to: str = Field(
        default="@pm",
        pattern=TARGET_PATTERN,
        max_length=64,
        description="Who is checked in on: an agent (dev-1), a member (dev), a role (@developer) or all.",
    )
    text: str = Field(min_length=1, max_length=8192, description="The check-in text.")


class Monitoring(ApiModel):
    """How the operator watches agents' activity."""

    idle_after_seconds: int = Field(
        default=300, ge=1, le=604800, description="An agent idle this long is reported to the PM."
    )
    notify_pm: bool = Field(
        default=True, alias="notifyPM", description="Send idle, crash and recovery notifications to the PM."
    )
    report_cooldown_seconds: int = Field(
        default=600, ge=0, le=604800, description="Minimum time between two idle reports to the PM."
    )
    check_in: CheckIn | None = Field(default=None, description="Periodic check-ins sent by the operator.")


class CanaryStep(ApiModel):
    """One stage of a canary rollout."""

    name: str = Field(
        pattern=DNS_LABEL_PATTERN, max_length=63, description="Stage name shown in status.rollout.stage."
    )
    weight: int = Field(
        ge=1, le=100, description="Percent of agents on the new revision once this step is reached (1..100)."
    )
    pause_seconds: int | None = Field(
        default=None,
        ge=0,
        le=604800,
        description=(
            "Wait this long after the step is healthy; absent means wait until the team's annotation "
            "orchestrator.tmux.dev/promote is set to a new value (any nonce), which also skips a running "
            "pause."
        ),
    )


class Analysis(ApiModel):
    """When a step counts as healthy."""

    min_ready_seconds: int = Field(
        default=30, ge=0, le=86400, description="Updated agents must stay Ready this long."
    )
    max_crashes: int = Field(
        default=0, ge=0, le=1000, description="Crashes of updated agents tolerated per step."
    )


def _default_steps() -> list[CanaryStep]:
    return [
        CanaryStep(name="canary", weight=5, pause_seconds=60),
        CanaryStep(name="beta", weight=50, pause_seconds=300),
        CanaryStep(name="production", weight=100),
    ]


_STEPS_RULES: list[JsonValue] = [
    cel(
        "self.map(s, s.weight).isSorted() && self.all(s, self.exists_one(t, t.weight == s.weight))",
        "canary step weights must strictly increase",
        reason="FieldValueInvalid",
    ),
    cel(
        "self[size(self) - 1].weight == 100",
        "the last canary step must have weight 100",
        reason="FieldValueInvalid",
    ),
]


class Canary(ApiModel):
    """Canary steps: a growing share of agents moves to the new revision."""

    steps: list[CanaryStep] = Field(
        default_factory=_default_steps,
        min_length=1,
        max_length=10,
        description="Steps in order; weights strictly increase and the last is 100.",
        json_schema_extra=k8s_extensions(
            **{
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
                "x-kubernetes-validations": _STEPS_RULES,
            }
        ),
    )
    analysis: Analysis = Field(default_factory=Analysis, description="Health analysis of each step.")
    auto_rollback: bool = Field(
        default=True,
        description=(
            "Roll back to the stable revision when a step fails; false halts the rollout instead. "
            "Setting the team's annotation orchestrator.tmux.dev/abort to a new value rolls back at once."
        ),
    )


class Strategy(ApiModel):
    """How template changes reach running agents."""

    type: StrategyType = Field(default=StrategyType.CANARY, description="Canary or AllAtOnce.")
    canary: Canary = Field(default_factory=Canary, description="Canary steps (used when type is Canary).")


_MEMBERS_RULES: list[JsonValue] = [
    cel(
        "self.filter(m, m.role == 'pm').size() <= 1",
        "at most one member may have role pm",
        reason="FieldValueInvalid",
    ),
]


_WORKSPACE_RULES: list[JsonValue] = [
    cel(
        "self.members.all(m, !has(m.workspace) || has(m.workspace.repo)"
        " || (has(self.workspace) && has(self.workspace.repo)))",
        "a member workspace needs a repo, on the member or in spec.workspace",
        field_path=".members",
        reason="FieldValueRequired",
    ),
]


class AgentTeamSpec(ApiModel):
    """Desired state of a team."""

    model_config = ConfigDict(json_schema_extra={"x-kubernetes-validations": _WORKSPACE_RULES})

    session: str | None = Field(
        default=None,
        pattern=SESSION_PATTERN,
        max_length=64,
        description="tmux session (letters, digits, '_', '-'; no ':' or '.'). Default: the team name.",
    )
    placement: Placement | None = Field(default=None, description="Which TmuxNodes may run the team.")
    working_dir: str | None = Field(
        default=None, max_length=4096, description="Working directory of the agents."
    )
    env: list[EnvVar] | None = Field(
        default=None, description="Environment of every agent.", json_schema_extra=ENV_LIST
    )
    mission: str | None = Field(
        default=None, max_length=65536, description="The team's mission, part of the PM's recovery briefing."
    )
    workspace: Workspace | None = Field(
        default=None,
        description="Git repository of the team; with worktrees, one worktree and branch per agent.",
    )
    members: list[Member] = Field(
        min_length=1,
        max_length=50,
        description="Roles in the team; names are unique DNS labels.",
        json_schema_extra=k8s_extensions(
            **{
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
                "x-kubernetes-validations": _MEMBERS_RULES,
            }
        ),
    )
    restart_policy: RestartPolicy = Field(
        default=RestartPolicy.ALWAYS,
        description="When an exited agent is restarted: Always, OnFailure or Never.",
    )
    recovery: Recovery = Field(default_factory=Recovery, description="Restart backoff and circuit breaker.")
    monitoring: Monitoring = Field(
        default_factory=Monitoring, description="Idle detection and PM notifications."
    )
    strategy: Strategy = Field(default_factory=Strategy, description="Rollout strategy for template changes.")
    progress_deadline_seconds: int = Field(
        default=600, ge=1, le=86400, description="A rollout step taking longer than this is rolled back."
    )
    revision_history_limit: int = Field(
        default=10, ge=0, le=1000, description="Old template revisions (ControllerRevisions) to keep."
    )
    paused: bool = Field(
        default=False,
        description="Freeze the rollout where it is; orchestrator.tmux.dev/promote does not skip this pause.",
    )


class RolloutStatus(ApiModel):
    """Where the current rollout stands."""

    stage: str | None = Field(default=None, description="Name of the current step.")
    step_index: int | None = Field(default=None, ge=0, description="Index of the current step.")
    weight: int | None = Field(
        default=None, ge=0, le=100, description="Percent of agents on currentRevision."
    )
    message: str | None = Field(default=None, description="What the rollout waits for.")


class LastHandled(ApiModel):
    """Values of the control annotations already acted on."""

    promote: str | None = Field(
        default=None, description="Last value of the annotation orchestrator.tmux.dev/promote acted on."
    )
    abort: str | None = Field(
        default=None, description="Last value of the annotation orchestrator.tmux.dev/abort acted on."
    )
    restarted_at: str | None = Field(
        default=None, description="Last value of the annotation orchestrator.tmux.dev/restartedAt acted on."
    )


class AgentTeamStatus(ApiModel):
    """Observed state of a team, written by the operator only."""

    observed_generation: int | None = Field(default=None, description="Generation this status describes.")
    phase: TeamPhase | None = Field(
        default=None, description="Pending, Progressing, Running, Paused, Degraded or Failed."
    )
    replicas: int | None = Field(default=None, description="Agents declared.")
    ready_replicas: int | None = Field(default=None, description="Agents Ready.")
    updated_replicas: int | None = Field(default=None, description="Agents on currentRevision.")
    ready: str | None = Field(default=None, description="readyReplicas/replicas, for the READY column.")
    node: str | None = Field(default=None, description="TmuxNode the team runs on.")
    current_revision: str | None = Field(
        default=None,
        description="Target template revision: the one the spec declares (rolled out, or rolled back from).",
    )
    stable_revision: str | None = Field(default=None, description="Last fully rolled-out template revision.")
    rollout: RolloutStatus | None = Field(default=None, description="Progress of the rollout.")
    last_handled: LastHandled | None = Field(
        default=None,
        description=(
            "Values of the team's control annotations (orchestrator.tmux.dev/promote, /abort, /restartedAt) "
            "already acted on; absent until one was."
        ),
    )
    conditions: list[Condition] | None = Field(
        default=None,
        description="Ready, Reconciling, Stalled, Progressing, Available, Paused (kstatus-compatible).",
        json_schema_extra=CONDITIONS_LIST,
    )


class AgentTeam(ApiModel):
    """A team of AI coding agents living in one tmux session.

    Control annotations (any new value, e.g. a timestamp, is acted on once and echoed into
    status.lastHandled): orchestrator.tmux.dev/promote skips the current canary pause,
    orchestrator.tmux.dev/abort rolls back to status.stableRevision, orchestrator.tmux.dev/restartedAt
    restarts every agent one by one.
    """

    spec: AgentTeamSpec = Field(description="Desired state of the team.")
    status: AgentTeamStatus | None = Field(
        default=None, description="Observed state, written by the operator."
    )
