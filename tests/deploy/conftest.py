"""The chart installed into the session's control plane (its ServiceAccounts, RBAC and admission policy), and
node agents running as the chart's ServiceAccount with pod-bound tokens, as in a DaemonSet pod."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from support.kube import Kubectl
from support.processes import ProjectProcess, start_sidecar, tmux
from tmux_orchestrator.devcluster.cluster import LocalCluster

from .chart import CHART, Manifest, ServiceAccountRef, helm, one, pod_from, set_flags, token_kubeconfig

CLUSTER_SCOPED = (
    "clusterroles,clusterrolebindings,validatingadmissionpolicies,validatingadmissionpolicybindings"
)


@dataclass(frozen=True)
class Installation:
    release: str
    namespace: str
    objects: list[Manifest]

    @property
    def operator(self) -> ServiceAccountRef:
        return ServiceAccountRef(self.namespace, f"{self.release}-tmux-orchestrator-operator")

    @property
    def sidecar(self) -> ServiceAccountRef:
        return ServiceAccountRef(self.namespace, f"{self.release}-tmux-orchestrator-sidecar")


@pytest.fixture(scope="module")
def installation(kubectl: Kubectl, crds: list[str]) -> Iterator[Installation]:
    """`helm install` of the chart (Helm 4 against the real API server) into a namespace of its own that
    enforces the Pod Security Standard "restricted". The operator serves only that namespace
    (watchNamespaces), so it cannot touch teams of other tests sharing the control plane. Nothing runs the
    Deployment and DaemonSet here (no kubelet): tests start the processes themselves, with the tokens of
    the chart's ServiceAccounts."""
    namespace = kubectl.create_namespace("chart")
    kubectl.run("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    release = f"r{uuid.uuid4().hex[:6]}"
    scope = ["--namespace", namespace, "--kubeconfig", str(kubectl.kubeconfig)]
    helm(
        "install",
        release,
        str(CHART),
        *scope,
        *set_flags({"operator.watchNamespaces": f"{{{namespace}}}", "operator.dashboard.enabled": "true"}),
    )
    try:
        manifest = helm("get", "manifest", release, *scope).stdout
        yield Installation(release, namespace, [doc for doc in yaml.safe_load_all(manifest) if doc])
    finally:
        helm("uninstall", release, *scope, check=False)
        kubectl.run("delete", "namespace", namespace, "--wait=false", check=False)


@dataclass(frozen=True)
class NodeAgentPod:
    """A Kubernetes Node and a node agent Pod bound to it (never run: there is no kubelet), whose token
    carries the node's name, exactly like the DaemonSet's pod on that node."""

    node: str
    pod: str
    kubeconfig: Path


@pytest.fixture
def node_agent_pod(
    kubectl: Kubectl, control_plane: LocalCluster, installation: Installation, tmp_path: Path
) -> Iterator[Callable[[str], NodeAgentPod]]:
    created: list[str] = []

    def make(label: str) -> NodeAgentPod:
        node = f"node-{label}-{uuid.uuid4().hex[:6]}"
        kubectl.apply({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}})
        created.append(node)
        daemonset = one(installation.objects, "DaemonSet")
        pod = f"sidecar-{node}"
        kubectl.apply(pod_from(daemonset, pod, node))
        path = tmp_path / f"{node}.kubeconfig"
        token_kubeconfig(kubectl, control_plane.server, installation.sidecar, path, bound_pod=pod)
        return NodeAgentPod(node, pod, path)

    yield make
    for node in created:
        kubectl.run("delete", "node", node, "--wait=false", check=False)
        kubectl.run("delete", "tmuxnode", node, "--wait=false", check=False)


@pytest.fixture
def processes(request: pytest.FixtureRequest) -> Iterator[list[ProjectProcess]]:
    """Processes a test started (node agents, operators): stopped afterwards, node agents' tmux servers too,
    and their logs shown when the test failed."""
    started: list[ProjectProcess] = []
    yield started
    for process in started:
        process.stop()
        if "--tmux-socket" in process.args:
            tmux(process.args[list(process.args).index("--tmux-socket") + 1], "kill-server")
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            print(f"--- {process.log_path.name} ---\n{process.log()[-4000:]}")


def start_node_agent(
    pod: NodeAgentPod, log_dir: Path, into: list[ProjectProcess], *extra: str
) -> ProjectProcess:
    process = start_sidecar(pod.kubeconfig, pod.node, f"tmo-test-{pod.node}", log_dir, *extra)
    into.append(process)
    return process


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)
