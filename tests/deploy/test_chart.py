"""The Helm chart as an installer sees it: Helm 4's strict lint, the values schema, what it renders, and the
API server's verdict on its pods (Pod Security "restricted")."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from support.kube import Kubectl
from tmux_orchestrator import crdgen

from .chart import CHART, Manifest, helm, of_kind, one, pod_from, render, set_flags
from .conftest import Installation

VARIANTS: dict[str, dict[str, str]] = {
    "defaults": {},
    "host-paths-capacity-namespaces": {
        "sidecar.tmuxSocket.volume": "hostPath",
        "sidecar.workspace.volume": "hostPath",
        "sidecar.capacity": "10",
        "sidecar.nodeLabels.gpu": "a100",
        "sidecar.agentNice": "0",
        "sidecar.agentCpuWeight": "0",
        "operator.watchNamespaces": "{team-a,team-b}",
        "admissionPolicy.enabled": "false",
    },
    "operator-only": {"sidecar.enabled": "false", "operator.metrics.service.enabled": "false"},
}


@pytest.mark.parametrize("values", VARIANTS.values(), ids=list(VARIANTS))
def test_chart_is_lint_clean_under_helm_4_strict(values: dict[str, str]) -> None:
    assert helm("version", "--short").stdout.startswith("v4.")
    result = helm("lint", "--strict", str(CHART), *set_flags(values))
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout
    assert "[WARNING]" not in result.stdout and "[ERROR]" not in result.stdout, result.stdout


def test_chart_crds_are_the_crds_generated_from_the_models() -> None:
    shipped = {path.name: path.read_text() for path in sorted((CHART / "crds").glob("*.yaml"))}
    assert shipped == crdgen.crd_files(), (
        "charts/tmux-orchestrator/crds/ differs from the models: "
        "tmux-orchestrator crds -o charts/tmux-orchestrator/crds"
    )


MISTAKES: dict[str, tuple[dict[str, str], str]] = {
    "unknown-key": ({"operator.replica": "2"}, "additional properties 'replica' not allowed"),
    "socket-volume": ({"sidecar.tmuxSocket.volume": "nfs"}, "value must be one of 'emptyDir', 'hostPath'"),
    "negative-capacity": ({"sidecar.capacity": "-1"}, "/sidecar/capacity"),
    "metrics-port-0": ({"operator.metrics.port": "0"}, "/operator/metrics/port"),
    "relative-host-path": ({"sidecar.tmuxSocket.hostPath": "run/tmux"}, "/sidecar/tmuxSocket/hostPath"),
    "namespace-not-dns": ({"operator.watchNamespaces": "{Team_A}"}, "/operator/watchNamespaces/0"),
}


@pytest.mark.parametrize(("values", "error"), MISTAKES.values(), ids=list(MISTAKES))
def test_values_schema_rejects_mistakes_before_anything_is_installed(
    values: dict[str, str], error: str
) -> None:
    result = helm("template", "t", str(CHART), *set_flags(values), check=False)
    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr
    assert error in result.stderr, result.stderr


def container(workload: Manifest) -> dict[str, Any]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


RESTRICTED = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


def test_operator_is_two_leader_elected_replicas_with_kopf_probes_and_a_restricted_security_context() -> None:
    deployment = one(render("t", "tmo"), "Deployment", "-operator")
    assert deployment["spec"]["replicas"] == 2
    assert "strategy" not in deployment["spec"]  # RollingUpdate: new pods wait as standbys
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["serviceAccountName"] == "t-tmux-orchestrator-operator"
    main = container(deployment)
    assert main["securityContext"] == RESTRICTED
    assert main["args"][:2] == ["operator", "--metrics-port=8080"]
    assert {"--leader-elect", "--leader-election-lease=t-tmux-orchestrator-operator"} <= set(main["args"])
    assert "--liveness-port=8081" in main["args"]
    assert {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}} in main[
        "env"
    ]
    assert main["ports"] == [
        {"name": "metrics", "containerPort": 8080, "protocol": "TCP"},
        {"name": "healthz", "containerPort": 8081, "protocol": "TCP"},
    ]
    for probe in ("livenessProbe", "readinessProbe"):
        assert main[probe]["httpGet"] == {"path": "/healthz", "port": "healthz"}


def test_node_agent_is_named_after_its_kubernetes_node_and_keeps_its_socket_where_values_say() -> None:
    default = one(render("t", "tmo"), "DaemonSet")
    main = container(default)
    env = {item["name"]: item for item in main["env"]}
    assert env["NODE_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
    assert "--tmux-socket-path=/run/tmux-orchestrator/tmux.sock" in main["args"]
    assert not any(arg.startswith("--capacity") for arg in main["args"])
    assert "--agent-nice=10" in main["args"]  # agents yield the CPU to the node agent unless turned off
    assert "--agent-cpu-weight=100" in main["args"]
    assert main["securityContext"] == RESTRICTED
    volumes = {v["name"]: v for v in default["spec"]["template"]["spec"]["volumes"]}
    assert volumes["tmux-socket"] == {"name": "tmux-socket", "emptyDir": {}}
    assert "initContainers" not in default["spec"]["template"]["spec"]  # nothing runs as root

    on_host = one(render("t", "tmo", VARIANTS["host-paths-capacity-namespaces"]), "DaemonSet")
    volumes = {v["name"]: v for v in on_host["spec"]["template"]["spec"]["volumes"]}
    assert volumes["tmux-socket"]["hostPath"] == {
        "path": "/var/run/tmux-orchestrator",
        "type": "DirectoryOrCreate",
    }
    assert volumes["workspace"]["hostPath"]["path"] == "/srv/tmux-orchestrator"
    assert "--capacity=10" in container(on_host)["args"]
    assert "--node-label=gpu=a100" in container(on_host)["args"]
    assert "--agent-nice=0" in container(on_host)["args"]
    assert "--agent-cpu-weight=0" in container(on_host)["args"]
    # Host directories start out owned by root: one init container hands them to the pod's user.
    (init,) = on_host["spec"]["template"]["spec"]["initContainers"]
    assert init["command"] == ["chown", "10001:10001", "/run/tmux-orchestrator", "/workspace"]
    assert init["securityContext"]["capabilities"] == {"drop": ["ALL"], "add": ["CHOWN"]}


def test_operator_permissions_follow_the_served_namespaces() -> None:
    everywhere = render("t", "tmo")
    bindings = {b["metadata"]["name"] for b in of_kind(everywhere, "ClusterRoleBinding")}
    assert "t-tmux-orchestrator-operator" in bindings
    served = render("t", "tmo", VARIANTS["host-paths-capacity-namespaces"])
    bindings = {b["metadata"]["name"] for b in of_kind(served, "ClusterRoleBinding")}
    assert "t-tmux-orchestrator-operator" not in bindings  # nothing namespaced is granted cluster-wide
    per_namespace = [
        b["metadata"]["namespace"]
        for b in of_kind(served, "RoleBinding")
        if b["roleRef"]
        == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "t-tmux-orchestrator-operator",
        }
    ]
    assert per_namespace == ["team-a", "team-b"]
    assert not of_kind(served, "ValidatingAdmissionPolicy")


def test_helm_installed_every_object_the_chart_renders(kubectl: Kubectl, installation: Installation) -> None:
    for obj in installation.objects:
        kind, name = obj["kind"].lower(), obj["metadata"]["name"]
        namespace = obj["metadata"].get("namespace")
        where = ["-n", namespace] if namespace else []
        assert kubectl.run("get", kind, name, *where, "-o", "name").stdout.strip(), f"{kind}/{name} missing"


@pytest.mark.parametrize("workload", ["Deployment", "DaemonSet"])
def test_pods_pass_pod_security_restricted(
    kubectl: Kubectl, installation: Installation, workload: str
) -> None:
    # The installation's namespace enforces "restricted": the API server refuses a pod that is not.
    pod = pod_from(
        one(installation.objects, workload), f"restricted-{workload.lower()}-{uuid.uuid4().hex[:4]}"
    )
    kubectl.apply(pod)


def test_host_path_sockets_need_a_namespace_that_allows_host_paths(
    kubectl: Kubectl, installation: Installation
) -> None:
    variant = render(installation.release, installation.namespace, {"sidecar.tmuxSocket.volume": "hostPath"})
    pod = pod_from(one(variant, "DaemonSet"), "host-path-sidecar")
    result = kubectl.apply(pod, check=False)
    assert result.returncode != 0
    assert 'violates PodSecurity "restricted:latest"' in result.stderr
    assert 'volume "tmux-socket" uses restricted volume type "hostPath"' in result.stderr
