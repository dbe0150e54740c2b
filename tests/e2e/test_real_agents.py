"""Issue 10, end to end with the real agent CLIs: a team of Claude Code, Codex and Aider (the pinned
versions, `tmux-orchestrator dev agents`) against the fake model server, run by the real node agent and
operator. Each agent's status follows what it really does: Idle at its prompt, Busy while the model
streams, WaitingForInput on an approval, RateLimited while it retries a 429, Idle again after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.e2e import System, answer_dialog, team, wait_team_ready
from support.fakemodel import FakeModelServer, real_cli_members, start_fake_model
from support.kube import wait_for
from support.processes import tmux
from tmux_orchestrator.realagents.install import AgentBinaries, ensure_agents

SCRIPT = """\
rules:
  - when: "go slow"
    text: "Streaming slowly, word by word, so that the screen shows the agent working for a while."
    seconds: 15
  - when: "run it"
    tool: {command: "touch approved.txt"}
  - when: "hit the limit"
    status: 429
default: {text: "OK, done."}
"""
LIMIT_LIFTED = 'default: {text: "The limit is over."}\n'
CLIS = ("claude-code", "codex", "aider")
# How each CLI takes "yes" in its approval dialog: Claude Code and Codex preselect yes; Aider asks (Y)es/(N)o.
APPROVE = {"claude-code": ["Enter"], "codex": ["Enter"], "aider": ["y", "Enter"]}
# Their dialogs' questions. Claude Code and Codex report a dialog by hook before it is drawn, so a person's
# answer waits for the drawing; Aider's question is a line of its transcript (it stays on screen).
QUESTION = {"claude-code": "Do you want to proceed?", "codex": "Would you like to run the following command?"}


@pytest.fixture(scope="session")
def agent_binaries() -> AgentBinaries:
    return (
        ensure_agents()
    )  # installed by `make agents` (.ci/run) before the tests; cached, this returns at once


@pytest.fixture
def model(tmp_path: Path) -> Iterator[FakeModelServer]:
    server = start_fake_model(tmp_path / "fake-model", SCRIPT)
    yield server
    server.stop()


def real_team(system: System, binaries: AgentBinaries, model: FakeModelServer, root: Path) -> dict[str, Any]:
    return team("real", system.pool, real_cli_members(CLIS, binaries, model, root))


def activity(system: System, cli: str) -> str | None:
    status = system.kube.get("agent", f"real-{cli.removesuffix('-code')}-0").get("status") or {}
    return status.get("activity")


def wait_all(system: System, wanted: str, timeout: float = 90) -> None:
    seen: dict[str, str | None] = {}

    def all_there() -> bool:
        seen.update({cli: activity(system, cli) for cli in CLIS})
        return all(value == wanted for value in seen.values())

    try:
        wait_for(all_there, timeout=timeout, interval=0.5, message=f"every agent {wanted}")
    except AssertionError as error:
        raise AssertionError(f"{error}; activities: {seen}") from None


def wait_each(system: System, wanted: str, timeout: float = 120) -> None:
    """Every agent shows `wanted` at some moment (not necessarily all at once)."""
    seen: set[str] = set()

    def all_seen() -> bool:
        seen.update(cli for cli in CLIS if activity(system, cli) == wanted)
        return seen == set(CLIS)

    try:
        wait_for(all_seen, timeout=timeout, interval=0.5, message=f"each agent {wanted}")
    except AssertionError as error:
        raise AssertionError(f"{error}; seen only in {sorted(seen)}") from None


def screen(system: System, cli: str) -> str:
    return tmux(system.nodes[0].socket, "capture-pane", "-p", "-t", window(cli)).stdout


def approved(root: Path, cli: str) -> Path:
    """The file the approved command creates in the agent's project (see `real_cli_members`)."""
    return root / "agents" / cli.removesuffix("-code") / "project" / "approved.txt"


def window(cli: str) -> str:
    return f"=real:{cli.removesuffix('-code')}-0"


def send(system: System, text: str) -> None:
    """Type into every agent, and press Enter once the text is on screen (as its own key press)."""
    socket = system.nodes[0].socket
    for cli in CLIS:
        tmux(socket, "send-keys", "-t", window(cli), "-l", text, check=True)
    for cli in CLIS:
        wait_for(
            lambda cli=cli: text in screen(system, cli), timeout=20, message=f"{text!r} typed into {cli}"
        )
        tmux(socket, "send-keys", "-t", window(cli), "Enter", check=True)


@pytest.mark.timeout(900)
def test_real_clis_report_what_they_are_doing(
    system: System, agent_binaries: AgentBinaries, model: FakeModelServer, tmp_path: Path
) -> None:
    kube = system.kube
    kube.apply(real_team(system, agent_binaries, model, tmp_path / "agents"))
    wait_team_ready(kube, "real", timeout=180)
    wait_all(system, "Idle")

    send(system, "go slow please")
    wait_all(system, "Busy")
    wait_all(system, "Idle")
    prompts = [(r["api"], r["text"]) for r in model.received()]
    assert sorted(prompts) == sorted(
        [
            ("anthropic-messages", "go slow please"),
            ("openai-responses", "go slow please"),
            ("openai-chat", "go slow please"),
        ]
    )

    send(system, "please run it")
    wait_all(system, "WaitingForInput")
    assert not any(approved(tmp_path, cli).exists() for cli in CLIS)
    for cli in CLIS:
        if cli in QUESTION:
            answer_dialog(system.nodes[0].socket, window(cli), QUESTION[cli], keys=tuple(APPROVE[cli]))
        else:
            tmux(system.nodes[0].socket, "send-keys", "-t", window(cli), *APPROVE[cli], check=True)
    wait_all(system, "Idle")
    for cli in CLIS:  # the approved command really ran, in each agent's working directory
        assert approved(tmp_path, cli).exists(), cli

    send(system, "hit the limit")
    wait_each(system, "RateLimited")  # each while it retries; they start and stop retrying at their own pace
    model.set_script(LIMIT_LIFTED)  # the limit passes: the next retry gets an answer
    wait_all(system, "Idle", timeout=180)
    for cli in CLIS:
        wait_for(
            lambda cli=cli: "The limit is over." in screen(system, cli),
            timeout=30,
            message=f"answer in {cli}",
        )
    agents = kube.get_all("agents", "-l", "orchestrator.tmux.dev/team=real")
    # One process each all along: no screen ("API Error", 429s) was ever taken for a crash.
    assert [(a["status"].get("restartCount") or 0, a["status"].get("lastCrashReason")) for a in agents] == [
        (0, None)
    ] * 3
