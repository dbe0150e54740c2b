"""A TmuxNode whose Lease expired reads Ready=Unknown (NodeLost), written once; a live one is left alone."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from tmux_orchestrator.api import Condition, ConditionStatus, TmuxNodeStatus
from tmux_orchestrator.core.nodes import plan_node_status

from .builders import at, node, stamp

LOST_READY = Condition(type="Ready", status=ConditionStatus.UNKNOWN, reason="NodeLost", message="gone")


@dataclass(frozen=True)
class Case:
    renewed: float | None
    """Seconds from NOW of the last Lease renewal (None: never)."""
    ready: Condition | None
    writes: bool
    wake_in: float | None


CASES = {
    "live-lease-nothing-to-write-wake-at-expiry": Case(-10, None, writes=False, wake_in=30),
    "expired-lease-ready-true": Case(-41, Condition(type="Ready", status=ConditionStatus.TRUE), True, None),
    "never-renewed": Case(None, None, writes=True, wake_in=None),
    "already-marked-lost": Case(-300, LOST_READY, writes=False, wake_in=None),
    "tmux-broken-then-lost": Case(-60, Condition(type="Ready", status=ConditionStatus.FALSE), True, None),
    "lease-just-renewed-after-lost": Case(0, LOST_READY, writes=False, wake_in=40),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
def test_plan_node_status(case: Case) -> None:
    observed = replace(
        node(renewed=case.renewed), status=TmuxNodeStatus(conditions=[case.ready] if case.ready else None)
    )
    plan = plan_node_status(observed, at(0))
    assert (plan.patch is not None) == case.writes
    assert plan.wake_at == (None if case.wake_in is None else at(case.wake_in))
    if plan.patch is not None:
        (ready,) = [c for c in plan.patch["conditions"] if c["type"] == "Ready"]
        assert (ready["status"], ready["reason"], ready["lastTransitionTime"]) == (
            "Unknown",
            "NodeLost",
            stamp(0),
        )
        assert ("never renewed" if case.renewed is None else "stopped renewing its Lease") in ready["message"]


def test_other_conditions_are_kept() -> None:
    other = Condition(type="DiskPressure", status=ConditionStatus.FALSE)
    observed = replace(node(renewed=-100), status=TmuxNodeStatus(conditions=[other]))
    plan = plan_node_status(observed, at(0))
    assert plan.patch is not None
    assert [c["type"] for c in plan.patch["conditions"]] == ["Ready", "DiskPressure"]


def test_a_new_node_without_a_lease_yet_gets_a_grace_period() -> None:
    fresh = replace(node(renewed=None), created_at=at(-10))
    plan = plan_node_status(fresh, at(0))
    assert (plan.patch, plan.wake_at) == (None, at(30))
    assert plan_node_status(fresh, at(31)).patch is not None
