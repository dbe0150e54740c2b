"""Session fixtures: one real local control plane (etcd + kube-apiserver + kube-controller-manager) per test
session, the real CRDs installed into it, and a fresh namespace per test that needs one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.kube import Kubectl, install_crds, running_cluster
from support.processes import remove_empty_cpu_groups
from tmux_orchestrator.devcluster.cluster import LocalCluster


@pytest.fixture(scope="session", autouse=True)
def no_cpu_groups_left() -> Iterator[None]:
    """The suite's node agents each create a cpu cgroup for their agents, its control planes one for
    theirs; none is left behind."""
    yield
    remove_empty_cpu_groups()


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with running_cluster(tmp_path_factory.mktemp("control-plane")) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def kubectl(control_plane: LocalCluster) -> Kubectl:
    return Kubectl(control_plane.kubeconfig)


@pytest.fixture(scope="session")
def crds(kubectl: Kubectl) -> list[str]:
    return install_crds(kubectl)


@pytest.fixture
def namespace(kubectl: Kubectl, crds: list[str]) -> Iterator[str]:
    name = kubectl.create_namespace()
    yield name
    kubectl.run("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def kube(kubectl: Kubectl, namespace: str) -> Kubectl:
    """kubectl bound to this test's namespace."""
    return kubectl.in_namespace(namespace)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item, so fixtures can print process logs when a test failed."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)
