"""The chart's RBAC for screens, end to end: a node agent running with its pod-bound sidecar token serves a
screen to the operator's ServiceAccount (the dashboard runs in the operator) and refuses the sidecar's own
ServiceAccount, which may not get agents/screen. A node agent without the chart's tokenreviews and
subjectaccessreviews permissions could not answer either (503)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import yaml

from support.kube import Kubectl, wait_for
from support.manifests import FAKE, agent_manifest
from support.processes import ProjectProcess

from .conftest import Installation, NodeAgentPod, start_node_agent


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
