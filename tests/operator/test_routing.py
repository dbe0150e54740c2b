"""route_message: which node agent delivers an AgentMessage (pure, table-driven)."""

from __future__ import annotations

from typing import Any

import pytest

from tmux_orchestrator.controller.routing import MessageTarget, RouteDecision, RouteOutcome, route_message

AGENT = "orchestrator.tmux.dev/agent"
NODE = "orchestrator.tmux.dev/node"


def message(
    spec: dict[str, Any] | None = None, labels: dict[str, str] | None = None, phase: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "metadata": {"name": "m", "namespace": "ns", "labels": labels or {}},
        "spec": spec if spec is not None else {"agent": "web-pm-0", "text": "hi"},
    }
    if phase is not None:
        body["status"] = {"phase": phase}
    return body


PM_ON_A = MessageTarget("web-pm-0", "node-a")
ROUTED_TO_A = {AGENT: "web-pm-0", NODE: "node-a"}

CASES = [
    pytest.param(
        message(),
        PM_ON_A,
        RouteDecision(RouteOutcome.ROUTED, "web-pm-0", ROUTED_TO_A),
        id="new-message-gets-agent-and-node",
    ),
    pytest.param(
        message({"team": "web", "member": "dev", "text": "hi"}),
        MessageTarget("web-dev-0", "node-a"),
        RouteDecision(RouteOutcome.ROUTED, "web-dev-0", {AGENT: "web-dev-0", NODE: "node-a"}),
        id="team-and-member-mean-ordinal-0",
    ),
    pytest.param(
        message(labels=ROUTED_TO_A),
        PM_ON_A,
        RouteDecision(RouteOutcome.UNCHANGED, "web-pm-0"),
        id="routed-and-in-place-writes-nothing",
    ),
    pytest.param(
        message(labels=ROUTED_TO_A, phase="Pending"),
        MessageTarget("web-pm-0", "node-b"),
        RouteDecision(RouteOutcome.REROUTED, "web-pm-0", {NODE: "node-b"}),
        id="pending-message-follows-its-agent",
    ),
    pytest.param(
        message(labels=ROUTED_TO_A, phase="Delivered"),
        MessageTarget("web-pm-0", "node-b"),
        RouteDecision(RouteOutcome.FINISHED, "web-pm-0"),
        id="delivered-message-stays",
    ),
    pytest.param(
        message(labels=ROUTED_TO_A, phase="Expired"),
        MessageTarget("web-pm-0", "node-b"),
        RouteDecision(RouteOutcome.FINISHED, "web-pm-0"),
        id="expired-message-stays",
    ),
    pytest.param(
        message(),
        None,
        RouteDecision(RouteOutcome.TARGET_MISSING, "web-pm-0"),
        id="missing-agent-leaves-message-unrouted",
    ),
    pytest.param(
        message(),
        MessageTarget("web-pm-0", None),
        RouteDecision(RouteOutcome.ROUTED, "web-pm-0", {AGENT: "web-pm-0", NODE: ""}),
        id="unscheduled-agent-routes-to-no-node",
    ),
    pytest.param(
        message(labels={AGENT: "web-pm-0", NODE: ""}),
        PM_ON_A,
        RouteDecision(RouteOutcome.ROUTED, "web-pm-0", {NODE: "node-a"}),
        id="agent-scheduled-later-gets-its-node",
    ),
    pytest.param(
        message(labels={AGENT: "someone-else", NODE: "node-z"}),
        PM_ON_A,
        RouteDecision(RouteOutcome.REROUTED, "web-pm-0", ROUTED_TO_A),
        id="wrong-labels-are-corrected",
    ),
    pytest.param(
        message({"text": "to nobody"}),
        PM_ON_A,
        RouteDecision(RouteOutcome.NO_TARGET),
        id="no-target-in-spec",
    ),
    pytest.param(
        message(),
        MessageTarget("web-dev-0", "node-a"),
        RouteDecision(RouteOutcome.TARGET_MISSING, "web-pm-0"),
        id="target-of-another-name-is-not-the-target",
    ),
]


@pytest.mark.parametrize(("body", "target", "expected"), CASES)
def test_route_message(body: dict[str, Any], target: MessageTarget | None, expected: RouteDecision) -> None:
    assert route_message(body, target) == expected
