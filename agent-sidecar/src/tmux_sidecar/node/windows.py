"""Applying planned window actions to tmux: create, respawn, kill, adopt."""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import os
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence

from tmux_orchestrator.api import AgentTemplate
from tmux_sidecar.agent_events import start_event
from tmux_sidecar.converge import ActionKind, DesiredAgent, TmuxAction, supervisor_change
from tmux_sidecar.localapi.identity import identity_env
from tmux_sidecar.localapi.protocol import ENV_SOCKET
from tmux_sidecar.localapi.roster import TeamAgent
from tmux_sidecar.pane import AGENT_UID_OPTION, RESTARTED_AT_OPTION, REVISION_OPTION
from tmux_sidecar.team_tools import agent_command, hook_settings, wants_hooks
from tmux_sidecar.tmux.control import ControlClient, TmuxError
from tmux_sidecar.tmux.windows import NewWindow

from .records import AgentRecord

log = logging.getLogger(__name__)

_BOOTSTRAP_WINDOW = "bootstrap"


async def apply_window_actions(
    client: ControlClient,
    actions: Iterable[TmuxAction],
    agents: Mapping[str, AgentRecord],
    api_socket: str | None = None,
) -> None:
    """Apply each action; one that tmux refuses is logged and the others still run.

    Kills, respawns and adoptions go one by one, in the plan's order; then every new window is created in
    one pipelined batch (`ControlClient.new_windows`): a node agent given a hundred agents at once does not
    wait for a hundred round trips to a tmux server that is busy starting their processes.
    """
    creates: list[TmuxAction] = []
    for action in actions:
        if action.kind is ActionKind.CREATE:
            creates.append(action)
            continue
        try:
            await _apply_one(client, action, agents, api_socket)
        except TmuxError as error:
            log.warning("%s %s failed: %s", action.kind, action.agent.name if action.agent else "", error)
    if creates:
        await _create_windows(client, creates, agents, api_socket)


async def _create_windows(
    client: ControlClient,
    creates: Sequence[TmuxAction],
    agents: Mapping[str, AgentRecord],
    api_socket: str | None,
) -> None:
    """The windows of `creates`, in as many round trips as a single one would take."""
    new_agents = [action.agent for action in creates if action.agent is not None]
    # A session needs a window to exist: a new one starts with a bootstrap window, closed once the
    # agents' windows are in it. Requests sent together are pipelined in one round trip.
    sessions = sorted({agent.session for agent in new_agents})
    exists = await asyncio.gather(*(client.has_session(session) for session in sessions))
    missing = [session for session, there in zip(sessions, exists, strict=True) if not there]
    bootstraps = await asyncio.gather(
        *(client.new_session(session, window_name=_BOOTSTRAP_WINDOW) for session in missing),
        return_exceptions=True,
    )
    for session, bootstrap in zip(missing, bootstraps, strict=True):
        if isinstance(bootstrap, BaseException):
            log.warning("session %s not created: %s", session, bootstrap)
    windows = []
    for agent in new_agents:
        argv, env, options = _launch(agent, agents, api_socket)
        windows.append(NewWindow(agent.session, agent.window, argv, env, agent.template.working_dir, options))
    results = await client.new_windows(windows)
    closed = [b.window_id for b in bootstraps if not isinstance(b, BaseException)]
    await asyncio.gather(*(client.kill_window(window) for window in closed), return_exceptions=True)
    for action, result in zip(creates, results, strict=True):
        assert action.agent is not None
        if isinstance(result, TmuxError):
            log.warning("%s %s failed: %s", action.kind, action.agent.name, result)
        else:
            _started(action, agents)


def _launch(
    agent: DesiredAgent, agents: Mapping[str, AgentRecord], api_socket: str | None
) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """What a window of `agent` runs: argv, environment, and the window options that identify it."""
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
    return argv, env, options


async def _apply_one(
    client: ControlClient, action: TmuxAction, agents: Mapping[str, AgentRecord], api_socket: str | None
) -> None:
    agent = action.agent
    if action.kind is ActionKind.KILL:
        assert action.window is not None
        log.info("closing window %s (%s)", action.window.window_id, action.reason)
        await client.kill_window(action.window.window_id)
        return
    assert agent is not None and action.window is not None
    argv, env, options = _launch(agent, agents, api_socket)
    if action.kind is ActionKind.ADOPT:
        # Tag it as running the template it was started with; a changed template respawns next pass.
        await client.set_window_options(action.window.window_id, options)
        log.info("adopted untagged window %s as %s/%s", action.window.window_id, agent.namespace, agent.name)
        return
    await client.respawn_pane(action.window.pane_id, argv, env=env, cwd=agent.template.working_dir)
    await client.set_window_options(action.window.window_id, options)
    _started(action, agents)


def _started(action: TmuxAction, agents: Mapping[str, AgentRecord]) -> None:
    """What the supervisor records once `action` started the agent's process."""
    agent = action.agent
    assert agent is not None
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
    started = start_event(action.reason, record.restart_count, agent.template.command[0])
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
