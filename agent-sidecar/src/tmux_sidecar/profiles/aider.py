"""Aider (aider.chat), read from screens captured from the real CLI (tests/data/screens/aider/<version>).

Aider is a line-oriented program: after a `────` rule its prompt ("> ", or "diff> ", "architect> " … by
edit format and chat mode) is the last line while it waits for the user, with a draft after it; a question
("Run shell command? (Y)es/(N)o/(D)on't ask again [Yes]: ") is the last line while it waits for an answer.
While it works the last lines are the answer streaming or "Waiting for <model>". A failed request prints the
error and "Retrying in 2.0 seconds...": a RateLimitError ("The API provider has rate limited you") is a
rate limit, a server error ("The API provider's servers are down or overloaded") is not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tmux_orchestrator.api.agent import Activity
from tmux_sidecar.classification import DetectorProfile, ProcessFacts, ScreenReading

from ._screen import bottom, last_line

_CONFIRM = re.compile(r"\(Y\)es/\(N\)o.*\[(?:Yes|No)\]:\s*$|\[Yes\]:\s*$|\[No\]:\s*$")
_PROMPT = re.compile(r"^(?:[a-z-]+)?>(?:\s.*)?$")
_RULE = re.compile(r"^\s*─{8,}\s*$")
_RETRYING = re.compile(r"Retrying in (?P<when>[\d.]+ seconds?)")
_LIMIT_ERROR = re.compile(
    r"RateLimitError|rate limited you|rate limit (?:reached|exceeded)|overloaded_error", re.IGNORECASE
)


def read_aider_screen(lines: Sequence[str], process: ProcessFacts) -> ScreenReading:
    recent = bottom(lines, 6)
    last = last_line(lines)
    if not last:
        return ScreenReading(Activity.UNKNOWN, False, detail="empty screen")
    if _CONFIRM.search(last):
        return ScreenReading(Activity.WAITING_FOR_INPUT, True, detail="yes/no question")
    if _PROMPT.match(last) and (last.rstrip().endswith(">") or (len(recent) > 1 and _RULE.match(recent[-2]))):
        return ScreenReading(Activity.IDLE, True, detail="chat prompt")
    retrying = [index for index, line in enumerate(recent) if _RETRYING.search(line)]
    if retrying:
        line = recent[retrying[-1]]
        when = _RETRYING.search(line)
        error = recent[max(0, retrying[-1] - 3) : retrying[-1]]  # the error printed just before it
        if any(_LIMIT_ERROR.search(text) for text in error):
            reset = when["when"] if when else None
            return ScreenReading(Activity.RATE_LIMITED, True, reset, detail="retrying after a limit")
        return ScreenReading(Activity.BUSY, True, detail="retrying after a server error")
    # No prompt at the bottom while aider's output scrolls by (or it waits for the model): it is working.
    return ScreenReading(Activity.BUSY, True, detail="output without a prompt")


AIDER = DetectorProfile("aider", read_aider_screen, "Aider")
