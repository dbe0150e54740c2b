"""The chart's RBAC for screens, end to end: a node agent running with its pod-bound sidecar token serves a
screen to the operator's ServiceAccount (the dashboard runs in the operator) and refuses the sidecar's own
ServiceAccount, which may not get agents/screen. A node agent without the chart's tokenreviews and
subjectaccessreviews permissions could not answer either (503)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import yaml

from support.kube import Kubectl, wait_for
from support.manifests import FAKE, agent_manifest
from support.processes import ProjectProcess
from tmux_orchestrator.devcluster.cluster import LocalCluster

from .chart import token_kubeconfig
from .conftest import Installation, NodeAgentPod, start_node_agent

DASHBOARD_ON_A_FREE_PORT = ["--dashboard-port", "0", "--dashboard-host", "127.0.0.1"]


def screen(endpoint: str, namespace: str, agent: str, token: str) -> tuple[int, str]:
    request = urllib.request.Request(
        f"{endpoint}/namespaces/{namespace}/agents/{agent}/screen",
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_node_agent_serves_screens_to_the_operator_account_only(
    kubectl: Kubectl,
    installation: Installation,
    node_agent_pod: Callable[[str], NodeAgentPod],
    processes: list[ProjectProcess],
    tmp_path: Path,
) -> None:
    kube = kubectl.in_namespace(installation.namespace)
    pod = node_agent_pod("screens")
    start_node_agent(pod, tmp_path, processes, "--screen-port", "0", "--screen-host", "127.0.0.1")
    kube.apply(agent_manifest("s1", pod.node, [*FAKE, "--title", "Screens"]))
    wait_for(
        lambda: (kube.get("agent", "s1").get("status") or {}).get("phase") == "Running", message="Running"
    )
    endpoint = wait_for(
        lambda: (kubectl.get("tmuxnode", pod.node).get("status") or {}).get("screenEndpoint"),
        message="the TmuxNode's screenEndpoint",
    )
    operator = installation.operator
    operator_token = kubectl.run(
        "create", "token", operator.name, "--namespace", operator.namespace, "--duration=10m"
    ).stdout.strip()
    sidecar_token = yaml.safe_load(pod.kubeconfig.read_text())["users"][0]["user"]["token"]

    status, body = wait_for(
        lambda: (r := screen(endpoint, installation.namespace, "s1", operator_token))[0] != 503 and r,
        message="an answer to the operator's account",
    )
    assert status == 200, body
    assert any("Welcome to Screens!" in line for line in json.loads(body)["lines"])
    assert screen(endpoint, installation.namespace, "s1", sidecar_token)[0] == 403


def test_operator_serves_the_dashboard_with_its_own_account(
    kubectl: Kubectl,
    control_plane: LocalCluster,
    installation: Installation,
    node_agent_pod: Callable[[str], NodeAgentPod],
    processes: list[ProjectProcess],
    tmp_path: Path,
) -> None:
    """`operator --dashboard-port`: every watch of the dashboard is allowed to the chart's operator account
    (/healthz answers only once all have listed), and screens come through the node agent with its token."""
    namespace = installation.namespace
    kube = kubectl.in_namespace(namespace)
    pod = node_agent_pod("dash")
    start_node_agent(pod, tmp_path, processes, "--screen-port", "0", "--screen-host", "127.0.0.1")
    kube.apply(agent_manifest("d1", pod.node, [*FAKE, "--title", "Dashboard"]))
    kubeconfig = token_kubeconfig(
        kubectl, control_plane.server, installation.operator, tmp_path / "operator.kubeconfig"
    )
    operator = ProjectProcess(
        ["operator", "--namespace", namespace, "--metrics-port", "0", *DASHBOARD_ON_A_FREE_PORT],
        kubeconfig,
        tmp_path / "operator.log",
    )
    processes.append(operator.start())
    url = wait_for(
        lambda: re.search(r"dashboard at (http://\S+?)/?$", operator.log(), re.MULTILINE),
        message="the operator's dashboard URL in its log",
    ).group(1)
    wait_for(lambda: get(f"{url}/healthz")[0] == 200, message="the dashboard's watches synced")
    _, body = wait_for(
        lambda: (r := get(f"{url}/api/namespaces/{namespace}/agents/d1/screen"))[0] == 200 and r,
        message="agent d1's screen through the operator's dashboard",
    )
    assert any("Welcome to Dashboard!" in line for line in json.loads(body)["lines"]), body
    assert "Forbidden" not in operator.log(), operator.log()[-3000:]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, str(error)
