"""Applying planned window actions to tmux: create, respawn, kill, adopt."""

from __future__ import annotations

import datetime
import json
import logging
import os
import shutil
import time
from collections.abc import Iterable, Mapping

from tmux_orchestrator.api import AgentTemplate
from tmux_sidecar.agent_events import start_event
from tmux_sidecar.converge import ActionKind, TmuxAction, supervisor_change
from tmux_sidecar.localapi.identity import identity_env
from tmux_sidecar.localapi.protocol import ENV_SOCKET
from tmux_sidecar.localapi.roster import TeamAgent
from tmux_sidecar.pane import AGENT_UID_OPTION, RESTARTED_AT_OPTION, REVISION_OPTION
from tmux_sidecar.team_tools import agent_command, hook_settings, wants_hooks
from tmux_sidecar.tmux.control import ControlClient, TmuxError

from .records import AgentRecord

log = logging.getLogger(__name__)

_BOOTSTRAP_WINDOW = "bootstrap"


async def apply_window_actions(
    client: ControlClient,
    actions: Iterable[TmuxAction],
    agents: Mapping[str, AgentRecord],
    api_socket: str | None = None,
) -> None:
    """Apply each action; one that tmux refuses is logged and the others still run."""
    for action in actions:
        try:
            await _apply_one(client, action, agents, api_socket)
        except TmuxError as error:
            log.warning("%s %s failed: %s", action.kind, action.agent.name if action.agent else "", error)


async def _apply_one(
    client: ControlClient, action: TmuxAction, agents: Mapping[str, AgentRecord], api_socket: str | None
) -> None:
    agent = action.agent
    if action.kind is ActionKind.KILL:
        assert action.window is not None
        log.info("closing window %s (%s)", action.window.window_id, action.reason)
        await client.kill_window(action.window.window_id)
        return
    assert agent is not None
    template = agent.template
    # Agents get no Kubernetes credentials from us: the node agent's own KUBECONFIG (inherited by the tmux
    # server) is blanked in the pane unless the member's env sets one; the local API acts for the agent.
    env = {"KUBECONFIG": ""} | environment(template)
    if (known := agents.get(agent.uid)) is not None:
        env |= identity_env(known.namespace, TeamAgent.from_object(known.obj), api_socket)
    tools_env = {ENV_SOCKET: api_socket} if api_socket else None
    # Hooks report to the local API: without one there is nobody to tell.
    hook_program = [_program(), "hook"] if api_socket and wants_hooks(template) else None
    settings = None
    if hook_program is not None and api_socket and template.profile == "claude-code":
        settings = _write_hook_settings(agent.uid, api_socket, hook_program)
    argv = agent_command(template, _mcp_server(), tools_env, settings, hook_program)
    options = {
        AGENT_UID_OPTION: agent.uid,
        REVISION_OPTION: agent.revision,
        RESTARTED_AT_OPTION: agent.restarted_at or "",
    }
    if action.kind is ActionKind.ADOPT:
        assert action.window is not None
        # Tag it as running the template it was started with; a changed template respawns next pass.
        await client.set_window_options(action.window.window_id, options)
        log.info("adopted untagged window %s as %s/%s", action.window.window_id, agent.namespace, agent.name)
        return
    if action.kind is ActionKind.CREATE:
        bootstrap = None
        if not await client.has_session(agent.session):
            bootstrap = await client.new_session(agent.session, window_name=_BOOTSTRAP_WINDOW)
        await client.new_window(
            agent.session,
            agent.window,
            argv,
            env=env,
            cwd=template.working_dir,
            user_options=options,
        )
        if bootstrap is not None:
            await client.kill_window(bootstrap.window_id)
    else:
        assert action.window is not None
        await client.respawn_pane(action.window.pane_id, argv, env=env, cwd=template.working_dir)
        await client.set_window_options(action.window.window_id, options)
    log.info("%s %s/%s (%s)", action.kind, agent.namespace, agent.name, action.reason)
    record = agents.get(agent.uid)
    if record is None:
        return
    change = supervisor_change(action.reason)
    record.started_at = datetime.datetime.now(datetime.UTC)
    record.exit_decision = None
    record.hook = None  # a new process: what the old one's hooks said no longer holds
    if change.counts_as_restart:
        record.restart_times.append(time.time())
        record.restart_count += 1
    if change.takes_restart_request:
        record.restarted_at = agent.restarted_at
    if change.clears_failure:
        record.failed = False
    started = start_event(action.reason, record.restart_count, template.command[0])
    if started is not None:
        record.events.append(started)


def _write_hook_settings(uid: str, api_socket: str, hook_program: list[str]) -> str:
    """Claude Code's hooks settings file for the window, beside the local API socket (never in the
    user's files)."""
    path = os.path.join(os.path.dirname(api_socket), "hooks", f"{uid}.json")
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path, "w", encoding="utf-8") as file:
        json.dump(hook_settings(hook_program), file)
    return path


def _program() -> str:
    """Our own installation's `tmux-orchestrator`, by absolute path, so any pane finds it."""
    return shutil.which("tmux-orchestrator") or "tmux-orchestrator"


def _mcp_server() -> list[str]:
    return [_program(), "mcp"]


def environment(template: AgentTemplate) -> dict[str, str]:
    return {var.name: var.value for var in template.env or []}


def missing_program(template: AgentTemplate) -> str | None:
    """argv[0] when it cannot be found on the pane's PATH (the template's, else ours), else None."""
    program = template.command[0]
    path = environment(template).get("PATH", os.environ.get("PATH", ""))
    if "/" in program:
        base = template.working_dir or os.getcwd()
        return None if os.access(os.path.join(base, program), os.X_OK) else program
    return None if shutil.which(program, path=path) else program
