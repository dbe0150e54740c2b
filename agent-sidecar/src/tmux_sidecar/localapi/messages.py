"""AgentMessages an agent sends, and the inbox, roster and reply it reads (pure).

A message an agent sends names it in spec.from (the node agent fills that in, from the caller's pane, never
from what the caller says) and is labelled with its team and, when known, with the node of the receiver, so
the receiver's node agent sees it at once; the operator keeps that routing right afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tmux_orchestrator.api.constants import API_VERSION, LABEL_NODE, LABEL_TEAM, PREFIX
from tmux_orchestrator.core.naming import LABEL_AGENT

from .roster import TeamAgent

_PREVIEW_CHARS = 80
LABEL_FROM_NODE = f"{PREFIX}from-node"
"""The node whose node agent created a message from an agent (the admission policy checks it)."""


def message_body(
    sender: TeamAgent,
    receiver: TeamAgent,
    text: str,
    *,
    from_node: str,
    deliver_after: str | None = None,
) -> dict[str, Any]:
    labels = {LABEL_TEAM: receiver.team, LABEL_AGENT: receiver.name, LABEL_FROM_NODE: from_node}
    if receiver.node:
        labels[LABEL_NODE] = receiver.node
    spec: dict[str, Any] = {"agent": receiver.name, "from": sender.name, "text": text, "deliver": "WhenIdle"}
    if deliver_after is not None:
        spec["deliverAfter"] = deliver_after
    metadata: dict[str, Any] = {"generateName": f"{receiver.name}-", "labels": labels}
    if receiver.uid:
        # Messages to an agent go when the agent goes (garbage collection), like the operator's notifications.
        metadata["ownerReferences"] = [
            {"apiVersion": API_VERSION, "kind": "Agent", "name": receiver.name, "uid": receiver.uid}
        ]
    return {"apiVersion": API_VERSION, "kind": "AgentMessage", "metadata": metadata, "spec": spec}


def sender_refusal(sender: str, from_node: str | None, sender_agent: Mapping[str, Any] | None) -> str | None:
    """Why a message from `sender` must not be typed: its sender is not an agent of the node whose node agent
    created it (`from_node`), so a node agent cannot speak for agents of other nodes. None: deliver it."""
    if sender_agent is None:
        return f"sender {sender} does not exist"
    node = (sender_agent.get("spec") or {}).get("nodeName")
    if not from_node or node != from_node:
        created_by = from_node or "(unknown)"
        return f"sender {sender} runs on node {node or '-'}, but the message was created by node {created_by}"
    return None


def sender_to_verify(message: Mapping[str, Any]) -> str | None:
    """The agent a pending message is from, while the delivering node agent has not yet found it on the node
    that created the message; None for a person's message and for one already verified (its status says
    when), so the verdict made when the message was new holds after its sender moved."""
    sender = (message.get("spec") or {}).get("from")
    status = message.get("status") or {}
    if not sender or status.get("senderVerifiedAt") or status.get("phase") not in (None, "Pending"):
        return None
    return str(sender)


def report_text(state: str, note: str | None, workspace: Mapping[str, Any] | None = None) -> str:
    """What the PM is told when an agent reports blocked, needs-review or done; with the branch to review
    when the agent works in its own worktree."""
    text = f"report {state}: {note}" if note else f"report {state}"
    where = branch_summary(workspace)
    return f"{text} (branch {where})" if where else text


def branch_summary(workspace: Mapping[str, Any] | None) -> str | None:
    """`agents/web-dev-0, 3 commit(s) ahead, uncommitted changes`, or None without a branch."""
    if not workspace or not workspace.get("branch"):
        return None
    parts = [str(workspace["branch"])]
    if workspace.get("aheadOfBase") is not None:
        parts.append(f"{workspace['aheadOfBase']} commit(s) ahead")
    if workspace.get("dirty"):
        parts.append("uncommitted changes")
    return ", ".join(parts)


def receiver_of(message: Mapping[str, Any]) -> str | None:
    """The Agent a message is for: spec.agent, or ordinal 0 of spec.team's spec.member."""
    spec = message.get("spec") or {}
    if spec.get("agent"):
        return str(spec["agent"])
    if spec.get("team") and spec.get("member"):
        return f"{spec['team']}-{spec['member']}-0"
    return None


def _created(message: Mapping[str, Any]) -> str:
    return str((message.get("metadata") or {}).get("creationTimestamp") or "")


def _short(name: str | None, team: str) -> str | None:
    return name.removeprefix(f"{team}-") if name else None


def preview(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _PREVIEW_CHARS else line[: _PREVIEW_CHARS - 1] + "…"


def inbox(messages: Sequence[Mapping[str, Any]], me: TeamAgent) -> list[dict[str, Any]]:
    """Messages to and from `me`, oldest first: direction, sender, receiver, phase, time, text."""
    rows = []
    for message in sorted(messages, key=_created):
        spec = message.get("spec") or {}
        status = message.get("status") or {}
        to, sender = receiver_of(message), spec.get("from")
        if me.name not in (to, sender):
            continue
        rows.append(
            {
                "name": message["metadata"]["name"],
                "direction": "in" if to == me.name else "out",
                "from": _short(sender, me.team) or "(a person)",
                "to": _short(to, me.team),
                "phase": status.get("phase") or "Pending",
                "created": _created(message),
                "deliverAfter": spec.get("deliverAfter"),
                "deliveredAt": status.get("deliveredAt"),
                "text": spec.get("text", ""),
            }
        )
    return rows


def reply_to(messages: Sequence[Mapping[str, Any]], me: TeamAgent) -> str | None:
    """The Agent that sent `me` the latest message from an agent (a person cannot be replied to here)."""
    received = [
        m
        for m in messages
        if receiver_of(m) == me.name and (m.get("spec") or {}).get("from") not in (None, "", me.name)
    ]
    if not received:
        return None
    latest = max(received, key=lambda m: ((m.get("status") or {}).get("deliveredAt") or "", _created(m)))
    return str(latest["spec"]["from"])


def roster(
    agents: Sequence[TeamAgent], messages: Sequence[Mapping[str, Any]], me: TeamAgent
) -> dict[str, Any]:
    """`team status`: each agent with role, phase, activity and since when, its report, its last message."""
    last: dict[str, Mapping[str, Any]] = {}
    for message in sorted(messages, key=_created):
        to = receiver_of(message)
        if to is not None:
            last[to] = message
    rows = []
    for agent in agents:
        latest = last.get(agent.name)
        rows.append(
            {
                "agent": agent.short,
                "name": agent.name,
                "role": agent.role,
                "phase": agent.phase,
                "activity": agent.activity,
                "activitySource": agent.activity_source,
                "since": agent.since,
                "lastAssistantMessage": agent.last_assistant_message,
                "report": dict(agent.report) if agent.report else None,
                "branch": branch_summary(agent.workspace),
                "lastMessage": _summary(latest, me.team) if latest is not None else None,
                "you": agent.name == me.name,
            }
        )
    return {"team": me.team, "you": me.short, "agents": rows}


def _summary(message: Mapping[str, Any], team: str) -> dict[str, Any]:
    spec = message.get("spec") or {}
    return {
        "from": _short(spec.get("from"), team) or "(a person)",
        "text": preview(str(spec.get("text", ""))),
        "phase": (message.get("status") or {}).get("phase") or "Pending",
    }
