"""What `kubectl agentteam status` prints, and the patches the control verbs send (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from .api.constants import (
    ANNOTATION_ABORT,
    ANNOTATION_PROMOTE,
    ANNOTATION_RESTARTED_AT,
    LABEL_MEMBER,
    LABEL_NODE,
    LABEL_REVISION,
    LABEL_TEAM,
)

# The control verbs set an annotation to a fresh nonce; the operator acts once per value (status.lastHandled).
CONTROL_ANNOTATIONS = {
    "promote": ANNOTATION_PROMOTE,
    "abort": ANNOTATION_ABORT,
    "restart": ANNOTATION_RESTARTED_AT,
}


def control_patch(verb: str, nonce: str) -> dict[str, Any]:
    """Merge patch of a team for promote/abort/restart/pause/resume."""
    if verb in CONTROL_ANNOTATIONS:
        return {"metadata": {"annotations": {CONTROL_ANNOTATIONS[verb]: nonce}}}
    if verb in ("pause", "resume"):
        return {"spec": {"paused": verb == "pause"}}
    raise ValueError(f"unknown verb {verb!r}")


def message_body(
    team: Mapping[str, Any], member: str, text: str, agent: Mapping[str, Any] | None
) -> dict[str, Any]:
    """An AgentMessage to a team member, routed at once when its agent (ordinal 0) is known."""
    name = team["metadata"]["name"]
    labels = {LABEL_TEAM: name, LABEL_MEMBER: member}
    if agent is not None and agent.get("spec", {}).get("nodeName"):
        labels[LABEL_NODE] = agent["spec"]["nodeName"]
        labels["orchestrator.tmux.dev/agent"] = agent["metadata"]["name"]
    return {
        "apiVersion": "orchestrator.tmux.dev/v1alpha1",
        "kind": "AgentMessage",
        "metadata": {
            "generateName": f"{name}-{member}-",
            "namespace": team["metadata"]["namespace"],
            "labels": labels,
        },
        "spec": {"team": name, "member": member, "text": text, "deliver": "WhenIdle"},
    }


def render_status(team: Mapping[str, Any], agents: Sequence[Mapping[str, Any]]) -> str:
    """A human summary: phase, rollout step and weights, and how many agents run each revision."""
    spec = team.get("spec", {})
    status = team.get("status", {}) or {}
    rollout = status.get("rollout") or {}
    conditions = {c["type"]: c for c in status.get("conditions") or []}

    def field(name: str) -> str:
        return str(status.get(name, "-"))

    lines = [
        f"Team:      {team['metadata']['namespace']}/{team['metadata']['name']}",
        f"Phase:     {field('phase')}   Ready: {field('ready')}   Node: {field('node')}",
        f"Revision:  current {field('currentRevision')}   stable {field('stableRevision')}",
    ]
    strategy = spec.get("strategy") or {}
    steps = (strategy.get("canary") or {}).get("steps") or []
    if strategy.get("type", "Canary") == "Canary" and steps:
        current = rollout.get("stepIndex")
        rendered = [
            f"[{s['name']} {s['weight']}%]" if index == current else f"{s['name']} {s['weight']}%"
            for index, s in enumerate(steps)
        ]
        lines.append("Steps:     " + " → ".join(rendered))
    else:
        lines.append(f"Strategy:  {strategy.get('type', '-')}")
    lines.append(
        f"Rollout:   stage {rollout.get('stage', '-')}, weight {rollout.get('weight', '-')}%"
        + (f" — {rollout['message']}" if rollout.get("message") else "")
    )
    if spec.get("paused"):
        lines.append("Paused:    yes (kubectl agentteam resume to continue)")
    for type_ in ("Ready", "Progressing", "Stalled"):
        condition = conditions.get(type_)
        if condition is not None:
            reason = condition.get("reason", "")
            message = condition.get("message", "")
            lines.append(
                f"{type_ + ':':<11}{condition['status']} {reason}" + (f": {message}" if message else "")
            )
    by_revision = Counter(agent["metadata"].get("labels", {}).get(LABEL_REVISION, "-") for agent in agents)
    lines.append("Agents by revision:")
    for revision, count in sorted(by_revision.items()):
        marker = " (current)" if revision == status.get("currentRevision") else ""
        marker = marker or (" (stable)" if revision == status.get("stableRevision") else "")
        lines.append(f"  {revision}: {count}{marker}")
    lines.append("")
    lines.append(f"{'AGENT':<32} {'REVISION':<12} {'PHASE':<9} {'ACTIVITY':<16} {'RESTARTS':<9} BRANCH")
    for agent in sorted(agents, key=lambda a: a["metadata"]["name"]):
        agent_status = agent.get("status") or {}
        revision = agent["metadata"].get("labels", {}).get(LABEL_REVISION, "-")
        lines.append(
            f"{agent['metadata']['name']:<32} {revision:<12} "
            f"{agent_status.get('phase', '-'):<9} {agent_status.get('activity', '-'):<16} "
            f"{agent_status.get('restartCount', 0)!s:<9} {_branch(agent_status)}".rstrip()
        )
    return "\n".join(lines) + "\n"


def _branch(agent_status: Mapping[str, Any]) -> str:
    """The agent's branch and how many commits it is ahead of the base, e.g. `agents/web-dev-0 +3`."""
    workspace = agent_status.get("workspace") or {}
    if not workspace.get("branch"):
        return "-"
    ahead = workspace.get("aheadOfBase")
    dirty = " (uncommitted changes)" if workspace.get("dirty") else ""
    return f"{workspace['branch']}" + (f" +{ahead}" if ahead is not None else "") + dirty


def attach_command(session: str, node: Mapping[str, Any] | None) -> list[str]:
    """The tmux command that attaches to a team's session on its node."""
    socket = ((node or {}).get("status") or {}).get("tmuxSocket")
    argv = ["tmux"]
    if socket:
        argv += ["-S", socket] if "/" in socket else ["-L", socket]
    return [*argv, "attach-session", "-t", f"={session}"]
