"""Operator tests against the session's real control plane: the real operator as a subprocess, and stand-in
node agents (stand_in_node.py) in place of the real node agent, so the operator is tested on its own."""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from support.kube import Kubectl
from support.processes import ProjectProcess
from tmux_orchestrator.devcluster.cluster import LocalCluster, free_port
from tmux_orchestrator.kube.client import NODE_LEASE_NAMESPACE, node_lease_name

STAND_IN_NODE = Path(__file__).with_name("stand_in_node.py")
RENEW_SECONDS = 2.0


@dataclass
class Operator(ProjectProcess):
    metrics_port: int = 0
    liveness_port: int = 0

    def health(self) -> dict[str, object]:
        """kopf's liveness endpoint: 200 and the probe results (an HTTPError otherwise)."""
        url = f"http://127.0.0.1:{self.liveness_port}/healthz"
        with urllib.request.urlopen(url, timeout=5) as answer:
            result: dict[str, object] = json.loads(answer.read())
        return result

    def metrics(self) -> dict[str, float]:
        """Every sample of /metrics, keyed `name{label="value",...}` (labels sorted)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
        samples: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                samples[f"{sample.name}{{{labels}}}"] = sample.value
        return samples

    def api_writes(self) -> float:
        return sum(v for k, v in self.metrics().items() if k.startswith("tmux_orchestrator_api_writes_total"))


@dataclass
class Nodes:
    """Stand-in node agents started by a test; all killed and their TmuxNodes and Leases deleted after it."""

    kubectl: Kubectl
    log_dir: Path
    started: dict[str, ProjectProcess] = field(default_factory=dict)

    def start(
        self, name: str, *labels: str, capacity: int = 100, failed: tuple[str, ...] = ()
    ) -> ProjectProcess:
        argv = [
            sys.executable,
            str(STAND_IN_NODE),
            f"--kubeconfig={self.kubectl.kubeconfig}",
            f"--node={name}",
            f"--capacity={capacity}",
            f"--renew-seconds={RENEW_SECONDS}",
            *(f"--label={label}" for label in labels),
            *(f"--failed={agent}" for agent in failed),
        ]
        self.started[name] = ProjectProcess(argv, self.log_dir / f"node-{name}.log").start()
        return self.started[name]

    def cleanup(self) -> None:
        for process in self.started.values():
            process.kill()
        for name in self.started:
            self.kubectl.run("delete", "tmuxnode", name, "--ignore-not-found", "--wait=false", check=False)
            self.kubectl.in_namespace(NODE_LEASE_NAMESPACE).run(
                "delete", "lease", node_lease_name(name), "--ignore-not-found", "--wait=false", check=False
            )


def operator_process(
    control_plane: LocalCluster, log_path: Path, *namespaces: str, extra: Sequence[str] = ()
) -> Operator:
    port, liveness = free_port(), free_port()
    argv = [
        sys.executable,
        "-m",
        "tmux_orchestrator.cli",
        "operator",
        f"--kubeconfig={control_plane.kubeconfig}",
        f"--metrics-port={port}",
        f"--liveness-port={liveness}",
        *(f"--namespace={namespace}" for namespace in namespaces),
        *extra,
    ]
    return Operator(argv, log_path, metrics_port=port, liveness_port=liveness)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report: pytest.TestReport = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    report = getattr(request.node, "rep_call", None)
    return report is None or report.failed


@pytest.fixture
def nodes(
    kubectl: Kubectl, crds: list[str], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Nodes]:
    started = Nodes(kubectl, tmp_path)
    yield started
    started.cleanup()
    if _failed(request):
        for name, process in started.started.items():
            print(f"--- stand-in node {name} log ---\n{process.log()[-4000:]}")


def _operator_fixture(operator: Operator, request: pytest.FixtureRequest) -> Iterator[Operator]:
    operator.start()
    yield operator
    operator.stop()
    log = operator.log()
    if _failed(request):
        print(f"--- operator log ---\n{log[-12000:]}")
    assert "Traceback" not in log, "the operator logged an unexpected error (log above)"


# Both operator fixtures depend on `namespace` and `nodes` to be stopped before those are cleaned up: an
# operator that sees its nodes vanish in teardown would move teams and post events nobody asked for.


@pytest.fixture
def operator(
    control_plane: LocalCluster, namespace: str, nodes: Nodes, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Operator]:
    """The operator serving only this test's namespace (other tests' leftovers cannot disturb it)."""
    yield from _operator_fixture(
        operator_process(control_plane, tmp_path / "operator.log", namespace), request
    )


@pytest.fixture
def cluster_operator(
    control_plane: LocalCluster, namespace: str, nodes: Nodes, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Operator]:
    """The operator as installed by default: every namespace."""
    yield from _operator_fixture(operator_process(control_plane, tmp_path / "operator.log"), request)
