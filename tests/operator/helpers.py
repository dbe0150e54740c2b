"""Building teams and reading what the operator made of them, for the operator's cluster tests."""

from __future__ import annotations

from collections import Counter
from typing import Any

from support.kube import Kubectl, wait_for

TEAM = "orchestrator.tmux.dev/team"
MEMBER = "orchestrator.tmux.dev/member"
ROLE = "orchestrator.tmux.dev/role"
REVISION = "orchestrator.tmux.dev/revision"
NODE = "orchestrator.tmux.dev/node"
AGENT = "orchestrator.tmux.dev/agent"
POOL = "test.tmux.dev/pool"
"""TmuxNode label the tests place teams with, so a team lands only on its test's nodes."""


def member(name: str, replicas: int = 1, role: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "role": role or ("pm" if name == "pm" else "developer"),
        "replicas": replicas,
        "profile": "shell",
        "command": ["tmux-orchestrator", "fake-agent", "--name", name],
        **extra,
    }


def team(name: str, pool: str, *members: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "orchestrator.tmux.dev/v1alpha1",
        "kind": "AgentTeam",
        "metadata": {"name": name},
        "spec": {
            "placement": {"nodeSelector": {POOL: pool}},
            "members": list(members) or [member("pm"), member("dev", 2)],
            "strategy": {"type": "AllAtOnce"},
            **spec,
        },
    }


def canary(*steps: tuple[int, int | None], min_ready: int = 1) -> dict[str, Any]:
    """A Canary strategy from (weight, pauseSeconds) steps."""
    return {
        "type": "Canary",
        "canary": {
            "steps": [
                {"name": f"step-{weight}", "weight": weight, **({"pauseSeconds": pause} if pause else {})}
                for weight, pause in steps
            ],
            "analysis": {"minReadySeconds": min_ready, "maxCrashes": 0},
            "autoRollback": True,
        },
    }


def agents(kube: Kubectl, team_name: str) -> dict[str, dict[str, Any]]:
    return {a["metadata"]["name"]: a for a in kube.get_all("agents", "-l", f"{TEAM}={team_name}")}


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    found = [c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == kind]
    return found[0] if found else {}


def is_ready(kube: Kubectl, name: str, replicas: int) -> dict[str, Any] | None:
    """The team when it is Ready with `replicas` Ready agents for its current generation."""
    body = kube.get("agentteam", name)
    status = body.get("status") or {}
    ready = condition(body, "Ready")
    done = (
        status.get("phase") == "Running"
        and status.get("readyReplicas") == replicas
        and status.get("replicas") == replicas
        and ready.get("status") == "True"
        and ready.get("observedGeneration") == body["metadata"]["generation"]
    )
    return body if done else None


def wait_ready(kube: Kubectl, name: str, replicas: int, timeout: float = 30.0) -> dict[str, Any]:
    body: dict[str, Any] = wait_for(
        lambda: is_ready(kube, name, replicas),
        timeout=timeout,
        interval=0.3,
        message=f"{name} Ready {replicas}",
    )
    return body


def revisions_of(kube: Kubectl, team_name: str) -> Counter[str]:
    return Counter(a["spec"]["revision"] for a in agents(kube, team_name).values())


def events(kube: Kubectl, reason: str) -> list[dict[str, Any]]:
    return [e for e in kube.get_all("events.v1.events.k8s.io") if e.get("reason") == reason]


def created_by_event(kube: Kubectl) -> list[list[str]]:
    """Per AgentCreated event, the agents it names (`created 2 agent(s): a, b (node n, revision r); …`)."""
    named = []
    for event in events(kube, "AgentCreated"):
        head, _, listing = event["note"].partition(": ")
        names = [name for segment in listing.split("; ") for name in segment.split(" (")[0].split(", ")]
        assert head == f"created {len(names)} agent(s)", event["note"]  # every one named
        named.append(names)
    return named


def wait_events(kube: Kubectl, reason: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The Events of `reason` once there are at least `count` (the operator posts them in the background)."""
    found: list[dict[str, Any]] = wait_for(
        lambda: (found := events(kube, reason)) and len(found) >= count and found,
        timeout=timeout,
        interval=0.3,
        message=f"{count} {reason} event(s)",
    )
    return found
