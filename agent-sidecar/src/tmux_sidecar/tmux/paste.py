"""Typing text into a pane as one bracketed paste, through the control client.

`load-buffer -` would read the text from the client's stdin, which in control mode carries the commands.
Instead the text goes into a named buffer with `set-buffer` (every argument is quoted so that any string,
control characters and `#{…}` included, arrives as itself; see commands.quote_argument), in chunks appended
with `-a` so no command line grows without bound; `paste-buffer -d` writes it to the pane and deletes the
buffer. Line breaks become CR, as a terminal sends them in a paste. All commands go out in one pipelined
batch, so nothing else tmux runs can come between them.

The bracketed-paste markers are part of the buffer rather than added by `paste-buffer -p`: tmux adds them
only while the program has bracketed paste switched on, and an agent CLI switches it off between prompts
(Aider 0.86 does, while it prints an answer). Text pasted in that moment waits unread in the terminal and
arrived without markers: each line break then submitted a line of its own. With the markers always sent,
the CLI's input parser reads one paste whenever it reads the text.

tmux 3.3a's server dies (every agent's window with it) when `paste-buffer` targets a dead pane, which
happens whenever an agent exits while a message is being typed (reproduced: remain-on-exit, process
SIGKILLed, paste-buffer → "server exited unexpectedly"). So the paste runs behind `if-shell -F
#{pane_dead}`, checked by tmux in the same command queue pass (each branch queues exactly one command,
whose reply INSERTED_REPLY takes), and a dead pane gets no paste: the buffer is dropped and PaneDeadError
says why.
"""

from __future__ import annotations

from tmux_sidecar.submission import PASTE_END, PASTE_START

from .commands import command_line, pane_target, require_safe_name
from .control import ControlClient
from .transport import INSERTED_REPLY, TmuxError

_CHUNK = 2048


class PaneDeadError(TmuxError):
    """The pane's process had exited: nothing was pasted."""


async def paste_text(client: ControlClient, pane_id: str, text: str, buffer: str) -> None:
    """Paste `text` into the pane as one bracketed paste, via the tmux buffer named `buffer`.

    `text` must not contain PASTE_END (it would end the paste early; see submission.unsafe_text)."""
    if PASTE_END in text:
        raise ValueError("text contains the bracketed-paste end sequence")
    target = pane_target(pane_id)
    # A mode (copy mode) would swallow the paste; `copy-mode -q` leaves any mode and is a no-op otherwise.
    commands: list[tuple[str, ...]] = [("copy-mode", "-q", "-t", target)]
    commands += buffer_commands(buffer, PASTE_START + text + PASTE_END)
    name = require_safe_name(buffer)
    paste = command_line("paste-buffer", "-d", "-b", name, "-t", target)
    drop = command_line("delete-buffer", "-b", name)
    commands.append(("if-shell", "-F", "-t", target, "#{pane_dead}", drop, paste))
    commands.append(INSERTED_REPLY)
    commands.append(("display-message", "-p", "-t", target, "#{pane_dead}"))
    results = await client.run_many(commands)
    if any(result.failed for result in results):
        await client.run_many([("delete-buffer", "-b", buffer)])  # a half-filled buffer must not linger
    for result in results:
        result.check()
    if results[-1].lines[-1:] == ("1",):
        raise PaneDeadError(f"pane {pane_id} is dead: nothing pasted")


def buffer_commands(buffer: str, text: str) -> list[tuple[str, ...]]:
    """The commands that put exactly `text` into the tmux buffer `buffer` (set, then append per chunk)."""
    if not text:
        raise ValueError("nothing to paste")
    name = require_safe_name(buffer)
    commands: list[tuple[str, ...]] = []
    for start in range(0, len(text), _CHUNK):
        append = ("-a",) if start else ()
        commands.append(("set-buffer", *append, "-b", name, "--", text[start : start + _CHUNK]))
    return commands
