"""The tmux server: starting it (or finding it running) with a control client attached, and server-level
commands — what it is (`ServerInfo`), expanding formats, and nudging its child reaper.

The control client attaches to a small control session of its own (created on first use): a control client
needs a session, and that session keeps the server alive while no agent runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .commands import PaneRef, require_safe_name
from .transport import ControlTransport

CONTROL_SESSION = "tmux-orchestrator"
# The control session's only pane runs this: it reads its terminal and prints nothing.
_CONTROL_PANE_COMMAND = "cat"


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    version: str
    control_window_id: str


def socket_arguments(socket_name: str | None, socket_path: str | None) -> list[str]:
    """`-L name` and/or `-S path`: which server a tmux command talks to."""
    socket_args: list[str] = []
    if socket_name is not None:
        socket_args += ["-L", socket_name]
    if socket_path is not None:
        socket_args += ["-S", socket_path]
    return socket_args


async def start_control_process(
    socket_args: list[str],
    *,
    control_session: str,
    tmux_binary: str,
    config_file: str | None,
    environment: Mapping[str, str] | None,
) -> asyncio.subprocess.Process:
    """A `tmux -C` client attached to `control_session`, starting the server first if none runs.

    `config_file` is passed as `-f` when tmux has to start a server (use "/dev/null" for a clean one).
    The server inherits `environment` (default: ours without TMUX/TMUX_PANE, so it never nests).
    """
    config_args = ["-f", config_file] if config_file is not None else []
    env = dict(os.environ if environment is None else environment)
    env.pop("TMUX", None)
    env.pop("TMUX_PANE", None)
    session = require_safe_name(control_session)
    # Start the server (if none runs) from a short-lived client whose stdio is /dev/null. A server forked
    # by the control client itself would inherit the write end of that client's stdin pipe: the client
    # would then never see EOF when we die, and a later kill-server would wait on it forever, leaving a
    # socket that answers every new client with "server exited unexpectedly".
    server = [tmux_binary, *socket_args, *config_args]
    control_session_args = ["-s", session, "-n", "control", _CONTROL_PANE_COMMAND]
    starter = await asyncio.create_subprocess_exec(
        *server,
        "new-session",
        "-d",
        *control_session_args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    await starter.wait()  # fails harmlessly when the session exists already
    return await asyncio.create_subprocess_exec(
        *server,
        "-C",
        "new-session",
        "-A",
        *control_session_args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=env,
        start_new_session=True,  # our Ctrl-C must not reach the tmux client
    )


class ServerCommands(ControlTransport):
    """Server-level commands, and the programs this client starts (which other levels report here)."""

    def __init__(self, process: asyncio.subprocess.Process, socket_args: list[str] | tuple[str, ...]) -> None:
        super().__init__(process, socket_args)
        self.info = ServerInfo(0, "", "")
        self._start_listeners: list[Callable[[PaneRef], None]] = []

    async def read_server_info(self) -> ServerInfo:
        """Switch `%output` off (no agent pane is in the control session) and learn the server's identity."""
        results = await self.run_many(
            [
                ("refresh-client", "-f", "no-output"),
                ("display-message", "-p", "#{pid} #{version} #{window_id}"),
            ]
        )
        pid, version, window_id = results[1].check()[0].split(" ")
        self.info = ServerInfo(int(pid), version, window_id)
        return self.info

    async def display(self, format: str, target: str | None = None) -> str:
        """Expand `format` (a tmux format, `#{...}`) for `target` (default: the control pane)."""
        target_args = ["-t", target] if target is not None else []
        return "\n".join(await self.run("display-message", "-p", *target_args, format))

    def add_start_listener(self, listener: Callable[[PaneRef], None]) -> None:
        """Call `listener` with every program this client starts (new_session/new_window/respawn_pane)."""
        self._start_listeners.append(listener)

    def remove_start_listener(self, listener: Callable[[PaneRef], None]) -> None:
        with contextlib.suppress(ValueError):
            self._start_listeners.remove(listener)

    def _started(self, ref: PaneRef) -> None:
        self.nudge_reaper()  # starting a pane can swallow another pane's SIGCHLD (see below)
        for listener in list(self._start_listeners):
            listener(ref)

    def nudge_reaper(self) -> bool:
        """Send SIGCHLD to the tmux server so it collects exited panes it has not noticed yet.

        tmux builds that use libutempter (Debian/Ubuntu) lose a SIGCHLD now and then while utempter's own
        handler is installed around a pane's start or end (tmux issue #311); the exited program then stays
        a zombie, the pane is dead without an exit status and pane-died does not fire until the next
        SIGCHLD. Sending one is harmless: tmux just calls waitpid(). False if the server cannot be signalled
        (another PID namespace or user).
        """
        if self.info.pid <= 0:
            return False
        try:
            os.kill(self.info.pid, signal.SIGCHLD)
        except (ProcessLookupError, PermissionError):
            return False
        return True
