"""TmuxNode: a machine (a tmux server) that runs agents, registered by its node agent (DESIGN §3)."""

from __future__ import annotations

from pydantic import Field

from .common import CONDITIONS_LIST, ApiModel, Condition


class TmuxNodeSpec(ApiModel):
    """Desired state of a node."""

    capacity: int = Field(default=100, ge=0, le=100000, description="Agents this node may run.")
    unschedulable: bool = Field(default=False, description="No new team is scheduled here (cordon).")


class TmuxNodeStatus(ApiModel):
    """Observed state of a node, written by its node agent."""

    tmux_version: str | None = Field(default=None, description="Version of the tmux server.")
    agents: int | None = Field(default=None, ge=0, description="Agents running on the node.")
    hostname: str | None = Field(default=None, description="Host the node agent runs on.")
    tmux_socket: str | None = Field(default=None, description="tmux socket name (tmux -L) of the node.")
    screen_endpoint: str | None = Field(
        default=None,
        description=(
            "URL of the node agent's screen endpoint (GET <url>/namespaces/NS/agents/NAME/screen, for callers"
            " allowed to get the virtual subresource agents/screen); absent when it serves none."
        ),
    )
    conditions: list[Condition] | None = Field(
        default=None,
        description=(
            "Ready: True while the node agent runs and tmux answers; Unknown (reason NodeLost, written by "
            "the operator) once the Lease tmuxnode-<name> in kube-node-lease expired."
        ),
        json_schema_extra=CONDITIONS_LIST,
    )


class TmuxNode(ApiModel):
    """A tmux server that runs agents. Liveness is its Lease in the node agent's namespace."""

    spec: TmuxNodeSpec = Field(default_factory=TmuxNodeSpec, description="Desired state.")
    status: TmuxNodeStatus | None = Field(default=None, description="Observed state.")
