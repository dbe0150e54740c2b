"""Scheduling: which node a team lands on, why it stays Pending, and moving it off a lost node."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from tmux_orchestrator.core.agents import AgentView
from tmux_orchestrator.core.observed import ObservedNode
from tmux_orchestrator.core.plan import assign_nodes
from tmux_orchestrator.core.scheduling import ScheduleDecision, SchedulingReason, schedule_team

from .builders import at, dev_key, node, observed_agent, team_spec

GPU = {"gpu": "yes"}


def decide(
    nodes: Sequence[ObservedNode],
    *,
    required: int = 4,
    current: str | None = None,
    selector: Mapping[str, str] | None = None,
    own: Mapping[str, int] | None = None,
) -> ScheduleDecision:
    return schedule_team(
        nodes=nodes,
        selector=selector or {},
        required=required,
        current=current,
        own_agents_per_node=own or {},
        now=at(0),
    )


@pytest.mark.parametrize(
    ("nodes", "selector", "reason", "message"),
    [
        pytest.param([], None, SchedulingReason.NO_NODES, "no TmuxNodes registered", id="no-nodes"),
        pytest.param(
            [node(renewed=-60), node("b", renewed=None)],
            None,
            SchedulingReason.NODES_NOT_READY,
            "0/2 nodes fit 4 agent(s): 2 not Ready",
            id="leases-expired",
        ),
        pytest.param(
            [node(tmux_ready=False)],
            None,
            SchedulingReason.NODES_NOT_READY,
            "1 not Ready",
            id="tmux-not-ready",
        ),
        pytest.param(
            [node(unschedulable=True)],
            None,
            SchedulingReason.NODES_UNSCHEDULABLE,
            "1 unschedulable",
            id="cordoned",
        ),
        pytest.param(
            [node(labels={"gpu": "no"})],
            GPU,
            SchedulingReason.NODE_SELECTOR_MISMATCH,
            "1 not matching placement.nodeSelector",
            id="selector",
        ),
        pytest.param(
            [node(capacity=10, agents=7)],
            None,
            SchedulingReason.INSUFFICIENT_CAPACITY,
            "1 without room",
            id="full",
        ),
        pytest.param(
            [node(renewed=-60), node("b", labels={}), node("c", labels=GPU, capacity=2)],
            GPU,
            SchedulingReason.INSUFFICIENT_CAPACITY,
            "0/3 nodes fit 4 agent(s): 1 not Ready, 1 not matching placement.nodeSelector, 1 without room",
            id="reason-of-the-closest-node",
        ),
    ],
)
def test_no_fitting_node_says_why(
    nodes: list[ObservedNode], selector: dict[str, str] | None, reason: SchedulingReason, message: str
) -> None:
    decision = decide(nodes, selector=selector)
    assert decision.node is None
    assert decision.reason is reason
    assert message in decision.message


@pytest.mark.parametrize(
    ("nodes", "selector", "own", "chosen", "free"),
    [
        pytest.param(
            [node("a", agents=50), node("b", agents=10)], None, None, "b", 90, id="most-free-capacity"
        ),
        pytest.param([node("b"), node("a")], None, None, "a", 100, id="tie-by-name"),
        pytest.param([node("a"), node("b", labels=GPU)], GPU, None, "b", 100, id="selector"),
        pytest.param([node("a", capacity=4)], None, None, "a", 4, id="exact-fit"),
        pytest.param(
            [node("a", capacity=6, agents=5)],
            None,
            {"a": 3},
            "a",
            4,
            id="own-agents-do-not-count-against-the-team",
        ),
    ],
)
def test_scheduling_picks_a_fitting_node(
    nodes: list[ObservedNode],
    selector: dict[str, str] | None,
    own: dict[str, int] | None,
    chosen: str,
    free: int,
) -> None:
    decision = decide(nodes, selector=selector, own=own)
    assert (decision.node, decision.reason, decision.free_slots) == (chosen, SchedulingReason.SCHEDULED, free)


@pytest.mark.parametrize(
    "current_node",
    [
        pytest.param(node("a", unschedulable=True), id="cordoned"),
        pytest.param(node("a", capacity=2, agents=2), id="over-capacity"),
        pytest.param(node("a", tmux_ready=False), id="tmux-not-ready-but-lease-fresh"),
        pytest.param(node("a", renewed=-30), id="lease-aging"),
    ],
)
def test_team_stays_on_its_node_while_the_node_lives(current_node: ObservedNode) -> None:
    decision = decide([current_node, node("b")], current="a", own={"a": 2})
    assert (decision.node, decision.reason) == ("a", SchedulingReason.KEPT)


def test_lost_node_moves_the_team() -> None:
    decision = decide([node("a", renewed=-41), node("b")], current="a", own={"a": 4})
    assert (decision.node, decision.reason, decision.lost_node) == ("b", SchedulingReason.RESCHEDULED, "a")
    assert decision.moved
    assert "node a lost" in decision.message


def test_deleted_node_counts_as_lost() -> None:
    decision = decide([node("b")], current="gone")
    assert (decision.node, decision.lost_node) == ("b", "gone")


def test_lost_node_and_nowhere_to_go() -> None:
    decision = decide([node("a", renewed=-41), node("b", capacity=1)], current="a")
    assert (decision.node, decision.lost_node, decision.reason) == (
        None,
        "a",
        SchedulingReason.INSUFFICIENT_CAPACITY,
    )


@pytest.mark.parametrize(
    ("other", "expected", "reason"),
    [
        pytest.param(node("b", labels=GPU), "b", SchedulingReason.RESCHEDULED, id="moves-when-another-fits"),
        pytest.param(node("b"), "a", SchedulingReason.KEPT, id="stays-when-nothing-fits"),
    ],
)
def test_selector_change(other: ObservedNode, expected: str, reason: SchedulingReason) -> None:
    decision = decide([node("a"), other], current="a", selector=GPU)
    assert (decision.node, decision.reason) == (expected, reason)
    assert decision.lost_node is None


SPEC = team_spec()


@pytest.mark.parametrize(
    ("existing", "decision", "expected"),
    [
        pytest.param(
            {0: "a", 1: None, 2: None},
            ScheduleDecision("a", SchedulingReason.KEPT, free_slots=2),
            {0: "a", 1: "a", 2: None},
            id="new-agents-fill-free-slots",
        ),
        pytest.param(
            {0: "a", 1: "a", 2: "a"},
            ScheduleDecision("b", SchedulingReason.RESCHEDULED, free_slots=10, lost_node="a"),
            {0: "b", 1: "b", 2: "b"},
            id="moved-together",
        ),
        pytest.param(
            {0: "a", 1: "a", 2: None},
            ScheduleDecision(None, SchedulingReason.NO_NODES, lost_node="a"),
            {0: "a", 1: "a", 2: None},
            id="nowhere-to-go-keeps-placement",
        ),
    ],
)
def test_assign_nodes(
    existing: dict[int, str | None], decision: ScheduleDecision, expected: dict[int, str | None]
) -> None:
    views = [
        AgentView(dev_key(i), observed_agent(SPEC, "dev", i, node_name=n) if n else None, True)
        for i, n in existing.items()
    ]
    placed = assign_nodes(views, decision)
    assert placed == {dev_key(i).name: n for i, n in expected.items()}
