"""Which node agent delivers an AgentMessage: a pure decision from the message and its target agent.

Node agents watch only messages labelled with their node (server-side selector), so the operator labels
every message with the Agent it is for and that agent's spec.nodeName. The spec is immutable; the labels
are the message's routing. A Pending message follows its agent to another node; a finished one stays put.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tmux_orchestrator.api.constants import LABEL_NODE
from tmux_orchestrator.api.message import MessagePhase
from tmux_orchestrator.core import LABEL_AGENT, agent_name


class RouteOutcome(StrEnum):
    ROUTED = "Routed"
    """Routed to a node for the first time (or to the agent only, while it is unscheduled)."""
    REROUTED = "Rerouted"
    """The target agent moved to another node while the message was Pending."""
    UNCHANGED = "Unchanged"
    FINISHED = "Finished"
    """Delivered, Failed or Expired: its routing is history."""
    NO_TARGET = "NoTarget"
    """Neither spec.agent nor spec.team with spec.member (the CRD rejects this; kept for robustness)."""
    TARGET_MISSING = "TargetMissing"
    """No Agent of that name: the message stays unrouted (a Warning event says so once)."""


_FINISHED = frozenset({MessagePhase.DELIVERED, MessagePhase.FAILED, MessagePhase.EXPIRED})


@dataclass(frozen=True)
class MessageTarget:
    """The target Agent as observed: None node while it is unscheduled."""

    name: str
    node: str | None


@dataclass(frozen=True)
class RouteDecision:
    outcome: RouteOutcome
    target: str | None = None
    """Name of the Agent the message is for."""
    labels: Mapping[str, str] | None = None
    """Labels to merge into the message's metadata; None: write nothing."""


def target_agent(spec: Mapping[str, Any]) -> str | None:
    """spec.agent, or the ordinal-0 agent of spec.team's spec.member."""
    if spec.get("agent"):
        return str(spec["agent"])
    if spec.get("team") and spec.get("member"):
        return agent_name(str(spec["team"]), str(spec["member"]), 0)
    return None


def message_phase(message: Mapping[str, Any]) -> MessagePhase | None:
    phase = (message.get("status") or {}).get("phase")
    return (
        MessagePhase(phase) if isinstance(phase, str) and phase in MessagePhase._value2member_map_ else None
    )


def route_message(message: Mapping[str, Any], target: MessageTarget | None) -> RouteDecision:
    """How `message` should be labelled, given its target agent (None when that agent does not exist)."""
    name = target_agent(message.get("spec") or {})
    if name is None:
        return RouteDecision(RouteOutcome.NO_TARGET)
    if message_phase(message) in _FINISHED:
        return RouteDecision(RouteOutcome.FINISHED, name)
    if target is None or target.name != name:
        return RouteDecision(RouteOutcome.TARGET_MISSING, name)
    labels = (message.get("metadata") or {}).get("labels") or {}
    wanted = {LABEL_AGENT: name, LABEL_NODE: target.node or ""}
    changed = {key: value for key, value in wanted.items() if labels.get(key) != value}
    if not changed:
        return RouteDecision(RouteOutcome.UNCHANGED, name)
    outcome = RouteOutcome.REROUTED if labels.get(LABEL_NODE) else RouteOutcome.ROUTED
    return RouteDecision(outcome, name, changed)
