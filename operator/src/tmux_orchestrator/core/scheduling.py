"""Placing a team on one TmuxNode, and moving it when its node is lost.

Like the kube-scheduler's filters then score: a node must be Ready (Lease fresh, tmux not reported broken),
schedulable (not cordoned), match placement.nodeSelector, and have room for the whole team; among those the
one with the most free capacity wins (spreading teams), ties broken by name so the choice is stable.
A team stays on its node while the node is alive: cordoning or filling a node never moves a running team.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum

from .observed import ObservedNode


class SchedulingReason(StrEnum):
    KEPT = "Kept"
    SCHEDULED = "Scheduled"
    RESCHEDULED = "Rescheduled"
    NO_NODES = "NoNodes"
    NODES_NOT_READY = "NodesNotReady"
    NODES_UNSCHEDULABLE = "NodesUnschedulable"
    NODE_SELECTOR_MISMATCH = "NodeSelectorMismatch"
    INSUFFICIENT_CAPACITY = "InsufficientCapacity"


class _Filter(IntEnum):
    """Filters in the order they apply; a node rejected by a later filter came closer to fitting."""

    READY = 0
    SCHEDULABLE = 1
    SELECTOR = 2
    CAPACITY = 3


_REJECTION = {
    _Filter.READY: (SchedulingReason.NODES_NOT_READY, "not Ready"),
    _Filter.SCHEDULABLE: (SchedulingReason.NODES_UNSCHEDULABLE, "unschedulable"),
    _Filter.SELECTOR: (SchedulingReason.NODE_SELECTOR_MISMATCH, "not matching placement.nodeSelector"),
    _Filter.CAPACITY: (SchedulingReason.INSUFFICIENT_CAPACITY, "without room"),
}


@dataclass(frozen=True)
class ScheduleDecision:
    node: str | None
    """Node the team runs on; None when no node fits (the team is Pending, or its agents stay Lost)."""
    reason: SchedulingReason
    message: str = ""
    free_slots: int = 0
    """Agents of this team `node` can hold (capacity minus other teams' agents placed there)."""
    lost_node: str | None = None
    """The team's previous node, whose Lease expired."""
    previous_node: str | None = None
    """The node the team is moved away from (lost, or no longer matching the selector)."""

    @property
    def moved(self) -> bool:
        return self.reason is SchedulingReason.RESCHEDULED


def free_slots(node: ObservedNode, own_agents_on_node: int) -> int:
    """Room for this team: capacity minus the agents of all other teams placed on the node."""
    return node.spec.capacity - (node.agent_count - own_agents_on_node)


def _matches(node: ObservedNode, selector: Mapping[str, str]) -> bool:
    return all(node.labels.get(key) == value for key, value in selector.items())


def _first_rejection(
    node: ObservedNode, selector: Mapping[str, str], required: int, own: int, now: datetime
) -> _Filter | None:
    if not node.is_ready(now):
        return _Filter.READY
    if node.spec.unschedulable:
        return _Filter.SCHEDULABLE
    if not _matches(node, selector):
        return _Filter.SELECTOR
    if free_slots(node, own) < required:
        return _Filter.CAPACITY
    return None


def _no_fit(
    rejections: Mapping[str, _Filter], required: int, lost: str | None, current: str | None
) -> ScheduleDecision:
    if not rejections:
        return ScheduleDecision(None, SchedulingReason.NO_NODES, "no TmuxNodes registered", lost_node=lost)
    closest = max(rejections.values())
    counts = [(f, sum(1 for r in rejections.values() if r is f)) for f in _Filter]
    detail = ", ".join(f"{n} {_REJECTION[f][1]}" for f, n in counts if n)
    message = f"0/{len(rejections)} nodes fit {required} agent(s): {detail}"
    return ScheduleDecision(
        None, _REJECTION[closest][0], message, lost_node=lost, previous_node=current if lost else None
    )


def schedule_team(
    *,
    nodes: Sequence[ObservedNode],
    selector: Mapping[str, str],
    required: int,
    current: str | None,
    own_agents_per_node: Mapping[str, int],
    now: datetime,
) -> ScheduleDecision:
    """The node a team of `required` agents should run on, given the node it runs on now (if any)."""
    by_name = {node.name: node for node in nodes}
    current_node = by_name.get(current) if current else None
    rejections: dict[str, _Filter] = {}
    fits: list[ObservedNode] = []
    for node in nodes:
        own = own_agents_per_node.get(node.name, 0)
        rejection = _first_rejection(node, selector, required, own, now)
        if rejection is None:
            fits.append(node)
        else:
            rejections[node.name] = rejection

    def free(node: ObservedNode) -> int:
        return free_slots(node, own_agents_per_node.get(node.name, 0))

    best = min((n for n in fits if n is not current_node), key=lambda n: (-free(n), n.name), default=None)
    if current_node is not None and current_node.is_live(now):
        if _matches(current_node, selector) or best is None:
            message = (
                "" if _matches(current_node, selector) else f"node {current} no longer matches placement"
            )
            return ScheduleDecision(current_node.name, SchedulingReason.KEPT, message, free(current_node))
        return ScheduleDecision(
            best.name,
            SchedulingReason.RESCHEDULED,
            f"moved from node {current}, which no longer matches placement.nodeSelector",
            free(best),
            previous_node=current,
        )
    lost = current
    if best is None:
        return _no_fit(rejections, required, lost, current)
    if lost is None:
        return ScheduleDecision(best.name, SchedulingReason.SCHEDULED, "", free(best))
    return ScheduleDecision(
        best.name,
        SchedulingReason.RESCHEDULED,
        f"node {lost} lost (Lease expired); moved to node {best.name}",
        free(best),
        lost_node=lost,
        previous_node=lost,
    )
