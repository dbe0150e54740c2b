"""Where `kubectl agentteam screen|attach` runs tmux: here, or by kubectl exec in the node agent pod."""

from __future__ import annotations

from typing import Any

import pytest

from tmux_orchestrator.node_exec import NoNodeAgentPodError, node_agent_pod, plan_node_command

TMUX = ["tmux", "-S", "/run/tmux-orchestrator/default", "capture-pane", "-p", "-t", "%3"]
NODE = {"metadata": {"name": "worker-1"}, "status": {"hostname": "tmo-sidecar-abcde"}}


def pod(
    name: str,
    node: str = "worker-1",
    phase: str = "Running",
    ready: bool = True,
    created: str = "2030-01-01T00:00:00Z",
    deleting: bool = False,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": "tmo", "creationTimestamp": created}
    if deleting:
        metadata["deletionTimestamp"] = "2030-01-02T00:00:00Z"
    conditions = [{"type": "Ready", "status": "True" if ready else "False"}]
    return {
        "metadata": metadata,
        "spec": {"nodeName": node},
        "status": {"phase": phase, "conditions": conditions},
    }


PODS = [
    ("the-one-on-the-node", [pod("a", node="worker-2"), pod("b")], "b"),
    ("not-pending", [pod("a", phase="Pending"), pod("b")], "b"),
    ("not-terminating", [pod("a", deleting=True, created="2030-01-05T00:00:00Z"), pod("b")], "b"),
    ("ready-before-newer", [pod("a", ready=False, created="2030-01-05T00:00:00Z"), pod("b")], "b"),
    ("newest-of-the-ready", [pod("a"), pod("b", created="2030-01-05T00:00:00Z")], "b"),
    ("none-on-the-node", [pod("a", node="worker-2")], None),
    ("none-running", [pod("a", phase="Failed"), pod("b", phase="Succeeded")], None),
]


@pytest.mark.parametrize(("pods", "chosen"), [c[1:] for c in PODS], ids=[c[0] for c in PODS])
def test_the_node_agent_pod_of_a_node(pods: list[dict[str, Any]], chosen: str | None) -> None:
    found = node_agent_pod(pods, "worker-1")
    assert (found["metadata"]["name"] if found else None) == chosen


PLANS = [
    (
        "this-host-runs-tmux-here",
        dict(this_host="tmo-sidecar-abcde", interactive=False),
        TMUX,
        None,
    ),
    (
        "screen-through-kubectl-exec",
        dict(this_host="laptop", interactive=False),
        ["kubectl", "exec", "-n", "tmo", "b", "-c", "sidecar", "--", *TMUX],
        "tmo/b",
    ),
    (
        "attach-gets-a-terminal",
        dict(this_host="laptop", interactive=True),
        ["kubectl", "exec", "-it", "-n", "tmo", "b", "-c", "sidecar", "--", *TMUX],
        "tmo/b",
    ),
    (
        "the-kubeconfig-goes-along",
        dict(this_host="laptop", interactive=False, kubectl_flags=["--kubeconfig", "/k"]),
        ["kubectl", "--kubeconfig", "/k", "exec", "-n", "tmo", "b", "-c", "sidecar", "--", *TMUX],
        "tmo/b",
    ),
]


@pytest.mark.parametrize(("options", "argv", "pod_name"), [c[1:] for c in PLANS], ids=[c[0] for c in PLANS])
def test_the_tmux_command_runs_here_or_in_the_node_agent_pod(
    options: dict[str, Any], argv: list[str], pod_name: str | None
) -> None:
    plan = plan_node_command(TMUX, node_name="worker-1", node=NODE, pods=[pod("b")], **options)
    assert (plan.argv, plan.pod) == (argv, pod_name)


def test_no_node_agent_pod_on_the_node_is_a_clear_error_naming_the_host() -> None:
    with pytest.raises(NoNodeAgentPodError) as raised:
        plan_node_command(
            TMUX,
            node_name="worker-1",
            node={"status": {"hostname": "build-box"}},
            pods=[pod("a", node="worker-2")],
            this_host="laptop",
            interactive=False,
        )
    message = str(raised.value)
    assert message.startswith(
        "no node agent pod runs on node worker-1 (a Running pod labelled app.kubernetes.io"
    )
    assert message.endswith(
        "on host build-box run: tmux -S /run/tmux-orchestrator/default capture-pane -p -t %3"
    )
