"""What `kubectl agentteam status` prints, and the patches the control verbs send (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from .api.constants import (
    ANNOTATION_ABORT,
    ANNOTATION_PROMOTE,
    ANNOTATION_RESTARTED_AT,
    API_VERSION,
    LABEL_MEMBER,
    LABEL_NODE,
    LABEL_REVISION,
    LABEL_TEAM,
)
from .core.agents import AgentKey
from .core.naming import LABEL_AGENT, agent_name
from .core.targets import select_target

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


def message_bodies(
    team: Mapping[str, Any],
    target: str,
    text: str,
    agents: Sequence[Mapping[str, Any]],
    *,
    deliver_after: str | None = None,
) -> list[dict[str, Any]]:
    """One AgentMessage (from a person: no spec.from) per agent `target` names among the team's declared
    agents (core.targets: dev-1, dev, @developer, all); each is routed at once when its agent has a node.
    UnknownTargetError lists the team's agents, members and roles."""
    name = team["metadata"]["name"]
    declared = [
        AgentKey(
            agent_name(name, str(m["name"]), ordinal),
            str(m["name"]),
            index,
            ordinal,
            m.get("role") or "developer",
        )
        for index, m in enumerate((team.get("spec") or {}).get("members") or [])
        for ordinal in range(int(m.get("replicas", 1)))
    ]
    existing = {agent["metadata"]["name"]: agent for agent in agents}
    bodies = []
    for key in select_target(target, declared):
        labels = {LABEL_TEAM: name, LABEL_MEMBER: key.member, LABEL_AGENT: key.name}
        node = ((existing.get(key.name) or {}).get("spec") or {}).get("nodeName")
        if node:
            labels[LABEL_NODE] = node
        spec: dict[str, Any] = {"agent": key.name, "text": text, "deliver": "WhenIdle"}
        if deliver_after is not None:
            spec["deliverAfter"] = deliver_after
        bodies.append(
            {
                "apiVersion": API_VERSION,
                "kind": "AgentMessage",
                "metadata": {
                    "generateName": f"{key.name}-",
                    "namespace": team["metadata"]["namespace"],
                    "labels": labels,
                },
                "spec": spec,
            }
        )
    return bodies


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
    lines.append(
        f"{'AGENT':<32} {'REVISION':<12} {'PHASE':<9} {'ACTIVITY':<16} {'RESTARTS':<9} {'BRANCH':<24} REPORT"
    )
    for agent in sorted(agents, key=lambda a: a["metadata"]["name"]):
        agent_status = agent.get("status") or {}
        revision = agent["metadata"].get("labels", {}).get(LABEL_REVISION, "-")
        lines.append(
            f"{agent['metadata']['name']:<32} {revision:<12} "
            f"{agent_status.get('phase', '-'):<9} {agent_status.get('activity', '-'):<16} "
            f"{agent_status.get('restartCount', 0)!s:<9} {_branch(agent_status):<24} "
            f"{_report(agent_status.get('report'))}"
        )
    return "\n".join(lines) + "\n"


def _report(report: Mapping[str, Any] | None) -> str:
    if not report:
        return "-"
    note = f": {report['note']}" if report.get("note") else ""
    return f"{report.get('state', '-')}{note} ({report.get('time', '-')})"


def _branch(agent_status: Mapping[str, Any]) -> str:
    """The agent's branch and how many commits it is ahead of the base, e.g. `agents/web-dev-0 +3`."""
    workspace = agent_status.get("workspace") or {}
    if not workspace.get("branch"):
        return "-"
    ahead = workspace.get("aheadOfBase")
    dirty = " (uncommitted changes)" if workspace.get("dirty") else ""
    return f"{workspace['branch']}" + (f" +{ahead}" if ahead is not None else "") + dirty


def _tmux(node: Mapping[str, Any] | None) -> list[str]:
    socket = ((node or {}).get("status") or {}).get("tmuxSocket")
    argv = ["tmux"]
    if socket:
        argv += ["-S", socket] if "/" in socket else ["-L", socket]
    return argv


def attach_command(session: str, node: Mapping[str, Any] | None) -> list[str]:
    """The tmux command that attaches to a team's session on its node."""
    return [*_tmux(node), "attach-session", "-t", f"={session}"]


def screen_command(pane: str, node: Mapping[str, Any] | None) -> list[str]:
    """The tmux command that prints an agent's pane as it is now (text only, no escape sequences)."""
    return [*_tmux(node), "capture-pane", "-p", "-t", pane]
