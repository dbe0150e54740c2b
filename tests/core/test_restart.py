"""Rolling restart: a quarter of the team at a time, PM last, each agent once."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tmux_orchestrator.api import AgentPhase
from tmux_orchestrator.core.agents import AgentView
from tmux_orchestrator.core.restart import max_restarting, plan_rolling_restart

from .builders import agent_status, dev_key, member, observed_agent, pm_key, team_spec

SPEC = team_spec(member("pm", role="pm"), member("dev", 8))
KEYS = [pm_key(), *(dev_key(i) for i in range(8))]
T = "2026-03-01T11:00:00Z"


def team(
    asked: set[int] | None = None,
    acted: set[int] | None = None,
    *,
    starting: set[int] | None = None,
    live: bool = True,
) -> list[AgentView]:
    """Agents by position in KEYS (0 = PM): `asked` carry spec.restartedAt=T, `acted` report it done."""
    views = []
    for index, key in enumerate(KEYS):
        phase = AgentPhase.STARTING if index in (starting or set()) else AgentPhase.RUNNING
        status = agent_status(
            revision="r", phase=phase, restarted_at=T if index in (acted or set()) else None
        )
        agent = observed_agent(SPEC, key.member, key.ordinal, revision="r", status=status)
        if index in (asked or set()):
            agent = replace(agent, spec=agent.spec.model_copy(update={"restarted_at": T}))
        views.append(AgentView(key, agent, live))
    return views


def asked_for(plan_restarted_at: dict[str, str | None]) -> list[str]:
    return sorted(name for name, value in plan_restarted_at.items() if value == T)


@pytest.mark.parametrize(
    ("total", "expected"),
    [pytest.param(1, 1, id="one"), pytest.param(9, 2, id="nine"), pytest.param(20, 5, id="twenty")],
)
def test_max_restarting(total: int, expected: int) -> None:
    assert max_restarting(total) == expected


DEVS = {f"web-dev-{i}" for i in range(8)}


@pytest.mark.parametrize(
    ("agents", "target", "asked", "pending"),
    [
        pytest.param(team(), None, [], 0, id="no-restart-requested"),
        pytest.param(team(), T, ["web-dev-0", "web-dev-1"], 9, id="first-quarter-starts"),
        pytest.param(team({1, 2}), T, ["web-dev-0", "web-dev-1"], 9, id="in-flight-limit-holds"),
        pytest.param(
            team({1, 2}, {1, 2}),
            T,
            ["web-dev-0", "web-dev-1", "web-dev-2", "web-dev-3"],
            7,
            id="next-after-done",
        ),
        pytest.param(
            team({1, 2}, {1, 2}, starting={1}),
            T,
            ["web-dev-0", "web-dev-1", "web-dev-2"],
            8,
            id="still-starting-is-in-flight",
        ),
        pytest.param(
            team(set(range(1, 9)), set(range(1, 9))), T, sorted([*DEVS, "web-pm-0"]), 1, id="pm-last"
        ),
        pytest.param(team(set(range(9)), set(range(9))), T, sorted([*DEVS, "web-pm-0"]), 0, id="finished"),
        pytest.param(
            team(live=False), T, sorted([*DEVS, "web-pm-0"]), 0, id="agents-not-running-are-just-marked"
        ),
    ],
)
def test_rolling_restart(agents: list[AgentView], target: str | None, asked: list[str], pending: int) -> None:
    plan = plan_rolling_restart(agents, target)
    assert asked_for(dict(plan.restarted_at)) == asked
    assert len(plan.pending) == pending


def test_pm_waits_while_developers_restart() -> None:
    plan = plan_rolling_restart(team(set(range(1, 8)), set(range(1, 8))), T)
    assert plan.restarted_at["web-dev-7"] == T
    assert plan.restarted_at["web-pm-0"] is None


def test_agents_created_after_the_request_start_with_it() -> None:
    plan = plan_rolling_restart([AgentView(dev_key(0), None, False)], T)
    assert plan.restarted_at == {"web-dev-0": T}
    assert plan.pending == ()
