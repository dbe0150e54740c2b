"""Issue 11 with the real agent CLIs: Claude Code and Codex (the pinned versions) call the team's MCP tool
`send_message`, which the node agent handed them on their command line (`--mcp-config`, `-c mcp_servers…`),
and a teammate receives the message with the sender header. The fake model server plays the model: asked to
"tell dev-0", it calls the tool under the name each CLI offers it by (recorded from their requests below)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.e2e import FAKE, System, answer_dialog, say, team, wait_team_ready
from support.fakemodel import FakeModelServer, real_cli_members, start_fake_model
from support.kube import wait_for
from support.processes import tmux
from tmux_orchestrator.realagents.install import AgentBinaries, ensure_agents

TEXT = "the build is green"
SCRIPT = f"""\
rules:
  - when: "tell dev-0"
    tool: {{server: tmux_orchestrator, name: send_message, input: {{target: dev-0, text: "{TEXT}"}}}}
default: {{text: "OK, done."}}
"""
CLIS = ("claude-code", "codex")
# The approval each CLI asks before it runs an MCP tool (manual permission mode; Codex on-request), and the
# key that says yes (both preselect it).
DIALOG = {
    "claude-code": "tmux_orchestrator — Send Message Tool: (MCP)",
    "codex": 'Allow the tmux_orchestrator MCP server to run tool "send_message"?',
}


@pytest.fixture(scope="session")
def agent_binaries() -> AgentBinaries:
    return ensure_agents()  # installed by `make agents`; cached, this returns at once


@pytest.fixture
def model(tmp_path: Path) -> Iterator[FakeModelServer]:
    dump = tmp_path / "requests"
    dump.mkdir()
    server = start_fake_model(tmp_path / "fake-model", SCRIPT, "--dump-dir", str(dump))
    yield server
    server.stop()


def requests(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted((tmp_path / "requests").glob("*.json"))]


def screen(system: System, agent: str) -> str:
    return tmux(system.nodes[0].socket, "capture-pane", "-p", "-t", f"=mcp:{agent}").stdout


def received(log: Path) -> list[str]:
    return [json.loads(line)["text"] for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.timeout(600)
def test_real_clis_send_a_teammate_a_message_through_the_mcp_tool(
    system: System, agent_binaries: AgentBinaries, model: FakeModelServer, tmp_path: Path
) -> None:
    kube = system.kube
    log = tmp_path / "dev-0.jsonl"
    members = real_cli_members(CLIS, agent_binaries, model, tmp_path / "agents")
    members.append(
        {
            "name": "dev",
            "role": "developer",
            "command": [*FAKE, "--log", str(log)],
            "profile": "claude-code",
        }
    )
    kube.apply(team("mcp", system.pool, members))
    wait_team_ready(kube, "mcp", timeout=180)

    for agent in ("claude-0", "codex-0"):
        say(kube, f"mcp-{agent}", "tell dev-0 that the build is green")
    # Each CLI asks before it runs the MCP tool; a person says yes (Enter: the preselected answer).
    for cli, agent in zip(CLIS, ("claude-0", "codex-0"), strict=True):
        answer_dialog(system.nodes[0].socket, f"=mcp:{agent}", DIALOG[cli])

    expected = {f"[from claude-0] {TEXT}", f"[from codex-0] {TEXT}"}
    wait_for(
        lambda: set(received(log)) >= expected, timeout=120, interval=0.5, message="dev-0 got both messages"
    )
    assert sorted(received(log)) == sorted(expected)  # each once
    sent = [m for m in kube.get_all("agentmessages") if m["spec"].get("from")]
    assert sorted((m["spec"]["from"], m["spec"]["agent"], m["spec"]["text"]) for m in sent) == [
        ("mcp-claude-0", "mcp-dev-0", TEXT),
        ("mcp-codex-0", "mcp-dev-0", TEXT),
    ]
    assert all((m.get("status") or {}).get("phase") == "Delivered" for m in sent)

    # The names are the CLIs' own (seen in their requests, see the fake model's script doc): Claude Code
    # 2.1.332 lists mcp__tmux_orchestrator__send_message among its deferred tools, Codex 0.171.0 offers
    # send_message inside a namespace tool mcp__tmux_orchestrator. Both start MCP servers beside their first
    # request, so that request may not list the tool yet; a call made once the server is up works (above).

    # The tool's answer went back to each model: the result of a real send, naming the new AgentMessage.
    def answered(api_key: str) -> bool:
        return any(
            api_key in b and "sent to dev-0: agentmessage/mcp-dev-0-" in json.dumps(b)
            for b in requests(tmp_path)
        )

    wait_for(lambda: answered("messages") and answered("input"), message="the tool results reached the model")
