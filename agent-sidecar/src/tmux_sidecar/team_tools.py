"""The argv an agent's pane runs: the template's command, plus the team's MCP server for CLIs that speak MCP
(pure). Nothing is written to the user's files: the server is handed over on the command line only.

Flags as the CLIs take them (from their --help): Claude Code 2.1.332 `--mcp-config <configs...>` ("Load MCP
servers from JSON files or strings", variadic, so it goes last where it cannot swallow a prompt argument);
Codex 0.171.0 `-c, --config <key=value>` ("dotted path … value parsed as TOML"), right after the program.
Hooks: Claude Code 2.1.332 `--settings <file-or-json>` ("Path to a settings JSON file or a JSON string to
load additional settings from"), a file the node agent writes in its own runtime directory. Codex 0.171.0
has hooks too (feature `hooks`, stable, on), the same event names and payloads, read from `-c hooks.EVENT=…`
("/<session-flags>/config.toml"); hooks it has not been told to trust wait behind a "Hooks need review"
dialog at start unless `--dangerously-bypass-hook-trust` ("Run enabled hooks without requiring persisted
hook trust for this invocation … Intended only for automation that already vets hook sources"): the node
agent wrote these hooks itself. It clamps a SessionEnd hook's timeout to 3 s, with a startup warning.
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
HOOK_PROFILES: Final = MCP_PROFILES  # the CLIs with hooks (both, in the pinned versions)
OPT_IN_HOOK_PROFILES: Final = frozenset({"codex"})  # hooks only with tools.hooks: true (see wants_hooks)
_HOOK_TIMEOUT: Final = 10  # seconds; the hook command gives up on the node agent after 2
_SESSION_END_TIMEOUT: Final = 3  # Codex's limit for SessionEnd


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
    """members[].tools.hooks, else on for claude-code when the command runs that CLI.

    Codex only when asked: its hooks need `--dangerously-bypass-hook-trust`, which would also run, unreviewed,
    any hook the user's or the project's Codex config holds. Switching a security review off is the user's
    call, not a default."""
    program = HOOK_PROFILES.get(template.profile)
    if program is None:
        return False
    chosen = template.tools.hooks if template.tools is not None else None
    if chosen is not None:
        return chosen
    return template.profile not in OPT_IN_HOOK_PROFILES and template.command[0].rsplit("/", 1)[-1] == program


def _hook_handler(hook_program: Sequence[str], event: str) -> dict[str, object]:
    """The handler that runs `tmux-orchestrator hook EVENT`."""
    prefix = " ".join(shlex.quote(part) for part in hook_program)
    timeout = _SESSION_END_TIMEOUT if event == "SessionEnd" else _HOOK_TIMEOUT
    return {"type": "command", "command": f"{prefix} {event}", "timeout": timeout}


def hook_settings(hook_program: Sequence[str]) -> dict[str, object]:
    """Claude Code settings whose hooks run `tmux-orchestrator hook EVENT` for every event we read."""
    return {"hooks": {event: [{"hooks": [_hook_handler(hook_program, event)]}] for event in HOOK_EVENTS}}


def codex_hook_arguments(hook_program: Sequence[str]) -> list[str]:
    """Codex's `-c hooks.EVENT=[…]` overrides for the same hooks, and the trust bypass they need."""
    arguments = []
    for event in HOOK_EVENTS:
        # A TOML inline table; JSON strings and numbers are valid TOML values.
        handler = ", ".join(f"{k} = {json.dumps(v)}" for k, v in _hook_handler(hook_program, event).items())
        arguments += ["-c", f"hooks.{event}=[{{hooks = [{{{handler}}}]}}]"]
    return [*arguments, "--dangerously-bypass-hook-trust"]


def agent_command(
    template: AgentTemplate,
    mcp_server: Sequence[str],
    env: Mapping[str, str] | None = None,
    settings_path: str | None = None,
    hook_program: Sequence[str] | None = None,
) -> list[str]:
    """The pane's argv; `mcp_server` is the argv of `tmux-orchestrator mcp`, `env` what it must be given
    (a CLI may start its MCP servers with a reduced environment); `settings_path` Claude Code's hooks
    settings file and `hook_program` the argv of `tmux-orchestrator hook` (given only when `wants_hooks`)."""
    command = list(template.command)
    if settings_path is not None:
        command += ["--settings", settings_path]
    if hook_program is not None and template.profile == "codex":
        command[1:1] = codex_hook_arguments(hook_program)
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
