"""Where `kubectl agentteam screen|attach` runs its tmux command: here, or in the node agent's pod (pure).

On the agent's node itself (its TmuxNode's status.hostname is this host) tmux runs here. In a cluster the tmux
server lives in the node agent's pod on that node (the chart's DaemonSet; the TmuxNode is named after the
Kubernetes node), so the same tmux command runs there through `kubectl exec`: the pod is the Running, not
terminating pod with the DaemonSet's labels whose spec.nodeName is the node, Ready ones first.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NODE_AGENT_SELECTOR = "app.kubernetes.io/name=tmux-orchestrator,app.kubernetes.io/component=sidecar"
"""The labels of the chart's node agent pods (tmo.selectorLabels with component sidecar)."""
NODE_AGENT_CONTAINER = "sidecar"


class NoNodeAgentPodError(ValueError):
    """No node agent pod runs on the agent's node, and the node is not this host."""


@dataclass(frozen=True)
class NodeCommand:
    argv: list[str]
    pod: str | None = None
    """namespace/name of the node agent pod the command runs in; None: it runs on this host."""


def _ready(pod: Mapping[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def node_agent_pod(pods: Sequence[Mapping[str, Any]], node_name: str) -> Mapping[str, Any] | None:
    """The node agent pod to exec into on `node_name`: Running and not being deleted; Ready first, then the
    newest (during a rolling update the old pod may still run beside the new one)."""
    candidates = [
        pod
        for pod in pods
        if (pod.get("spec") or {}).get("nodeName") == node_name
        and (pod.get("status") or {}).get("phase") == "Running"
        and not (pod.get("metadata") or {}).get("deletionTimestamp")
    ]
    if not candidates:
        return None
    return max(
        candidates,
        key=lambda pod: (
            _ready(pod),
            str(pod["metadata"].get("creationTimestamp") or ""),
            pod["metadata"]["name"],
        ),
    )


def plan_node_command(
    tmux_argv: Sequence[str],
    *,
    node_name: str,
    node: Mapping[str, Any] | None,
    pods: Sequence[Mapping[str, Any]],
    this_host: str,
    interactive: bool,
    kubectl_flags: Sequence[str] = (),
) -> NodeCommand:
    """How to run `tmux_argv` (a capture-pane or attach-session command for the node's tmux server)."""
    hostname = ((node or {}).get("status") or {}).get("hostname")
    if hostname == this_host:
        return NodeCommand(list(tmux_argv))
    pod = node_agent_pod(pods, node_name)
    if pod is None:
        elsewhere = f"; on host {hostname} run: {shlex.join(tmux_argv)}" if hostname else ""
        raise NoNodeAgentPodError(
            f"no node agent pod runs on node {node_name} (a Running pod labelled {NODE_AGENT_SELECTOR})"
            + elsewhere
        )
    namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    argv = ["kubectl", *kubectl_flags, "exec", *(["-it"] if interactive else [])]
    argv += ["-n", namespace, name, "-c", NODE_AGENT_CONTAINER, "--", *tmux_argv]
    return NodeCommand(argv, f"{namespace}/{name}")
