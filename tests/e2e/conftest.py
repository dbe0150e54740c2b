"""The whole system: the real operator and real node agents (each on its own tmux socket) against the
session's control plane, with the project's fake agent CLI in the panes.

Each test gets its own namespace, an operator serving only that namespace, and node agents whose TmuxNodes
carry a pool label unique to the test; teams select that pool, so tests never schedule onto each other's
nodes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.e2e import Node, System
from support.kube import Kubectl
from support.processes import start_operator, start_sidecar, tmux
from tmux_orchestrator.devcluster.cluster import LocalCluster

POOL_LABEL = "orchestrator.tmux.dev/pool"


@pytest.fixture
def operator_args() -> tuple[str, ...]:
    """Extra operator arguments; a module overrides this fixture to change them."""
    return ()


@pytest.fixture
def system(
    control_plane: LocalCluster,
    kube: Kubectl,
    namespace: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    operator_args: tuple[str, ...],
) -> Iterator[System]:
    pool = f"pool-{uuid.uuid4().hex[:6]}"
    nodes: list[Node] = []

    def start_node() -> Node:
        name = f"{pool}-n{len(nodes)}"
        socket = f"tmo-e2e-{name}"
        process = start_sidecar(
            control_plane.kubeconfig,
            name,
            socket,
            tmp_path,
            "--node-label",
            f"{POOL_LABEL}={pool}",
            "--capacity",
            "40",
            "--screen-port",  # the dashboard's screens (a free port, advertised in the TmuxNode's status)
            "0",
            "--screen-host",
            "127.0.0.1",
        )
        node = Node(name, socket, process)
        nodes.append(node)
        return node

    operator = start_operator(control_plane.kubeconfig, tmp_path, "--namespace", namespace, *operator_args)
    start_node()
    yield System(kube, namespace, pool, operator, nodes, start_node)
    operator.stop()
    for node in nodes:
        node.process.stop()
        tmux(node.socket, "kill-server")
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(f"--- operator log ---\n{operator.log()[-8000:]}")
        for node in nodes:
            print(f"--- node agent {node.name} log ---\n{node.process.log()[-4000:]}")
