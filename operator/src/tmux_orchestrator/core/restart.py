"""Rolling restart (the restartedAt annotation): every agent restarted once, a quarter of the team at a
time, PM agents last.

Progress is read from the agents: spec.restartedAt says the operator asked, status.restartedAt says the node
agent acted. The annotation value is echoed into status.lastHandled.restartedAt when accepted, and that value
is the restart's target from then on, so a restarted operator neither restarts an agent twice nor forgets one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tmux_orchestrator.api.agent import AgentPhase

from .agents import AgentView

_STARTING = frozenset({AgentPhase.PENDING, AgentPhase.STARTING})


def max_restarting(total: int) -> int:
    """Agents restarting at once: a quarter of the team, at least one."""
    return max(1, total // 4)


@dataclass(frozen=True)
class RestartPlan:
    restarted_at: Mapping[str, str | None]
    """spec.restartedAt each declared agent should carry."""
    pending: tuple[str, ...] = ()
    """Agents whose restart is not finished (asked or still waiting for their turn)."""


def _acted(agent: AgentView, target: str) -> bool:
    """The node agent restarted this agent for `target` and it is no longer starting up; an agent that is
    not running anywhere (unscheduled, node lost) has nothing to wait for."""
    if not agent.node_live:
        return True
    status = agent.status
    return status is not None and status.restarted_at == target and agent.phase not in _STARTING


def plan_rolling_restart(agents: Sequence[AgentView], target: str | None) -> RestartPlan:
    asked = {a.name: a.observed.spec.restarted_at if a.observed else None for a in agents}
    if target is None:
        return RestartPlan(asked)
    result: dict[str, str | None] = {}
    in_flight: list[str] = []
    waiting: list[AgentView] = []
    for agent in agents:
        if agent.observed is None or not agent.node_live:
            result[agent.name] = target  # starts fresh anyway: nothing to restart
        elif asked[agent.name] == target:
            result[agent.name] = target
            if not _acted(agent, target):
                in_flight.append(agent.name)
        else:
            result[agent.name] = asked[agent.name]
            waiting.append(agent)
    budget = max_restarting(len(agents)) - len(in_flight)
    others_busy = bool(in_flight) or any(not a.key.is_pm for a in waiting)
    for agent in sorted(waiting, key=lambda a: (a.key.is_pm, a.key.ordinal, a.key.member_index)):
        if budget <= 0 or (agent.key.is_pm and others_busy):
            break
        result[agent.name] = target
        in_flight.append(agent.name)
        budget -= 1
    pending = in_flight + [a.name for a in waiting if result[a.name] != target]
    return RestartPlan(result, tuple(sorted(pending)))
