"""Session- and window-level tmux commands (one pipelined round trip each unless noted)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .commands import (
    PANE_REF_FORMAT,
    PaneRef,
    parse_pane_ref,
    require_safe_name,
    session_target,
    start_arguments,
    window_target,
)
from .server import ServerCommands


class WindowCommands(ServerCommands):
    async def has_session(self, session: str) -> bool:
        (result,) = await self.run_many([("has-session", "-t", session_target(session))])
        return not result.failed

    async def new_session(
        self, session: str, *, width: int = 200, height: int = 50, window_name: str = "init"
    ) -> PaneRef:
        """A detached session whose first window runs the default shell."""
        lines = await self.run(
            "new-session",
            "-d",
            "-P",
            "-F",
            PANE_REF_FORMAT,
            "-s",
            require_safe_name(session),
            "-n",
            require_safe_name(window_name),
            "-x",
            str(width),
            "-y",
            str(height),
        )
        ref = parse_pane_ref(lines)
        self._started(ref)
        return ref

    async def new_window(
        self,
        session: str,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        user_options: Mapping[str, str] | None = None,
    ) -> PaneRef:
        """A detached window at the end of `session` running `command` (an argv, never a shell line).

        `user_options` (e.g. {"@orchestrator-agent-uid": uid}) are set on the window right after.
        """
        lines = await self.run(
            "new-window",
            "-d",
            "-P",
            "-F",
            PANE_REF_FORMAT,
            "-t",
            session_target(session) + ":",  # a new index in that session
            "-n",
            require_safe_name(name),
            *start_arguments(command, env, cwd),
        )
        ref = parse_pane_ref(lines)
        if user_options:
            await self.set_window_options(ref.window_id, user_options)
        self._started(ref)
        return ref

    async def kill_window(self, window_id: str) -> None:
        await self.run("kill-window", "-t", window_target(window_id))

    async def kill_session(self, session: str) -> None:
        await self.run("kill-session", "-t", session_target(session))

    async def set_window_options(self, window_id: str, options: Mapping[str, str]) -> None:
        """Set window options (user options start with `@`) in one pipelined batch."""
        target = window_target(window_id)
        results = await self.run_many(
            [("set-option", "-w", "-t", target, name, value) for name, value in options.items()]
        )
        for result in results:
            result.check()

    async def unset_window_option(self, window_id: str, name: str) -> None:
        await self.run("set-option", "-w", "-u", "-t", window_target(window_id), name)
