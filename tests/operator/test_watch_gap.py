"""The operator recovers from kopf's defect (tests/operator/test_kopf_limits.py): an Agent deleted while
the API server was down is dropped from its cache by the listing that follows kopf's relist, and the team
gets it back. The resync period stays at its default (300 s): the listing comes from the relist itself."""

from __future__ import annotations

from typing import Any

import pytest

from support.faults import API_SERVER, delete_in_etcd, restart
from support.kube import Kubectl, wait_for
from tmux_orchestrator.api.constants import GROUP
from tmux_orchestrator.devcluster.cluster import LocalCluster

from .conftest import Nodes, Operator
from .helpers import POOL, agents, member, team, wait_ready

pytestmark = pytest.mark.cluster


@pytest.mark.timeout(240)
def test_an_agent_deleted_during_a_watch_gap_is_created_again(
    control_plane: LocalCluster, operator: Operator, nodes: Nodes, kube: Kubectl, namespace: str
) -> None:
    nodes.start(f"{namespace}-a", f"{POOL}={namespace}")
    kube.apply(team("web", namespace, member("pm"), member("dev")))
    wait_ready(kube, "web", 2)
    lost = agents(kube, "web")["web-dev-0"]["metadata"]["uid"]

    # The gap: the API server is down while the Agent is deleted (straight from etcd: no watch sees it);
    # it comes back with a watch cache that starts after the deletion, so kopf must list again.
    restart(
        control_plane,
        API_SERVER,
        lambda: delete_in_etcd(control_plane, f"/registry/{GROUP}/agents/{namespace}/web-dev-0"),
    )

    def created_again() -> dict[str, Any] | None:
        agent = agents(kube, "web").get("web-dev-0")
        return agent if agent is not None and agent["metadata"]["uid"] != lost else None

    again = wait_for(created_again, timeout=120, message="web-dev-0 created again")
    assert again["spec"]["member"] == "dev"
    wait_ready(kube, "web", 2)
    assert f"Agent {namespace}/web-dev-0: not in the listing" in operator.log()
