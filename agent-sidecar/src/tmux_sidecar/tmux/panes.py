"""Pane-level tmux commands: list, respawn, capture, type into."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .commands import (
    PANE_REF_FORMAT,
    PaneRef,
    pane_target,
    parse_pane_ref,
    session_target,
    start_arguments,
)
from .server import ServerCommands
from .transport import CommandResult

# Longer text is typed in several send-keys commands so no command line grows without bound.
_SEND_CHUNK = 2048


class PaneCommands(ServerCommands):
    async def list_panes(
        self, format: str, *, session: str | None = None, filter: str | None = None
    ) -> list[str]:
        """One output line per pane (every pane of the server unless `session` is given)."""
        scope = ["-s", "-t", session_target(session)] if session is not None else ["-a"]
        filter_args = ["-f", filter] if filter is not None else []
        return list(await self.run("list-panes", *scope, *filter_args, "-F", format))

    async def respawn_pane(
        self,
        pane_id: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        kill: bool = True,
    ) -> PaneRef:
        """Run `command` anew in the same pane (window and options stay); `kill` ends a live program first."""
        target = pane_target(pane_id)
        kill_args = ["-k"] if kill else []
        respawned, described = await self.run_many(
            [
                ("respawn-pane", *kill_args, "-t", target, *start_arguments(command, env, cwd)),
                ("display-message", "-p", "-t", target, PANE_REF_FORMAT),
            ]
        )
        respawned.check()
        ref = parse_pane_ref(described.check())
        self._started(ref)
        return ref

    async def capture_pane(self, pane_id: str, *, scrollback: int = 0) -> list[str]:
        """The pane's visible screen as text lines, preceded by up to `scrollback` lines of history."""
        (result,) = await self.capture_panes([pane_id], scrollback=scrollback)
        return list(result.check())

    async def capture_panes(self, pane_ids: Sequence[str], *, scrollback: int = 0) -> list[CommandResult]:
        """Screens of many panes in one pipelined batch (a pane that vanished gives a failed result)."""
        start = ["-S", str(-scrollback)] if scrollback > 0 else []
        return await self.run_many(
            [("capture-pane", "-p", "-t", pane_target(pane_id), *start) for pane_id in pane_ids]
        )

    async def send_literal(self, pane_id: str, text: str, *, leave_copy_mode: bool = True) -> None:
        """Type `text` into the pane exactly as given (`send-keys -l`: never read as key names).

        Every character arrives as itself: control characters, escape sequences, `;`, `#{...}`, quotes and
        backslashes included (terminal programs in raw mode read them byte for byte). Note that CR is what
        the Enter key sends, so a CR inside `text` submits in most programs; a line break inside a message is
        typed as LF (Ctrl-J), which Claude-Code-style prompts insert as a new line (`delivery.message_text`
        converts). A pane in copy mode would swallow the keys, so it is taken out of copy mode first.
        """
        target = pane_target(pane_id)
        commands: list[tuple[str, ...]] = []
        if leave_copy_mode:
            # Not `if-shell … send-keys -X cancel`: a command an if-shell queues gets a reply block of
            # its own, which would shift later replies onto the wrong caller. `copy-mode -q` is a no-op
            # outside a mode.
            commands.append(("copy-mode", "-q", "-t", target))
        for start in range(0, len(text), _SEND_CHUNK):
            commands.append(("send-keys", "-l", "-t", target, text[start : start + _SEND_CHUNK]))
        for result in await self.run_many(commands):
            result.check()

    async def send_keys(self, pane_id: str, *keys: str) -> None:
        """Press named keys (`Enter`, `Escape`, `C-c`, …) in the pane."""
        await self.run("send-keys", "-t", pane_target(pane_id), *keys)

    async def send_enter(self, pane_id: str) -> None:
        """Press Enter (sends CR), which submits the typed text."""
        await self.send_keys(pane_id, "Enter")
