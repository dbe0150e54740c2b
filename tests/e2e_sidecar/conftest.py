"""A real node agent process per test, on its own tmux socket, against the session's control plane."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.processes import ProjectProcess, start_sidecar, tmux
from tmux_orchestrator.devcluster.cluster import LocalCluster


@pytest.fixture
def node_name() -> str:
    return f"node-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def tmux_socket(node_name: str) -> Iterator[str]:
    socket = f"tmo-test-{node_name}"
    yield socket
    tmux(socket, "kill-server")


@pytest.fixture
def sidecar(
    control_plane: LocalCluster,
    crds: list[str],
    node_name: str,
    tmux_socket: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[ProjectProcess]:
    process = start_sidecar(control_plane.kubeconfig, node_name, tmux_socket, tmp_path)
    yield process
    process.stop()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(f"--- sidecar log ---\n{process.log()[-6000:]}")
