"""Typing text into a pane as one bracketed paste, through the control client.

`load-buffer -` would read the text from the client's stdin, which in control mode carries the commands.
Instead the text goes into a named buffer with `set-buffer` (every argument is quoted so that any string,
control characters and `#{…}` included, arrives as itself; see commands.quote_argument), in chunks appended
with `-a` so no command line grows without bound, and `paste-buffer -p -d` writes it to the pane between
the bracketed-paste markers (when the program asked for bracketed paste, as agent CLIs do) and deletes the
buffer. Line breaks become CR, as a terminal sends them in a paste. All commands go out in one pipelined
batch, so nothing else tmux runs can come between them.
"""

from __future__ import annotations

from .commands import command_line, pane_target, require_safe_name
from .control import ControlClient

_CHUNK = 2048


async def paste_text(client: ControlClient, pane_id: str, text: str, buffer: str) -> None:
    """Paste `text` into the pane as one bracketed paste, via the tmux buffer named `buffer`."""
    if not text:
        raise ValueError("nothing to paste")
    target = pane_target(pane_id)
    name = require_safe_name(buffer)
    leave = command_line("send-keys", "-X", "-t", target, "cancel")  # copy mode would swallow the paste
    commands: list[tuple[str, ...]] = [("if-shell", "-F", "-t", target, "#{pane_in_mode}", leave)]
    for start in range(0, len(text), _CHUNK):
        append = ("-a",) if start else ()
        commands.append(("set-buffer", *append, "-b", name, "--", text[start : start + _CHUNK]))
    commands.append(("paste-buffer", "-p", "-d", "-b", name, "-t", target))
    results = await client.run_many(commands)
    if any(result.failed for result in results):
        await client.run_many([("delete-buffer", "-b", name)])  # a half-filled buffer must not linger
    for result in results:
        result.check()
