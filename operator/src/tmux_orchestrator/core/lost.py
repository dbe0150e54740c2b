"""Agents on a lost node: the status nobody else can write any more (pure).

One writer per field, with one exception taken from the Kubernetes node lifecycle controller: when a node's
Lease expires its node agent can no longer report, so the operator marks the agents whose last status came
from that node as Lost. The next node agent to run them overwrites it with what it observes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tmux_orchestrator.api import Activity, AgentPhase

from .clock import format_time
from .observed import Observed

NODE_LOST_REASON = "NodeLost"


def lost_status_patch(node: str, now: datetime) -> dict[str, Any]:
    return {
        "phase": AgentPhase.LOST.value,
        "ready": False,
        "activity": Activity.UNKNOWN.value,
        "pid": None,
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": NODE_LOST_REASON,
                "message": f"node {node} stopped renewing its Lease; the agent's state there is unknown",
                "lastTransitionTime": format_time(now),
            }
        ],
    }


def plan_lost_agents(observed: Observed) -> list[tuple[str, dict[str, Any]]]:
    """(agent name, status merge patch) for each agent last reported by a node that is now lost."""
    nodes = {node.name: node for node in observed.nodes}
    patches: list[tuple[str, dict[str, Any]]] = []
    for agent in observed.agents:
        status = agent.status
        if status is None or status.phase in (None, AgentPhase.LOST) or agent.deleting:
            continue
        reporter = status.node or agent.spec.node_name
        if not reporter:
            continue
        node = nodes.get(reporter)
        if node is None or not node.is_live(observed.now):
            patches.append((agent.name, lost_status_patch(reporter, observed.now)))
    return patches
