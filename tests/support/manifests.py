"""Object manifests shared by tests and benchmarks, so every suite builds an Agent the same way."""

from __future__ import annotations

from typing import Any

FAKE = ["tmux-orchestrator", "fake-agent"]


def agent_manifest(
    name: str,
    node: str,
    command: list[str] | None = None,
    *,
    team: str = "team",
    ordinal: int = 0,
    namespace: str | None = None,
    template: dict[str, Any] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """An Agent as the operator would create it for a node agent to run: the fake agent unless `command`."""
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "orchestrator.tmux.dev/v1alpha1",
        "kind": "Agent",
        "metadata": metadata,
        "spec": {
            "teamRef": {"name": team},
            "member": "dev",
            "ordinal": ordinal,
            "nodeName": node,
            "session": team,
            "window": name,
            "revision": "r1",
            "template": {"command": command or FAKE, "profile": "claude-code", **(template or {})},
            **spec,
        },
    }
