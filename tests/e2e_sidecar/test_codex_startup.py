"""Codex 0.171 at startup: it draws its composer before its session is configured, and a paste then can be
taken without being drawn and surface later, glued to the next message. The codex profile calls it ready
only once the `model · folder` footer shows, so a message created together with the agent is typed after
that: it reaches the model exactly once, on its own, and so does the next one. Real Codex, real node agent,
real tmux, the fake model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.fakemodel import FakeModelServer, start_fake_model
from support.kube import Kubectl, wait_for
from support.manifests import agent_manifest
from support.messages import message_manifest
from support.processes import ProjectProcess
from tmux_orchestrator.realagents.install import ensure_agents
from tmux_orchestrator.realagents.team import real_cli_member


@pytest.fixture
def model(tmp_path: Path) -> Iterator[FakeModelServer]:
    server = start_fake_model(tmp_path / "fake-model", 'default: {text: "OK"}\n')
    yield server
    server.stop()


def delivered(kube: Kubectl, name: str) -> dict[str, object]:
    status = wait_for(
        lambda: (
            (s := kube.get("agentmessage", name).get("status") or {}).get("phase")
            in ("Delivered", "Failed", "Expired")
            and s
        ),
        timeout=90,
        message=f"{name} settled",
    )
    assert status["phase"] == "Delivered", status
    return dict(status)


@pytest.mark.timeout(300)
def test_a_message_sent_as_codex_starts_arrives_once_and_apart_from_the_next(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, model: FakeModelServer, tmp_path: Path
) -> None:
    member = real_cli_member(
        "codex", name="codex", role="developer", binaries=ensure_agents(), root=tmp_path, base_url=model.url
    )
    template = {key: member[key] for key in ("profile", "env", "workingDir")}
    first, second = "first message, sent as Codex starts", "second message, sent after the first"
    # Created together: the node agent types the message as soon as it calls Codex ready.
    kube.apply(agent_manifest("codex", node_name, member["command"], template=template))
    kube.apply(message_manifest("at-start", node_name, "codex", first, deliver="Now"))
    delivered(kube, "at-start")
    kube.apply(message_manifest("next", node_name, "codex", second))
    delivered(kube, "next")
    wait_for(lambda: len(model.received()) >= 2, timeout=60, message="both prompts at the model")
    assert [r["text"] for r in model.received()] == [first, second]  # once each, neither glued to the other
