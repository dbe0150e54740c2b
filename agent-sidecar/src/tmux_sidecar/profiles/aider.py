"""Aider (aider.chat). Aider is a line-oriented program: its prompt ("> ", or "architect> ", "ask> " in other
chat modes) is the last line while it waits for the user and disappears while it works."""

from __future__ import annotations

import re
from collections.abc import Sequence

from tmux_orchestrator.api.agent import Activity
from tmux_sidecar.classification import DetectorProfile, ProcessFacts, ScreenReading

from ._screen import bottom, found, last_line, reset_time

_CONFIRM = re.compile(r"\(Y\)es/\(N\)o|\[Yes\]:\s*$|\[No\]:\s*$")
_RATE_LIMIT = re.compile(
    r"RateLimitError|rate limit (?:reached|exceeded)|overloaded_error|Retrying in [\d.]+ sec"
)
_PROMPT = re.compile(r"^(?:[a-z-]+)?>\s?$")
_WAITING_FOR_MODEL = re.compile(r"Waiting for |Thinking|[░█]{3,}")


def read_aider_screen(lines: Sequence[str], process: ProcessFacts) -> ScreenReading:
    recent = bottom(lines, 5)
    last = last_line(lines)
    if _CONFIRM.search(last):
        return ScreenReading(Activity.WAITING_FOR_INPUT, True, detail="yes/no question")
    if _PROMPT.match(last):
        return ScreenReading(Activity.IDLE, True, detail="chat prompt")
    if found(_RATE_LIMIT, recent):
        return ScreenReading(Activity.RATE_LIMITED, True, reset_time(recent), detail="rate limit message")
    if found(_WAITING_FOR_MODEL, recent):
        return ScreenReading(Activity.BUSY, True, detail="waiting for the model")
    if last:
        # No prompt at the bottom while aider's output scrolls by: it is working.
        return ScreenReading(Activity.BUSY, True, detail="output without a prompt")
    return ScreenReading(Activity.UNKNOWN, False, detail="empty screen")


AIDER = DetectorProfile("aider", read_aider_screen, "Aider")
