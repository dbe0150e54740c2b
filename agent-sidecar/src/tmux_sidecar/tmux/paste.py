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
"""

from __future__ import annotations

from tmux_sidecar.submission import PASTE_END, PASTE_START

from .commands import command_line, pane_target, require_safe_name
from .control import ControlClient

_CHUNK = 2048


async def paste_text(client: ControlClient, pane_id: str, text: str, buffer: str) -> None:
    """Paste `text` into the pane as one bracketed paste, via the tmux buffer named `buffer`.

    `text` must not contain PASTE_END (it would end the paste early; see submission.unsafe_text)."""
    if PASTE_END in text:
        raise ValueError("text contains the bracketed-paste end sequence")
    target = pane_target(pane_id)
    leave = command_line("send-keys", "-X", "-t", target, "cancel")  # copy mode would swallow the paste
    commands: list[tuple[str, ...]] = [("if-shell", "-F", "-t", target, "#{pane_in_mode}", leave)]
    commands += buffer_commands(buffer, PASTE_START + text + PASTE_END)
    # tmux 3.3a exits (every agent with it) on a paste into a dead pane kept by remain-on-exit; checked in
    # the same command, so an agent that died since the last observation costs one untyped message only.
    paste = command_line("paste-buffer", "-d", "-b", require_safe_name(buffer), "-t", target)
    drop = command_line("delete-buffer", "-b", require_safe_name(buffer))
    commands.append(("if-shell", "-F", "-t", target, "#{pane_dead}", drop, paste))
    results = await client.run_many(commands)
    if any(result.failed for result in results):
        await client.run_many([("delete-buffer", "-b", buffer)])  # a half-filled buffer must not linger
    for result in results:
        result.check()


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
