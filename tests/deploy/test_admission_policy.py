"""The chart's ValidatingAdmissionPolicy: a node agent may write only what belongs to its own node, the node
its pod-bound ServiceAccount token names. RBAC alone would let any node agent rewrite every Agent's status."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from support.kube import Kubectl
from support.manifests import agent_manifest
from tmux_orchestrator.devcluster.cluster import LocalCluster

from .chart import token_kubeconfig
from .conftest import Installation, NodeAgentPod

GROUP = "orchestrator.tmux.dev"
Write = Callable[[Kubectl, Kubectl, str, str], subprocess.CompletedProcess[str]]
"""(admin in the namespace, node agent in the namespace, name, target node) → the node agent's request."""


def apply_status(
    kube: Kubectl, kind: str, name: str, status: dict[str, object]
) -> subprocess.CompletedProcess[str]:
    """A status write as the node agent makes it: one PATCH (kubectl patch would GET first, which the node
    agent may not)."""
    manifest = {"apiVersion": f"{GROUP}/v1alpha1", "kind": kind, "metadata": {"name": name}, "status": status}
    return kube.run(
        "apply",
        "--server-side",
        "--subresource=status",
        "-f",
        "-",
        stdin=yaml.safe_dump(manifest),
        check=False,
    )


def agent_status(admin: Kubectl, agent: Kubectl, name: str, node: str) -> subprocess.CompletedProcess[str]:
    admin.apply(agent_manifest(name, node, ["sleep", "1000"]))
    return apply_status(agent, "Agent", name, {"phase": "Running"})


def message_status(admin: Kubectl, agent: Kubectl, name: str, node: str) -> subprocess.CompletedProcess[str]:
    admin.apply(
        {
            "apiVersion": f"{GROUP}/v1alpha1",
            "kind": "AgentMessage",
            "metadata": {"name": name, "labels": {f"{GROUP}/node": node}},
            "spec": {"agent": "somebody", "text": "hi"},
        }
    )
    return apply_status(agent, "AgentMessage", name, {"attempts": 1})


def message_from_an_agent(
    _admin: Kubectl, agent: Kubectl, name: str, node: str
) -> subprocess.CompletedProcess[str]:
    """A message as the local API creates it for an agent's `team send`: from the agent, from its node."""
    manifest = {
        "apiVersion": f"{GROUP}/v1alpha1",
        "kind": "AgentMessage",
        "metadata": {"name": name, "labels": {f"{GROUP}/from-node": node}},
        "spec": {"agent": "web-dev-0", "from": "web-pm-0", "text": "task: build it"},
    }
    return agent.run("create", "-f", "-", stdin=yaml.safe_dump(manifest), check=False)


def tmux_node(_admin: Kubectl, agent: Kubectl, _name: str, node: str) -> subprocess.CompletedProcess[str]:
    manifest = {"apiVersion": f"{GROUP}/v1alpha1", "kind": "TmuxNode", "metadata": {"name": node}}
    return Kubectl(agent.kubeconfig).run("create", "-f", "-", stdin=yaml.safe_dump(manifest), check=False)


def lease(_admin: Kubectl, agent: Kubectl, _name: str, node: str) -> subprocess.CompletedProcess[str]:
    manifest = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": f"tmuxnode-{node}", "namespace": "kube-node-lease"},
        "spec": {"holderIdentity": node, "leaseDurationSeconds": 40},
    }
    return Kubectl(agent.kubeconfig).run(
        "apply", "--server-side", "-f", "-", stdin=yaml.safe_dump(manifest), check=False
    )


WRITES: dict[str, Write] = {
    "agent-status": agent_status,
    "message-status": message_status,
    "message-from-an-agent": message_from_an_agent,
    "tmuxnode": tmux_node,
    "lease": lease,
}


@pytest.fixture
def as_node_agent(
    node_agent_pod: Callable[[str], NodeAgentPod], installation: Installation
) -> tuple[NodeAgentPod, Kubectl]:
    pod = node_agent_pod("vap")
    return pod, Kubectl(pod.kubeconfig, installation.namespace)


@pytest.mark.parametrize("write", list(WRITES), ids=list(WRITES))
def test_node_agent_may_write_what_belongs_to_its_own_node(
    kubectl: Kubectl, installation: Installation, as_node_agent: tuple[NodeAgentPod, Kubectl], write: str
) -> None:
    pod, agent = as_node_agent
    admin = kubectl.in_namespace(installation.namespace)
    result = WRITES[write](admin, agent, f"own-{write}", pod.node)
    assert result.returncode == 0, result.stderr
    kubectl.run("delete", "lease", f"tmuxnode-{pod.node}", "-n", "kube-node-lease", check=False)


@pytest.mark.parametrize("write", list(WRITES), ids=list(WRITES))
def test_node_agent_may_not_write_what_belongs_to_another_node(
    kubectl: Kubectl, installation: Installation, as_node_agent: tuple[NodeAgentPod, Kubectl], write: str
) -> None:
    pod, agent = as_node_agent
    admin = kubectl.in_namespace(installation.namespace)
    other = f"{pod.node}-other"
    result = WRITES[write](admin, agent, f"other-{write}", other)
    assert result.returncode != 0
    assert "sidecar-own-node" in result.stderr and "denied request" in result.stderr, result.stderr
    assert f"the node agent of node {pod.node} may not write" in result.stderr
    assert f'of node "{other}"' in result.stderr


def test_node_agent_may_not_send_as_a_person(
    installation: Installation, as_node_agent: tuple[NodeAgentPod, Kubectl]
) -> None:
    pod, agent = as_node_agent
    manifest = {
        "apiVersion": f"{GROUP}/v1alpha1",
        "kind": "AgentMessage",
        "metadata": {"name": "no-sender", "labels": {f"{GROUP}/from-node": pod.node}},
        "spec": {"agent": "web-dev-0", "text": "who am I?"},
    }
    result = agent.run("create", "-f", "-", stdin=yaml.safe_dump(manifest), check=False)
    assert result.returncode != 0
    assert "a node agent creates messages only from one of its agents (spec.from)" in result.stderr, (
        result.stderr
    )


def test_a_token_not_bound_to_a_pod_on_a_node_is_refused(
    kubectl: Kubectl, control_plane: LocalCluster, installation: Installation, tmp_path: Path
) -> None:
    path = token_kubeconfig(kubectl, control_plane.server, installation.sidecar, tmp_path / "unbound")
    result = tmux_node(kubectl, Kubectl(path), "", f"unbound-{installation.release}")
    assert result.returncode != 0
    assert "must use a ServiceAccount token bound to a pod on a node" in result.stderr, result.stderr


def test_the_policy_leaves_everyone_else_alone(kubectl: Kubectl, installation: Installation) -> None:
    # The admin (and so the operator, users, GitOps tools) may write any node's objects.
    admin = kubectl.in_namespace(installation.namespace)
    result = agent_status(admin, admin, "admin-write", "some-node")
    assert result.returncode == 0, result.stderr
