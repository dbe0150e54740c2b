"""The chart's ServiceAccounts may do what their processes do and nothing more: `kubectl auth can-i` for the
boundaries, then the real node agent and operator authenticated with tokens of those ServiceAccounts."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.kube import Kubectl, wait_for
from support.manifests import FAKE, agent_manifest
from support.processes import ProjectProcess, project_command
from tmux_orchestrator.devcluster.cluster import LocalCluster

from .chart import REPO, token_kubeconfig
from .conftest import Installation, NodeAgentPod, start_node_agent

GROUP = "orchestrator.tmux.dev"
HERE = "<release namespace>"
OTHER = "default"
LEASES = "kube-node-lease"
ALL = "<all namespaces>"
LEADER_LEASE = "<release>-tmux-orchestrator-operator"
"""`resource@name`: a request for that one object (the operator's leader election Lease)."""

# (account, verb, resource[/subresource], namespace, allowed)
CAN_I: list[tuple[str, str, str, str, bool]] = [
    ("sidecar", "watch", f"agents.{GROUP}", ALL, True),
    ("sidecar", "patch", f"agents.{GROUP}/status", OTHER, True),
    ("sidecar", "create", f"agents.{GROUP}", HERE, False),
    ("sidecar", "patch", f"agents.{GROUP}", HERE, False),
    ("sidecar", "delete", f"agents.{GROUP}", HERE, False),
    ("sidecar", "watch", f"agentmessages.{GROUP}", ALL, True),
    ("sidecar", "patch", f"agentmessages.{GROUP}/status", OTHER, True),
    ("sidecar", "create", f"agentmessages.{GROUP}", HERE, True),  # for its agents; the policy checks from
    ("sidecar", "get", f"agents.{GROUP}", OTHER, True),  # the sender of a message it delivers
    ("sidecar", "delete", f"agentmessages.{GROUP}", HERE, False),
    ("sidecar", "patch", f"agentteams.{GROUP}", HERE, False),
    ("sidecar", "patch", f"agentteams.{GROUP}/status", HERE, False),
    ("sidecar", "create", f"tmuxnodes.{GROUP}", ALL, True),
    ("sidecar", "patch", f"tmuxnodes.{GROUP}/status", ALL, True),
    ("sidecar", "delete", f"tmuxnodes.{GROUP}", ALL, False),
    ("sidecar", "patch", "leases.coordination.k8s.io", LEASES, True),
    ("sidecar", "patch", "leases.coordination.k8s.io", OTHER, False),
    ("sidecar", "delete", "leases.coordination.k8s.io", LEASES, False),
    ("sidecar", "get", "secrets", HERE, False),
    ("operator", "watch", f"agentteams.{GROUP}", HERE, True),
    ("operator", "patch", f"agentteams.{GROUP}/status", HERE, True),
    ("operator", "update", f"agentteams.{GROUP}/finalizers", HERE, True),
    ("operator", "create", f"agentteams.{GROUP}", HERE, False),
    ("operator", "delete", f"agentteams.{GROUP}", HERE, False),
    ("operator", "create", f"agents.{GROUP}", HERE, True),
    ("operator", "delete", f"agents.{GROUP}", HERE, True),
    ("operator", "patch", f"agents.{GROUP}/status", HERE, True),  # Pending without a node, Lost
    ("operator", "create", f"agents.{GROUP}", OTHER, False),  # watchNamespaces: served namespace only
    ("operator", "watch", f"agentteams.{GROUP}", ALL, False),
    ("operator", "create", f"agentmessages.{GROUP}", HERE, True),
    ("operator", "patch", f"agentmessages.{GROUP}/status", HERE, False),
    ("operator", "watch", f"tmuxnodes.{GROUP}", ALL, True),
    ("operator", "patch", f"tmuxnodes.{GROUP}", ALL, False),
    ("operator", "patch", f"tmuxnodes.{GROUP}/status", ALL, True),  # NodeLost
    ("operator", "create", "controllerrevisions.apps", HERE, True),
    ("operator", "watch", "leases.coordination.k8s.io", LEASES, True),
    # kopf's namespaces are one scope for all kinds: the served one and kube-node-lease, for every kind.
    ("operator", "watch", "leases.coordination.k8s.io", HERE, True),
    ("operator", "watch", "leases.coordination.k8s.io", OTHER, False),
    ("operator", "watch", f"agents.{GROUP}", LEASES, True),
    ("operator", "watch", "controllerrevisions.apps", LEASES, True),
    ("operator", "create", f"agents.{GROUP}", LEASES, False),
    ("operator", "get", "leases.coordination.k8s.io", LEASES, True),  # an expired one is read again
    ("operator", "patch", "leases.coordination.k8s.io", LEASES, False),
    # Leader election among its replicas: one Lease in its own namespace.
    ("operator", "create", "leases.coordination.k8s.io", HERE, True),
    ("operator", "update", f"leases.coordination.k8s.io@{LEADER_LEASE}", HERE, True),
    ("operator", "get", f"leases.coordination.k8s.io@{LEADER_LEASE}", HERE, True),
    ("operator", "update", "leases.coordination.k8s.io@someone-elses", HERE, False),
    ("operator", "create", "leases.coordination.k8s.io", OTHER, False),
    ("operator", "create", "events", HERE, True),
    ("operator", "patch", "events", HERE, False),
    ("operator", "create", "events", OTHER, True),  # about TmuxNodes (cluster-scoped), e.g. NodeLost
    ("operator", "delete", "events", OTHER, False),
    ("sidecar", "patch", "events", OTHER, True),
    ("sidecar", "delete", "events", OTHER, False),
    ("operator", "get", "secrets", HERE, False),
    ("operator", "create", "pods", HERE, False),
    # The dashboard (operator.dashboard.enabled) and the node agents' screen endpoint.
    ("operator", "get", f"agents.{GROUP}/screen", HERE, True),
    ("operator", "get", f"agents.{GROUP}/screen", OTHER, False),
    ("operator", "watch", "events", HERE, True),
    ("sidecar", "create", "tokenreviews.authentication.k8s.io", ALL, True),
    ("sidecar", "create", "subjectaccessreviews.authorization.k8s.io", ALL, True),
    ("sidecar", "get", f"agents.{GROUP}/screen", ALL, False),
]


def _case_id(account: str, verb: str, resource: str, where: str, allowed: bool) -> str:
    name, _, subresource = resource.partition("/")
    scope = {HERE: "here", ALL: "anywhere"}.get(where, where)
    kind, _, object_name = name.partition("@")
    target = kind.split(".")[0] + (f"-{subresource}" if subresource else "")
    target += "-" + object_name.replace("<release>-tmux-orchestrator-", "its-") if object_name else ""
    return f"{account}-{'may' if allowed else 'may-not'}-{verb}-{target}-{scope}"


@pytest.mark.parametrize(
    ("account", "verb", "resource", "where", "allowed"), CAN_I, ids=[_case_id(*c) for c in CAN_I]
)
def test_service_account_permissions(
    kubectl: Kubectl,
    installation: Installation,
    account: str,
    verb: str,
    resource: str,
    where: str,
    allowed: bool,
) -> None:
    sa = installation.operator if account == "operator" else installation.sidecar
    name, _, subresource = resource.partition("/")
    name = name.replace("@", "/").replace("<release>", installation.release)
    scope = (
        ["--all-namespaces"] if where == ALL else ["-n", installation.namespace if where == HERE else where]
    )
    extra = [f"--subresource={subresource}"] if subresource else []
    result = kubectl.run("auth", "can-i", verb, name, *extra, *scope, f"--as={sa.username}", check=False)
    assert result.stdout.strip() == ("yes" if allowed else "no"), result.stderr


def fake_agent(name: str, node: str, log: Path) -> dict[str, Any]:
    return agent_manifest(name, node, [*FAKE, "--log", str(log)])


# How a refusal shows in our logs: the API server's message ("... is forbidden: User ..."), our
# "HTTP 403 Forbidden" and kubernetes_asyncio's "(403)". A bare "403" is not enough: log timestamps
# end in milliseconds, and ",403" failed CI once.
FORBIDDEN = re.compile(r"forbidden|\(403\)|HTTP 403", re.IGNORECASE)


def no_forbidden(process: ProjectProcess) -> None:
    log = process.log()
    refusal = FORBIDDEN.search(log)
    if refusal is not None:
        pytest.fail(log[max(0, refusal.start() - 1500) : refusal.end() + 1500])


def test_node_agent_with_its_pod_token_runs_agents_and_delivers_messages(
    kubectl: Kubectl,
    installation: Installation,
    node_agent_pod: Callable[[str], NodeAgentPod],
    processes: list[ProjectProcess],
    tmp_path: Path,
) -> None:
    kube = kubectl.in_namespace(installation.namespace)
    pod = node_agent_pod("rbac")
    sidecar = start_node_agent(pod, tmp_path, processes)
    received = tmp_path / "received.jsonl"
    kube.apply(fake_agent("a1", pod.node, received))
    status = wait_for(
        lambda: (s := kube.get("agent", "a1").get("status") or {}).get("phase") == "Running" and s,
        message="agent Running",
    )
    assert status["pid"] > 0 and os.path.exists(f"/proc/{status['pid']}")
    assert status["node"] == pod.node
    node = kubectl.get("tmuxnode", pod.node)
    assert {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"] == "True"
    lease = kubectl.in_namespace("kube-node-lease").get("lease", f"tmuxnode-{pod.node}")
    assert lease["spec"]["holderIdentity"] == pod.node

    kube.apply(
        {
            "apiVersion": f"{GROUP}/v1alpha1",
            "kind": "AgentMessage",
            "metadata": {"name": "hello", "labels": {f"{GROUP}/node": pod.node}},
            "spec": {"agent": "a1", "text": "hello from the chart's RBAC"},
        }
    )
    delivered = wait_for(
        lambda: (
            (s := kube.get("agentmessage", "hello").get("status") or {}).get("phase") == "Delivered" and s
        ),
        message="message Delivered",
    )
    assert delivered["attempts"] == 1
    assert [json.loads(line)["text"] for line in received.read_text().splitlines()] == [
        "hello from the chart's RBAC"
    ]
    no_forbidden(sidecar)


def test_operator_with_its_token_brings_the_demo_team_to_ready(
    kubectl: Kubectl,
    control_plane: LocalCluster,
    installation: Installation,
    node_agent_pod: Callable[[str], NodeAgentPod],
    processes: list[ProjectProcess],
    tmp_path: Path,
) -> None:
    namespace = installation.namespace
    kube = kubectl.in_namespace(namespace)
    pod = node_agent_pod("demo")
    # A label only this test's node carries keeps the team off nodes of other tests in the session.
    start_node_agent(pod, tmp_path, processes, "--node-label", f"test-node={pod.node}")
    kubeconfig = token_kubeconfig(
        kubectl, control_plane.server, installation.operator, tmp_path / "operator.kubeconfig"
    )
    # As the chart runs it: leader-elected, the Lease in its own namespace.
    lease = f"{installation.release}-tmux-orchestrator-operator"
    argv = ["operator", "--namespace", namespace, "--metrics-port", "0", "--leader-elect"]
    argv += ["--leader-election-namespace", namespace, "--leader-election-lease", lease]
    operator = project_command(argv, kubeconfig, tmp_path / "operator.log")
    processes.append(operator.start())

    team = yaml.safe_load((REPO / "examples" / "demo-team.yaml").read_text())
    team["spec"]["placement"] = {"nodeSelector": {"test-node": pod.node}}
    kube.apply(team)
    kube.run("wait", "--for=condition=Ready", "agentteam/demo", "--timeout=90s", timeout=100)
    status = kube.get("agentteam", "demo")["status"]
    assert status["ready"] == "4/4" and status["node"] == pod.node and status["phase"] == "Running"
    agents = kube.get_all("agents", "-l", f"{GROUP}/team=demo")
    assert sorted(a["metadata"]["name"] for a in agents) == [
        "demo-dev-0",
        "demo-dev-1",
        "demo-pm-0",
        "demo-qa-0",
    ]
    assert all(a["status"]["phase"] == "Running" and a["status"]["pid"] > 0 for a in agents)

    # A message to the team's PM: routed by the operator (labels), typed by the node agent.
    kube.apply(
        {
            "apiVersion": f"{GROUP}/v1alpha1",
            "kind": "AgentMessage",
            "metadata": {"name": "status-please"},
            "spec": {"team": "demo", "member": "pm", "text": "Status report, please"},
        }
    )
    wait_for(
        lambda: (kube.get("agentmessage", "status-please").get("status") or {}).get("phase") == "Delivered",
        timeout=30,
        message="message to the PM Delivered",
    )
    for process in processes:
        no_forbidden(process)
    assert kube.get("lease", lease)["spec"]["holderIdentity"], "the operator did not elect itself"
