"""A TmuxNode whose node agent stopped renewing its Lease: Ready=Unknown, reason NodeLost (pure).

One writer per field, with the exception the Kubernetes node lifecycle controller makes for Nodes: the node
agent writes its TmuxNode's status, but once its Lease expired it cannot say anything any more, so the
operator sets Ready to Unknown. The node agent writes Ready=True again when it renews its Lease.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from tmux_orchestrator.api.common import ConditionStatus

from .clock import format_time
from .conditions import build_condition, find_condition
from .observed import DEFAULT_LEASE_SECONDS, ObservedNode

READY: Final = "Ready"
NODE_LOST: Final = "NodeLost"


@dataclass(frozen=True)
class NodeStatusPlan:
    patch: dict[str, Any] | None = None
    """Status merge patch for the TmuxNode; None: nothing to write."""
    wake_at: datetime | None = None
    """When the Lease expires if it is not renewed: look again then."""


def lost_message(node: ObservedNode) -> str:
    if node.lease_renewed_at is None:
        return f"the node agent of {node.name} never renewed its Lease: its state is unknown"
    return (
        f"the node agent stopped renewing its Lease at {format_time(node.lease_renewed_at)}: "
        "the node and its agents are in an unknown state"
    )


def plan_node_status(node: ObservedNode, now: datetime) -> NodeStatusPlan:
    """Ready=Unknown (NodeLost) once the Lease expired; nothing while it is live."""
    if node.is_live(now):
        return NodeStatusPlan(wake_at=node.lease_expires_at)
    if node.lease_renewed_at is None and node.created_at is not None:
        # A node agent registering may create its TmuxNode before its first Lease: a grace period, as the
        # node lifecycle controller gives a new Node.
        grace_ends = node.created_at + timedelta(seconds=DEFAULT_LEASE_SECONDS)
        if now < grace_ends:
            return NodeStatusPlan(wake_at=grace_ends)
    conditions = list(node.status.conditions or []) if node.status else []
    ready = find_condition(conditions, READY)
    if ready is not None and ready.status is ConditionStatus.UNKNOWN and ready.reason == NODE_LOST:
        return NodeStatusPlan()
    lost = build_condition(
        previous=conditions,
        kind=READY,
        status=ConditionStatus.UNKNOWN,
        reason=NODE_LOST,
        message=lost_message(node),
        generation=None,
        now=now,
    )
    others = [c for c in conditions if c.type != READY]
    wire = [c.to_wire() for c in [lost, *others]]
    return NodeStatusPlan(patch={"conditions": wire})
