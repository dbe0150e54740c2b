"""Messages that really arrive: AgentMessages typed by a real node agent into fake agents that behave like the
real CLIs' input lines (Codex paste detection, Aider per-line submit, Claude Code collapsed pastes), and one
that never takes a message. Real control plane, real `tmux-orchestrator sidecar`, real tmux."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from support.kube import Kubectl, wait_for
from support.manifests import FAKE, agent_manifest
from support.messages import (
    FIVE_LINES,
    INPUT_MODES,
    MESSAGES,
    message_manifest,
    send_now_into_open_dialog,
)
from support.processes import ProjectProcess, tmux


def message_status(kube: Kubectl, name: str) -> dict[str, Any]:
    return dict(kube.get("agentmessage", name).get("status") or {})


def settled(kube: Kubectl, name: str, timeout: float = 30) -> dict[str, Any]:
    """The message's status once it is Delivered or Failed."""
    return dict(
        wait_for(
            lambda: (s := message_status(kube, name)).get("phase") in ("Delivered", "Failed") and s,
            timeout=timeout,
            message=f"{name} Delivered or Failed",
        )
    )


def received(log: Path) -> list[str]:
    return [json.loads(line)["text"] for line in log.read_text().splitlines()] if log.exists() else []


def start_agent(kube: Kubectl, node: str, log: Path, flags: list[str]) -> None:
    kube.apply(agent_manifest("a1", node, [*FAKE, "--log", str(log), *flags]))
    wait_for(
        lambda: (s := kube.get("agent", "a1").get("status") or {}).get("activity") == "Idle" and s,
        message="a1 Idle",
    )


@pytest.mark.parametrize("flags", list(INPUT_MODES.values()), ids=list(INPUT_MODES))
def test_three_messages_arrive_once_intact_and_say_how_delivery_was_confirmed(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmp_path: Path, flags: list[str]
) -> None:
    log = tmp_path / "received.jsonl"
    start_agent(kube, node_name, log, flags)
    confirmation = "Busy" if "--busy-on-message" in flags else "Transcript"
    for index, text in enumerate(MESSAGES):
        kube.apply(message_manifest(f"m{index}", node_name, "a1", text))
        status = settled(kube, f"m{index}")
        assert status["phase"] == "Delivered", status
        assert (status["confirmation"], status["attempts"]) == (confirmation, 1)
        assert received(log) == MESSAGES[: index + 1]  # exactly once, intact, as one prompt
    wide = kube.run("get", "amsg", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[-2:] == ["REASON", "CONFIRMATION"]
    assert [line.split()[-1] for line in wide[1:]] == [confirmation] * len(MESSAGES)


def test_a_message_the_agent_does_not_take_fails_and_is_typed_only_once(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmp_path: Path, tmux_socket: str
) -> None:
    log = tmp_path / "received.jsonl"
    start_agent(kube, node_name, log, ["--ignore-enter"])
    kube.apply(message_manifest("deaf", node_name, "a1", FIVE_LINES))
    status = settled(kube, "deaf")
    assert status["phase"] == "Failed" and status["reason"] == "typed but not submitted", status
    assert "confirmation" not in status and "deliveredAt" not in status
    assert received(log) == []
    pane = kube.get("agent", "a1")["status"]["paneId"]
    screen = tmux(tmux_socket, "capture-pane", "-p", "-t", pane).stdout
    assert screen.count("4. report back") == 1  # in the input once: never typed again


def test_a_message_sent_now_never_answers_an_open_dialog(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmp_path: Path, tmux_socket: str
) -> None:
    """`deliver: Now` into an approval dialog waits until the dialog is gone (the paste and its Enter would
    answer it); one whose ttlSeconds pass first expires, saying a dialog was open."""
    log = tmp_path / "received.jsonl"
    kube.apply(agent_manifest("a1", node_name, [*FAKE, "--log", str(log), "--step", "approve"]))
    wait_for(
        lambda: (kube.get("agent", "a1").get("status") or {}).get("activity") == "WaitingForInput",
        message="a1 WaitingForInput",
    )
    text = "1. run the tests first, then report"  # typed into the dialog, "1" and Enter would say yes
    send_now_into_open_dialog(kube, node_name, "a1", text, ttl_seconds=3)
    pane = kube.get("agent", "a1")["status"]["paneId"]
    screen = tmux(tmux_socket, "capture-pane", "-p", "-t", pane).stdout
    assert "Do you want to proceed?" in screen and "approved" not in screen
    assert received(log) == []

    tmux(tmux_socket, "send-keys", "-t", pane, "3", check=True)  # a person says no
    status = settled(kube, "held")
    assert status["phase"] == "Delivered", status
    assert received(log) == [text]
    screen = tmux(tmux_socket, "capture-pane", "-p", "-t", pane).stdout
    assert "declined" in screen and "approved" not in screen
