"""Session- and window-level tmux commands (one pipelined round trip each unless noted)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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
from .transport import TmuxCommandError, TmuxError


@dataclass(frozen=True)
class NewWindow:
    """A window to create: at the end of `session`, named `name`, running `command` (an argv)."""

    session: str
    name: str
    command: Sequence[str]
    env: Mapping[str, str] | None = None
    cwd: str | None = None
    user_options: Mapping[str, str] | None = None
    """Window options (e.g. {"@orchestrator-agent-uid": uid}) set right after it is created."""


def _new_window_command(window: NewWindow) -> tuple[str, ...]:
    return (
        "new-window",
        "-d",
        "-P",
        "-F",
        PANE_REF_FORMAT,
        "-t",
        session_target(window.session) + ":",  # a new index in that session
        "-n",
        require_safe_name(window.name),
        *start_arguments(window.command, window.env, window.cwd),
    )


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
        (result,) = await self.new_windows([NewWindow(session, name, command, env, cwd, user_options)])
        if isinstance(result, TmuxError):
            raise result
        return result

    async def new_windows(self, windows: Sequence[NewWindow]) -> list[PaneRef | TmuxError]:
        """Many windows in two pipelined round trips however many there are: every `new-window`, then the
        user options of every window that was created. Each gets its window (PaneRef) or the error that
        stopped it; one that fails does not stop the others. A name or variable that cannot reach tmux is
        a ValueError, raised before anything is sent."""
        commands = [_new_window_command(window) for window in windows]  # ValueError before anything is sent
        results: list[PaneRef | TmuxError] = []
        options: list[tuple[str, ...]] = []
        owners: list[int] = []  # index into `windows` of each option command
        for index, answer in enumerate(await self.run_many(commands)):
            if answer.failed:
                results.append(TmuxCommandError(answer.command, "\n".join(answer.lines) or "failed"))
                continue
            ref = parse_pane_ref(answer.lines)
            results.append(ref)
            for option, value in (windows[index].user_options or {}).items():
                options.append(("set-option", "-w", "-t", window_target(ref.window_id), option, value))
                owners.append(index)
        for index, answer in zip(owners, await self.run_many(options), strict=True):
            if answer.failed and not isinstance(results[index], TmuxError):
                results[index] = TmuxCommandError(answer.command, "\n".join(answer.lines) or "failed")
        for outcome in results:
            if isinstance(outcome, PaneRef):
                self._started(outcome)
        return results

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
