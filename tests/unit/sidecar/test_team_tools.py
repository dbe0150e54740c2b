"""Which agent CLIs get the team's MCP server, and how it is put on their command line (pure)."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import pytest

from tmux_orchestrator.api import AgentTemplate
from tmux_sidecar.hook_state import HOOK_EVENTS
from tmux_sidecar.team_tools import agent_command, hook_settings, wants_hooks, wants_mcp

SERVER = ["/venv/bin/tmux-orchestrator", "mcp"]
ENV = {"TMUX_ORCHESTRATOR_SOCKET": "/run/x/n1.sock"}


def template(command: list[str], profile: str = "claude-code", mcp: bool | None = None) -> AgentTemplate:
    tools: dict[str, Any] = {"tools": {"mcp": mcp}} if mcp is not None else {}
    return AgentTemplate.model_validate({"command": command, "profile": profile, **tools})


WANTS = [
    ("claude-by-default", template(["claude"]), True),
    ("claude-by-path", template(["/usr/local/bin/claude", "--verbose"]), True),
    ("codex-by-default", template(["codex"], "codex"), True),
    ("opted-out", template(["claude"], mcp=False), False),
    ("fake-agent-with-claude-profile", template(["tmux-orchestrator", "fake-agent"]), False),
    ("opted-in-other-program", template(["my-claude-wrapper"], mcp=True), True),
    ("aider-speaks-no-mcp", template(["aider"], "aider", mcp=True), False),
    ("shell", template(["bash"], "shell"), False),
]


@pytest.mark.parametrize(("tmpl", "wanted"), [c[1:] for c in WANTS], ids=[c[0] for c in WANTS])
def test_wants_mcp(tmpl: AgentTemplate, wanted: bool) -> None:
    assert wants_mcp(tmpl) is wanted


def test_claude_code_gets_an_mcp_config_string_last() -> None:
    argv = agent_command(template(["claude", "--model", "opus", "Fix the bug"]), SERVER, ENV)
    assert argv[:4] == ["claude", "--model", "opus", "Fix the bug"]  # a prompt argument is not swallowed
    assert argv[4] == "--mcp-config"
    assert json.loads(argv[5]) == {
        "mcpServers": {"tmux_orchestrator": {"command": SERVER[0], "args": ["mcp"], "env": ENV}}
    }


def test_codex_gets_config_overrides_that_parse_as_toml() -> None:
    argv = agent_command(template(["codex", "--full-auto"], "codex"), SERVER, ENV)
    assert argv[0] == "codex" and argv[-1] == "--full-auto"
    overrides = [argv[i + 1] for i, part in enumerate(argv) if part == "-c"]
    merged: dict[str, Any] = {}
    for item in overrides:
        merged = _merge(merged, tomllib.loads(item))
    assert merged == {
        "mcp_servers": {"tmux_orchestrator": {"command": SERVER[0], "args": ["mcp"], "env": ENV}}
    }


def test_a_cli_without_mcp_runs_its_command_unchanged() -> None:
    command = ["tmux-orchestrator", "fake-agent", "--step", "idle"]
    assert agent_command(template(command), SERVER, ENV) == command


def _merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    out = dict(left)
    for key, value in right.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and key in out else value
    return out


def hooks_template(
    command: list[str], profile: str = "claude-code", hooks: bool | None = None
) -> AgentTemplate:
    tools: dict[str, Any] = {"tools": {"hooks": hooks}} if hooks is not None else {}
    return AgentTemplate.model_validate({"command": command, "profile": profile, **tools})


HOOKS = [
    ("claude-by-default", hooks_template(["claude"]), True),
    ("claude-by-path", hooks_template(["/opt/bin/claude"]), True),
    ("opted-out", hooks_template(["claude"], hooks=False), False),
    ("opted-in-wrapper", hooks_template(["my-claude"], hooks=True), True),
    ("fake-agent-with-claude-profile", hooks_template(["tmux-orchestrator", "fake-agent"]), False),
    # Off unless asked: Codex's hooks need a flag that skips its review of every configured hook.
    ("codex-by-default", hooks_template(["codex", "--no-daemon"], "codex"), False),
    ("codex-opted-in", hooks_template(["codex", "--no-daemon"], "codex", hooks=True), True),
    ("codex-opted-out", hooks_template(["codex"], "codex", hooks=False), False),
    ("aider", hooks_template(["aider"], "aider", hooks=True), False),
    ("shell", hooks_template(["bash"], "shell"), False),
]


@pytest.mark.parametrize(("tmpl", "wanted"), [c[1:] for c in HOOKS], ids=[c[0] for c in HOOKS])
def test_wants_hooks(tmpl: AgentTemplate, wanted: bool) -> None:
    assert wants_hooks(tmpl) is wanted


def test_hook_settings_run_the_hook_command_for_each_event() -> None:
    settings = hook_settings(["/my venv/bin/tmux-orchestrator", "hook"])
    hooks = settings["hooks"]
    assert isinstance(hooks, dict) and set(hooks) == set(HOOK_EVENTS)
    assert hooks["Stop"] == [
        {
            "hooks": [
                {"type": "command", "command": "'/my venv/bin/tmux-orchestrator' hook Stop", "timeout": 10}
            ]
        }
    ]


def test_codex_gets_the_same_hooks_as_config_overrides_with_the_trust_bypass() -> None:
    program = ["/my venv/bin/tmux-orchestrator", "hook"]
    argv = agent_command(hooks_template(["codex", "--no-daemon"], "codex"), SERVER, ENV, None, program)
    assert argv[0] == "codex" and argv[-1] == "--no-daemon"
    assert "--dangerously-bypass-hook-trust" in argv
    overrides = [
        argv[i + 1] for i, part in enumerate(argv) if part == "-c" and argv[i + 1].startswith("hooks.")
    ]
    # Codex parses each value as TOML: the same events and handlers as Claude Code's settings file.
    parsed = {
        key: tomllib.loads(f"value = {value}")["value"] for key, value in (o.split("=", 1) for o in overrides)
    }
    assert {key.removeprefix("hooks.") for key in parsed} == set(HOOK_EVENTS)
    assert parsed["hooks.Stop"] == hook_settings(program)["hooks"]["Stop"]  # type: ignore[index]
    assert parsed["hooks.SessionEnd"][0]["hooks"][0]["timeout"] == 3  # Codex's limit for SessionEnd


def test_without_a_hook_program_codex_runs_as_written() -> None:
    argv = agent_command(hooks_template(["codex", "--no-daemon"], "codex", hooks=False), SERVER, ENV)
    assert "--dangerously-bypass-hook-trust" not in argv and not any("hooks." in part for part in argv)


def test_settings_go_before_the_variadic_mcp_config() -> None:
    argv = agent_command(template(["claude", "--model", "x"]), SERVER, ENV, "/run/x/hooks/u1.json")
    assert argv[:5] == ["claude", "--model", "x", "--settings", "/run/x/hooks/u1.json"]
    assert argv[5] == "--mcp-config"
