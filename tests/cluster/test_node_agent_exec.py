"""`kubectl agentteam screen|attach` for an agent on a node that is not this host: through `kubectl exec` into
the node agent pod on that node, found among real Pod objects in the real API server.

This machine has no kubelet (no container runtime), so the exec itself cannot succeed here: what is checked
is which pod and which command the plugin chose, up to the API server's refusal to reach a kubelet."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from support.kube import Kubectl
from support.processes import project_env

TMUX_SOCKET = "/run/tmux-orchestrator/default"
SELECTOR = {"app.kubernetes.io/name": "tmux-orchestrator", "app.kubernetes.io/component": "sidecar"}


def agentteam(kube: Kubectl, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", "agentteam", "-n", str(kube.namespace), *args],
        capture_output=True,
        text=True,
        env=project_env(kube.kubeconfig),
        timeout=60,
        check=False,
    )


def status(kube: Kubectl, kind: str, name: str, body: dict[str, Any]) -> None:
    kube.run("patch", kind, name, "--subresource=status", "--type=merge", "-p", json.dumps({"status": body}))


def node_agent_pod(kube: Kubectl, name: str, node: str, phase: str = "Running") -> None:
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": {**SELECTOR, "app.kubernetes.io/instance": "tmo"}},
            "spec": {
                "nodeName": node,
                "containers": [{"name": "sidecar", "image": "tmux-orchestrator:test"}],
            },
        }
    )
    status(kube, "pod", name, {"phase": phase, "conditions": [{"type": "Ready", "status": "True"}]})


def test_screen_and_attach_exec_into_the_node_agent_pod_of_the_agents_node(
    kubectl: Kubectl, kube: Kubectl, namespace: str
) -> None:
    # What the operator and the node agent of a cluster node would have written (neither runs here).
    node = f"{namespace}-worker"
    kubectl.apply(
        {"apiVersion": "orchestrator.tmux.dev/v1alpha1", "kind": "TmuxNode", "metadata": {"name": node}}
    )
    status(kubectl, "tmuxnode", node, {"hostname": "tmo-sidecar-x7k2p", "tmuxSocket": TMUX_SOCKET})
    team = {"members": [{"name": "dev", "command": ["claude"]}]}
    kube.apply(
        {
            "apiVersion": "orchestrator.tmux.dev/v1alpha1",
            "kind": "AgentTeam",
            "metadata": {"name": "far"},
            "spec": team,
        }
    )
    status(kube, "agentteam", "far", {"node": node})
    kube.apply(
        {
            "apiVersion": "orchestrator.tmux.dev/v1alpha1",
            "kind": "Agent",
            "metadata": {"name": "far-dev-0"},
            "spec": {
                "teamRef": {"name": "far"},
                "member": "dev",
                "ordinal": 0,
                "nodeName": node,
                "session": "far",
                "window": "dev-0",
                "revision": "abc",
                "template": {"command": ["claude"]},
            },
        }
    )
    status(kube, "agent", "far-dev-0", {"phase": "Running", "paneId": "%3"})
    node_agent_pod(kube, "sidecar-elsewhere", f"{namespace}-other")
    node_agent_pod(kube, "sidecar-starting", node, phase="Pending")
    node_agent_pod(kube, "sidecar-here", node)

    # attach without a terminal prints the command it would run: kubectl exec into the pod on that node.
    attach = agentteam(kube, "attach", "far")
    assert attach.returncode == 0, attach.stderr
    assert attach.stdout.split() == [
        *("kubectl", "exec", "-it", "-n", namespace, "sidecar-here", "-c", "sidecar", "--"),
        *("tmux", "-S", TMUX_SOCKET, "attach-session", "-t", "=far"),
    ]
    # screen runs it: the API server is asked to exec into that pod, and (no kubelet here) says why not.
    screen = agentteam(kube, "screen", "far", "dev-0")
    assert screen.returncode == 1
    exec_argv = (
        f"kubectl exec -n {namespace} sidecar-here -c sidecar -- tmux -S {TMUX_SOCKET} capture-pane -p -t %3"
    )
    assert (
        f"could not capture far-dev-0's pane %3 in node agent pod {namespace}/sidecar-here" in screen.stderr
    )
    assert exec_argv in screen.stderr, screen.stderr
    assert "exit 1): " in screen.stderr and len(screen.stderr.split("exit 1): ", 1)[1].strip()) > 0

    # Looking only where no node agent runs, or once its pod is gone: a clear error naming the node and host.
    elsewhere = agentteam(kube, "screen", "far", "dev-0", "--node-agent-namespace", "kube-system")
    kube.run("delete", "pod", "sidecar-here", "--grace-period=0", "--force")
    gone = agentteam(kube, "attach", "far")
    for result in (elsewhere, gone):
        assert result.returncode == 1
        assert f"Error: no node agent pod runs on node {node}" in result.stderr, result.stderr
        assert "on host tmo-sidecar-x7k2p run: tmux -S /run/tmux-orchestrator/default" in result.stderr
