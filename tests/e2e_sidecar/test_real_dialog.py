"""`deliver: Now` never answers a real approval dialog: Claude Code (the pinned version) asks to run a
command; a message sent Now meanwhile waits (and one whose ttlSeconds pass first expires, naming the
dialog), a person answers the dialog, and then the message arrives once. Real Claude Code, real node agent,
real tmux, the fake model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.fakemodel import FakeModelServer, start_fake_model
from support.kube import Kubectl, wait_for
from support.manifests import agent_manifest
from support.messages import message_manifest, send_now_into_open_dialog
from support.processes import ProjectProcess, tmux
from tmux_orchestrator.realagents.install import ensure_agents
from tmux_orchestrator.realagents.team import real_cli_member

SCRIPT = """\
rules:
  - when: "please run it"
    tool: {command: "touch approved.txt"}
default: {text: "OK"}
"""


@pytest.fixture
def model(tmp_path: Path) -> Iterator[FakeModelServer]:
    server = start_fake_model(tmp_path / "fake-model", SCRIPT)
    yield server
    server.stop()


def phase(kube: Kubectl, name: str) -> dict[str, Any]:
    return dict(kube.get("agentmessage", name).get("status") or {})


def activity(kube: Kubectl) -> str | None:
    return (kube.get("agent", "claude").get("status") or {}).get("activity")


@pytest.mark.timeout(300)
def test_a_message_sent_now_waits_until_claude_codes_approval_dialog_is_answered(
    kube: Kubectl,
    sidecar: ProjectProcess,
    node_name: str,
    tmux_socket: str,
    model: FakeModelServer,
    tmp_path: Path,
) -> None:
    member = real_cli_member(
        "claude-code",
        name="claude",
        role="developer",
        binaries=ensure_agents(),
        root=tmp_path,
        base_url=model.url,
    )
    template = {key: member[key] for key in ("profile", "env", "workingDir")}
    kube.apply(agent_manifest("claude", node_name, member["command"], template=template))
    kube.apply(message_manifest("ask", node_name, "claude", "please run it"))
    wait_for(lambda: activity(kube) == "WaitingForInput", timeout=90, message="the approval dialog")

    text = "1. and then tell me what changed"  # pasted into the dialog, "1" and Enter would approve it
    send_now_into_open_dialog(kube, node_name, "claude", text, ttl_seconds=4)
    assert activity(kube) == "WaitingForInput"
    assert not (Path(member["workingDir"]) / "approved.txt").exists()  # the dialog is still unanswered

    pane = kube.get("agent", "claude")["status"]["paneId"]
    tmux(tmux_socket, "send-keys", "-t", pane, "Enter", check=True)  # a person approves (Yes is preselected)
    status = wait_for(
        lambda: (s := phase(kube, "held")).get("phase") in ("Delivered", "Failed") and s,
        timeout=90,
        message="held Delivered",
    )
    assert status["phase"] == "Delivered", status
    assert (Path(member["workingDir"]) / "approved.txt").exists()
    wait_for(
        lambda: text in [r["text"] for r in model.received()], timeout=60, message="the message at the model"
    )
    assert [r["text"] for r in model.received()].count(text) == 1
