"""A plain shell, or any program that is not a known agent CLI. The foreground process decides: the shell
itself in the foreground means it waits at its prompt; any other foreground program is busy, unless the last
line asks a question."""

from __future__ import annotations

import re
from collections.abc import Sequence

from tmux_orchestrator.api.agent import Activity
from tmux_sidecar.classification import DetectorProfile, ProcessFacts, ScreenReading

from ._screen import last_line

SHELLS = frozenset(
    {"sh", "bash", "dash", "zsh", "fish", "ksh", "mksh", "tcsh", "csh", "ash", "busybox", "nu", "login"}
)
_QUESTION = re.compile(
    r"\[[yY]/[nN]\]|\([yY]/[nN]\)|\(yes/no(?:/\[fingerprint\])?\)|[Pp]assword(?: for [^:]*)?:|Continue\?|"
    r"Press (?:Enter|RETURN|any key)",
)


def read_shell_screen(lines: Sequence[str], process: ProcessFacts) -> ScreenReading:
    last = last_line(lines)
    if _QUESTION.search(last):
        return ScreenReading(Activity.WAITING_FOR_INPUT, True, detail="question on the last line")
    command = (process.current_command or "").rsplit("/", 1)[-1].lstrip("-")
    if command in SHELLS:
        return ScreenReading(Activity.IDLE, True, detail=f"{command} in the foreground")
    if command:
        return ScreenReading(Activity.BUSY, True, detail=f"{command} in the foreground")
    return ScreenReading(Activity.UNKNOWN, True, detail="foreground process unknown")


SHELL = DetectorProfile("shell", read_shell_screen, "A shell or any other command")
