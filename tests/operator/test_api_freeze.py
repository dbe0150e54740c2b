"""The operator and a frozen API server (SIGSTOP: connections hang instead of being refused, as in a network
partition): it stays responsive while frozen and reconciles a change made after the thaw. Real control
plane, stand-in nodes."""

from __future__ import annotations

import json
import time

import pytest

from support.faults import frozen
from support.kube import Kubectl, wait_for
from tmux_orchestrator.devcluster.cluster import LocalCluster

from .conftest import Nodes, Operator
from .helpers import POOL, agents, member, team, wait_ready

pytestmark = pytest.mark.cluster
FREEZE_SECONDS = 25.0
"""Longer than a pass's detach time and the API calls' connect deadline; shorter than the stand-in nodes'
Lease duration (40 s), so the nodes are not lost merely because their renewals were frozen too."""


@pytest.mark.timeout(180)
def test_operator_reconciles_a_change_made_after_the_api_server_was_frozen(
    control_plane: LocalCluster, operator: Operator, nodes: Nodes, kube: Kubectl, namespace: str
) -> None:
    nodes.start(f"{namespace}-a", f"{POOL}={namespace}")
    kube.apply(team("web", namespace, member("pm"), member("dev", 1)))
    wait_ready(kube, "web", 2)

    answers: list[float] = []

    def probed_for_the_whole_freeze() -> bool:
        # The operator's event loop keeps answering its probes (nothing waits on the hung connections).
        assert operator.health()["operator"]["role"] == "leader"  # type: ignore[index]
        answers.append(time.monotonic())
        return answers[-1] - answers[0] >= FREEZE_SECONDS

    with frozen(control_plane):
        wait_for(probed_for_the_whole_freeze, timeout=FREEZE_SECONDS + 15, interval=1.0, message="freeze")
    thawed = time.monotonic()

    patch = [{"op": "replace", "path": "/spec/members/1/replicas", "value": 3}]
    kube.run("patch", "agentteam", "web", "--type=json", "-p", json.dumps(patch))
    wait_ready(kube, "web", 4, timeout=40)
    took = time.monotonic() - thawed
    print(f"{len(answers)} probe answers while frozen; scaled up {took:.1f} s after the thaw")
    assert sorted(agents(kube, "web")) == ["web-dev-0", "web-dev-1", "web-dev-2", "web-pm-0"]
