"""A node that looks lost only because the operator's Lease watch lags must not lose its teams: before a
team is moved, the Lease is read from the API server (here a fake that only answers read_lease)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tmux_orchestrator.controller.cache import ObjectKey
from tmux_orchestrator.controller.controller import Controller, ControllerConfig
from tmux_orchestrator.controller.observe import observe_team
from tmux_orchestrator.core.clock import format_micro_time
from tmux_orchestrator.kube.client import NODE_LEASE_NAMESPACE, node_lease_name

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TEAM = {
    "metadata": {"name": "web", "namespace": "ns", "uid": "team-uid", "resourceVersion": "5"},
    "spec": {"members": [{"name": "pm", "role": "pm", "command": ["claude"]}]},
    "status": {"node": "n1"},
}
AGENT = {
    "metadata": {
        "name": "web-pm-0",
        "namespace": "ns",
        "uid": "agent-uid",
        "resourceVersion": "6",
        "labels": {"orchestrator.tmux.dev/team": "web"},
    },
    "spec": {
        "teamRef": {"name": "web"},
        "member": "pm",
        "role": "pm",
        "ordinal": 0,
        "nodeName": "n1",
        "session": "web",
        "window": "pm-0",
        "revision": "abc",
        "template": {"command": ["claude"]},
    },
}


def lease(renewed: datetime, version: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": node_lease_name("n1"),
            "namespace": NODE_LEASE_NAMESPACE,
            "uid": "lease-uid",
            "resourceVersion": version,
            "labels": {"orchestrator.tmux.dev/node": "n1"},
        },
        "spec": {"holderIdentity": "n1", "leaseDurationSeconds": 40, "renewTime": format_micro_time(renewed)},
    }


class LeaseReader:
    def __init__(self, answer: dict[str, Any] | None) -> None:
        self.answer = answer
        self.reads = 0

    async def read_lease(self, name: str, namespace: str) -> dict[str, Any] | None:
        assert (name, namespace) == (node_lease_name("n1"), NODE_LEASE_NAMESPACE)
        self.reads += 1
        return self.answer


def controller_with(stale: dict[str, Any], answer: dict[str, Any] | None) -> tuple[Controller, LeaseReader]:
    kube = LeaseReader(answer)
    controller = Controller(kube, ControllerConfig())  # type: ignore[arg-type]  # only read_lease is used
    controller.caches.teams.put(TEAM)
    controller.caches.agents.put(AGENT)
    controller.caches.leases.put(stale)
    return controller, kube


async def test_a_lease_stale_in_the_cache_is_read_again_before_the_team_moves() -> None:
    controller, kube = controller_with(lease(NOW - timedelta(seconds=60), "10"), lease(NOW, "20"))
    observed = observe_team(controller.caches, ObjectKey("ns", "web"), NOW)
    assert observed is not None and not observed.nodes  # no TmuxNode cached: only the Lease matters here

    assert await controller._confirm_lost_nodes(observed)
    assert controller.caches.node_lease("n1") == lease(NOW, "20")
    assert kube.reads == 1


async def test_a_really_expired_lease_is_read_at_most_once_per_recheck_period() -> None:
    expired = lease(NOW - timedelta(seconds=60), "10")
    controller, kube = controller_with(expired, expired)
    observed = observe_team(controller.caches, ObjectKey("ns", "web"), NOW)
    assert observed is not None
    assert not await controller._confirm_lost_nodes(observed)
    assert not await controller._confirm_lost_nodes(observed)
    assert kube.reads == 1
