"""One persistent tmux control-mode client per tmux server, with a typed API per tmux level.

The parts, one module each: server.py starts the server and attaches a control client; transport.py
pipelines commands and matches replies (and fans out notifications); windows.py and panes.py are the typed
commands of each tmux level. `ControlClient` is all of them together; connect with `ControlClient.connect()`.
"""

from __future__ import annotations

from collections.abc import Mapping

from .commands import PaneRef
from .panes import PaneCommands
from .server import CONTROL_SESSION, ServerInfo, socket_arguments, start_control_process
from .transport import CommandResult, ControlClosedError, Subscription, TmuxCommandError, TmuxError
from .windows import WindowCommands

__all__ = [
    "CONTROL_SESSION",
    "CommandResult",
    "ControlClient",
    "ControlClosedError",
    "PaneRef",
    "ServerInfo",
    "Subscription",
    "TmuxCommandError",
    "TmuxError",
]

_ATTACH_TIMEOUT = 30.0


class ControlClient(WindowCommands, PaneCommands):
    """A pipelined tmux control-mode connection with a typed API. Create it with `connect()`."""

    @classmethod
    async def connect(
        cls,
        socket_name: str | None = None,
        *,
        socket_path: str | None = None,
        control_session: str = CONTROL_SESSION,
        tmux_binary: str = "tmux",
        config_file: str | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> ControlClient:
        """Connect to (starting if needed) the tmux server on `-L socket_name` or `-S socket_path`.

        `config_file` is passed as `-f` when tmux has to start a server (use "/dev/null" for a clean one).
        The server inherits `environment` (default: ours without TMUX/TMUX_PANE, so it never nests).
        """
        socket_args = socket_arguments(socket_name, socket_path)
        process = await start_control_process(
            socket_args,
            control_session=control_session,
            tmux_binary=tmux_binary,
            config_file=config_file,
            environment=environment,
        )
        client = cls(process, socket_args)
        try:
            await client.wait_attached(_ATTACH_TIMEOUT)
            await client.read_server_info()
        except BaseException:
            await client.close()
            raise
        return client
