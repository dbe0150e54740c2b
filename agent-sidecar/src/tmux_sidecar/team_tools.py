"""The argv an agent's pane runs: the template's command, plus the team's MCP server for CLIs that speak MCP
(pure). Nothing is written to the user's files: the server is handed over on the command line only.

Flags as the CLIs take them (from their --help): Claude Code 2.1.332 `--mcp-config <configs...>` ("Load MCP
servers from JSON files or strings", variadic, so it goes last where it cannot swallow a prompt argument);
Codex 0.171.0 `-c, --config <key=value>` ("dotted path … value parsed as TOML"), right after the program.
Hooks: Claude Code 2.1.332 `--settings <file-or-json>` ("Path to a settings JSON file or a JSON string to
load additional settings from"), a file the node agent writes in its own runtime directory.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from typing import Final

from tmux_orchestrator.api import AgentTemplate
from tmux_sidecar.hook_state import HOOK_EVENTS

SERVER_NAME: Final = "tmux_orchestrator"
# profile → the program the profile reads; by default only that program is given the tools.
MCP_PROFILES: Final = {"claude-code": "claude", "codex": "codex"}


def wants_mcp(template: AgentTemplate) -> bool:
    """members[].tools.mcp, else on when the profile's CLI speaks MCP and the command runs that CLI."""
    program = MCP_PROFILES.get(template.profile)
    if program is None:
        return False
    chosen = template.tools.mcp if template.tools is not None else None
    if chosen is not None:
        return chosen
    return template.command[0].rsplit("/", 1)[-1] == program


def wants_hooks(template: AgentTemplate) -> bool:
    """members[].tools.hooks, else on for claude-code when the command runs `claude`."""
    if template.profile != "claude-code":
        return False
    chosen = template.tools.hooks if template.tools is not None else None
    if chosen is not None:
        return chosen
    return template.command[0].rsplit("/", 1)[-1] == "claude"


def hook_settings(hook_program: Sequence[str]) -> dict[str, object]:
    """Claude Code settings whose hooks run `tmux-orchestrator hook EVENT` for every event we read."""
    prefix = " ".join(shlex.quote(part) for part in hook_program)
    return {
        "hooks": {
            event: [{"hooks": [{"type": "command", "command": f"{prefix} {event}", "timeout": 10}]}]
            for event in HOOK_EVENTS
        }
    }


def agent_command(
    template: AgentTemplate,
    mcp_server: Sequence[str],
    env: Mapping[str, str] | None = None,
    settings_path: str | None = None,
) -> list[str]:
    """The pane's argv; `mcp_server` is the argv of `tmux-orchestrator mcp`, `env` what it must be given
    (a CLI may start its MCP servers with a reduced environment); `settings_path` the hooks' settings file
    (given only when `wants_hooks`)."""
    command = list(template.command)
    if settings_path is not None:
        command += ["--settings", settings_path]
    if not wants_mcp(template):
        return command
    program, *args = mcp_server
    server: dict[str, object] = {"command": program, "args": list(args)}
    if env:
        server["env"] = dict(env)
    if template.profile == "claude-code":
        config = {"mcpServers": {SERVER_NAME: server}}
        return [*command, "--mcp-config", json.dumps(config, separators=(",", ":"))]
    overrides = [
        f"mcp_servers.{SERVER_NAME}.command={json.dumps(program)}",
        f"mcp_servers.{SERVER_NAME}.args={json.dumps(list(args))}",
    ]
    if env:  # a TOML inline table; JSON strings are valid TOML basic strings
        table = ", ".join(f"{key} = {json.dumps(value)}" for key, value in sorted(env.items()))
        overrides.append(f"mcp_servers.{SERVER_NAME}.env={{{table}}}")
    return [command[0], *(part for item in overrides for part in ("-c", item)), *command[1:]]
