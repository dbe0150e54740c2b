"""plan_lost_agents: agents last reported by a node whose Lease expired are marked Lost, once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tmux_orchestrator.api import AgentPhase
from tmux_orchestrator.core import Observed, ObservedTeam
from tmux_orchestrator.core.lost import plan_lost_agents

from .builders import NOW, agent_status, member, node, observed_agent, team_spec

SPEC = team_spec(member("dev", replicas=1))
TEAM = ObservedTeam(name="web", namespace="ns", uid="uid-web", generation=1, spec=SPEC)


def observe(agent_fields: dict[str, Any], *nodes: Any) -> Observed:
    return Observed(
        team=TEAM, now=NOW, agents=[observed_agent(SPEC, "dev", 0, **agent_fields)], nodes=list(nodes)
    )


CASES = [
    ("live-node-nothing-to-do", {}, [node("node-a", renewed=-5)], []),
    ("expired-lease-marks-lost", {}, [node("node-a", renewed=-120)], ["web-dev-0"]),
    ("no-lease-at-all-marks-lost", {}, [node("node-a", renewed=None)], ["web-dev-0"]),
    ("node-object-gone-marks-lost", {}, [], ["web-dev-0"]),
    ("already-lost-is-not-written-again", {"phase": AgentPhase.LOST}, [node("node-a", renewed=-120)], []),
    ("no-status-yet-nothing-to-say", {"status": None}, [node("node-a", renewed=-120)], []),
    (
        "moved-but-not-yet-reported-by-the-new-node",
        {"node_name": "node-b", "status": agent_status(revision="r", node_name="node-a")},
        [node("node-a", renewed=-120), node("node-b", renewed=-1)],
        ["web-dev-0"],
    ),
    (
        "reported-by-the-new-live-node",
        {"node_name": "node-b"},
        [node("node-a", renewed=-120), node("node-b", renewed=-1)],
        [],
    ),
]


@pytest.mark.parametrize(("fields", "nodes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_plan_lost_agents(fields: dict[str, Any], nodes: list[Any], expected: list[str]) -> None:
    assert [name for name, _ in plan_lost_agents(observe(fields, *nodes))] == expected


def test_the_patch_says_lost_not_ready_and_why() -> None:
    ((_, patch),) = plan_lost_agents(observe({}, node("node-a", renewed=-120)))
    assert patch["phase"] == "Lost" and patch["ready"] is False and patch["pid"] is None
    (condition,) = patch["conditions"]
    assert (condition["status"], condition["reason"]) == ("False", "NodeLost")
    assert "node-a" in condition["message"]


def test_a_deleting_agent_is_left_alone() -> None:
    observed = observe({}, node("node-a", renewed=-120))
    deleting = replace(observed, agents=[replace(observed.agents[0], deleting=True)])
    assert plan_lost_agents(deleting) == []
