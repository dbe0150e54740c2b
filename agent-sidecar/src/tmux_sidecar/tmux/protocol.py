"""The tmux control-mode protocol, one line at a time (pure).

tmux answers every command with a block `%begin <time> <number> <flags>` … `%end|%error <time> <number>
<flags>`; notifications (`%window-close @1`, `%exit`, …) only ever appear between blocks. Bit 0 of flags is
set when the command came from this client; blocks without it are the output of commands tmux ran on its
own (hooks, the client's start-up command) and must not be taken as replies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_GUARD = re.compile(r"^%(begin|end|error) (\d+) (\d+) (\d+)$")
_OCTAL = re.compile(rb"\\([0-7]{3})")
# How many space-separated fields each notification has; the last one may contain spaces.
_NOTIFICATION_FIELDS = {
    "client-detached": 1,
    "client-session-changed": 3,
    "exit": 1,
    "extended-output": 4,
    "layout-change": 4,
    "message": 1,
    "output": 2,
    "pane-mode-changed": 1,
    "paste-buffer-changed": 1,
    "paste-buffer-deleted": 1,
    "session-changed": 2,
    "session-renamed": 2,
    "session-window-changed": 2,
    "subscription-changed": 6,
    "unlinked-window-add": 1,
    "unlinked-window-close": 1,
    "unlinked-window-renamed": 2,
    "window-add": 1,
    "window-close": 1,
    "window-pane-changed": 2,
    "window-renamed": 2,
}


@dataclass(frozen=True)
class Reply:
    """The output of one command."""

    number: int
    lines: tuple[str, ...]
    failed: bool
    from_this_client: bool


@dataclass(frozen=True)
class Notification:
    """An asynchronous `%name args…` line."""

    name: str
    args: tuple[str, ...]


@dataclass
class _OpenBlock:
    time: str
    number: str
    from_this_client: bool
    lines: list[str]


class ControlParser:
    """Turns control-mode output lines into replies and notifications."""

    def __init__(self) -> None:
        self._block: _OpenBlock | None = None

    def feed_lines(self, lines: Iterable[str]) -> list[Reply | Notification]:
        """Consume many lines; what they complete, in order."""
        completed: list[Reply | Notification] = []
        for line in lines:
            block = self._block
            if block is not None and not line.startswith("%"):
                block.lines.append(line)  # the common case (command output), without a call
                continue
            item = self.feed(line)
            if item is not None:
                completed.append(item)
        return completed

    def feed(self, line: str) -> Reply | Notification | None:
        """Consume one line (without its newline); return what it completes, if anything."""
        block = self._block
        if block is not None:
            guard = _GUARD.match(line) if line.startswith("%") else None
            # Only the matching %end/%error closes a block: a pane line that happens to start with
            # "%end" must have this block's exact time and number to be mistaken for its end.
            if guard and guard[1] != "begin" and guard[2] == block.time and guard[3] == block.number:
                self._block = None
                return Reply(
                    int(block.number), tuple(block.lines), guard[1] == "error", block.from_this_client
                )
            block.lines.append(line)
            return None
        if not line.startswith("%"):
            return None  # nothing but blocks and notifications is expected here
        guard = _GUARD.match(line)
        if guard and guard[1] == "begin":
            self._block = _OpenBlock(guard[2], guard[3], bool(int(guard[4]) & 1), [])
            return None
        return parse_notification(line)


def parse_notification(line: str) -> Notification:
    """`%window-renamed @3 my name` → Notification("window-renamed", ("@3", "my name"))."""
    name, _, rest = line[1:].partition(" ")
    fields = _NOTIFICATION_FIELDS.get(name)
    if not rest:
        return Notification(name, ())
    args = rest.split(" ", fields - 1) if fields else rest.split(" ")
    return Notification(name, tuple(args))


def unescape_output(data: str) -> bytes:
    """The bytes of a `%output` payload, in which tmux writes `\\` and control characters as `\\ooo`."""
    return _OCTAL.sub(lambda match: bytes([int(match[1], 8)]), data.encode("utf-8", "surrogateescape"))
