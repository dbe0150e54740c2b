"""Issue 10, delivery with the real agent CLIs: AgentMessages typed by the real node agent into Claude Code,
Codex and Aider (the pinned versions) reach the fake model exactly once, intact, as one prompt each, and
say Delivered with how that was confirmed. The operator routes the messages; nothing is mocked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.e2e import System, team, wait_team_ready
from support.fakemodel import FakeModelServer, real_cli_members, start_fake_model
from support.kube import wait_for
from support.messages import MESSAGES, prompt_as_sent
from support.processes import end_codex_daemons
from tmux_orchestrator.realagents.install import ensure_agents

# Which API each CLI speaks to the fake model.
API = {"claude-code": "anthropic-messages", "codex": "openai-responses", "aider": "openai-chat"}


@pytest.fixture
def model(tmp_path: Path) -> Iterator[FakeModelServer]:
    server = start_fake_model(tmp_path / "fake-model", 'default: {text: "OK"}\n')
    yield server
    server.stop()


@pytest.fixture
def codex_daemons_ended(tmp_path: Path) -> Iterator[None]:
    """Set up before the system, so torn down after it: Codex has exited, its daemon is still there."""
    yield
    end_codex_daemons(tmp_path)


def settled(system: System, name: str) -> dict[str, Any]:
    return dict(
        wait_for(
            lambda: (
                (s := system.kube.get("agentmessage", name).get("status") or {}).get("phase")
                in ("Delivered", "Failed")
                and s
            ),
            timeout=90,
            message=f"{name} Delivered or Failed",
        )
    )


@pytest.mark.timeout(900)
def test_three_messages_reach_each_real_cli_once_intact_as_one_prompt(
    codex_daemons_ended: None, system: System, model: FakeModelServer, tmp_path: Path
) -> None:
    kube = system.kube
    kube.apply(team("real", system.pool, real_cli_members(API, ensure_agents(), model, tmp_path / "agents")))
    wait_team_ready(kube, "real", timeout=180)
    for index, text in enumerate(MESSAGES):
        for cli in API:
            member = cli.removesuffix("-code")
            kube.apply(
                {
                    "apiVersion": "orchestrator.tmux.dev/v1alpha1",
                    "kind": "AgentMessage",
                    "metadata": {"name": f"{member}-{index}"},
                    "spec": {"team": "real", "member": member, "text": text, "deliver": "WhenIdle"},
                }
            )
        for cli in API:
            status = settled(system, f"{cli.removesuffix('-code')}-{index}")
            assert status["phase"] == "Delivered", (cli, status)
            # Claude Code and Codex say so themselves (UserPromptSubmit hook); the screen confirms Aider.
            evidence = ("Hook",) if cli in ("claude-code", "codex") else ("Busy", "Transcript")
            assert status["confirmation"] in evidence and status["attempts"] == 1, (cli, status)
    for cli, api in API.items():
        wait_for(
            lambda api=api: len([r for r in model.received() if r["api"] == api]) >= len(MESSAGES),
            timeout=60,
            message=f"{cli}: every message at the model",
        )
        prompts = [prompt_as_sent(r["text"]) for r in model.received() if r["api"] == api]
        assert prompts == MESSAGES, cli  # exactly once each, intact, one prompt per message, in order
