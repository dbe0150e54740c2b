"""The whole system under test, plus manifests and reads shared by the end-to-end tests."""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from support.kube import Kubectl, wait_for
from support.processes import ProjectProcess, tmux

REPO = Path(__file__).resolve().parents[2]
FAKE = ["tmux-orchestrator", "fake-agent"]


@dataclass
class Node:
    name: str
    socket: str
    process: ProjectProcess


@dataclass
class System:
    kube: Kubectl
    namespace: str
    pool: str
    operator: ProjectProcess
    nodes: list[Node]
    start_node: Callable[[], Node]


def demo_team(pool: str) -> dict[str, Any]:
    """examples/demo-team.yaml, pinned to the test's node pool."""
    team: dict[str, Any] = yaml.safe_load((REPO / "examples" / "demo-team.yaml").read_text())
    team["spec"]["placement"] = {"nodeSelector": {"orchestrator.tmux.dev/pool": pool}}
    return team


def team(name: str, pool: str, members: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "orchestrator.tmux.dev/v1alpha1",
        "kind": "AgentTeam",
        "metadata": {"name": name},
        "spec": {
            "placement": {"nodeSelector": {"orchestrator.tmux.dev/pool": pool}},
            "members": members,
            "recovery": {"backoffSeconds": 1, "maxBackoffSeconds": 2, "maxRestarts": 5, "windowSeconds": 120},
            **spec,
        },
    }


def member(
    name: str, replicas: int = 1, role: str = "developer", command: list[str] | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "role": role,
        "replicas": replicas,
        "command": command or FAKE,
        "profile": "claude-code",
    }


def with_command(manifest: dict[str, Any], member_name: str, command: list[str]) -> dict[str, Any]:
    changed = copy.deepcopy(manifest)
    for item in changed["spec"]["members"]:
        if item["name"] == member_name:
            item["command"] = command
    return changed


def agents(kube: Kubectl, team_name: str) -> dict[str, dict[str, Any]]:
    items = kube.get_all("agents", "-l", f"orchestrator.tmux.dev/team={team_name}")
    return {item["metadata"]["name"]: item for item in items}


def revisions(kube: Kubectl, team_name: str) -> Counter[str]:
    return Counter(
        a["metadata"]["labels"]["orchestrator.tmux.dev/revision"] for a in agents(kube, team_name).values()
    )


def conditions(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}


def wait_team_ready(kube: Kubectl, name: str, timeout: float = 60) -> dict[str, Any]:
    kube.run(
        "wait",
        "--for=condition=Ready",
        f"agentteam/{name}",
        f"--timeout={int(timeout)}s",
        timeout=timeout + 10,
    )
    return kube.get("agentteam", name)


def wait_status(
    kube: Kubectl, name: str, predicate: Any, timeout: float = 60, message: str = ""
) -> dict[str, Any]:
    return dict(
        wait_for(
            lambda: predicate(s := kube.get("agentteam", name).get("status") or {}) and s,
            timeout=timeout,
            message=message or f"status of {name}",
        )
    )


def events(kube: Kubectl, reason: str) -> list[dict[str, Any]]:
    items = kube.get_all("events.events.k8s.io")
    return [e for e in items if e.get("reason") == reason]


def say(kube: Kubectl, agent: str, text: str) -> None:
    """A person's message to an agent (an AgentMessage without spec.from), e.g. the go of a scripted agent."""
    message = {
        "apiVersion": "orchestrator.tmux.dev/v1alpha1",
        "kind": "AgentMessage",
        "metadata": {"generateName": f"{agent}-"},
        "spec": {"agent": agent, "text": text},
    }
    kube.run("create", "-f", "-", stdin=json.dumps(message))


def answer_dialog(socket: str, window: str, *questions: str, keys: tuple[str, ...] = ("Enter",)) -> None:
    """A person answers a CLI's dialog: `keys` once one of `questions` is drawn in `window`, and again while
    it is still drawn a few seconds later. Claude Code's and Codex's hooks report a dialog before it is drawn,
    and a key pressed as it opens can go unread on a loaded machine."""

    def shown() -> bool:
        screen = tmux(socket, "capture-pane", "-p", "-t", window).stdout
        return any(question in screen for question in questions)

    wait_for(shown, timeout=120, interval=0.5, message=f"a dialog in {window} asking {questions}")
    for _ in range(3):
        tmux(socket, "send-keys", "-t", window, *keys, check=True)
        try:
            wait_for(lambda: not shown(), timeout=5, message=f"the dialog in {window} answered")
            return
        except AssertionError:
            continue
    raise AssertionError(f"the dialog in {window} took no answer ({keys})")
