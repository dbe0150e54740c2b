"""Small helpers shared by the built-in profiles for reading screen text (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence

# How far up from the bottom of the screen a profile looks for the agent's current state: status lines and
# prompts live at the bottom; older transcript text above must not decide the state.
BOTTOM_LINES = 15


def bottom(lines: Sequence[str], count: int = BOTTOM_LINES) -> list[str]:
    """The last `count` non-blank lines, right-stripped."""
    kept: list[str] = []
    for line in reversed(lines):  # from the bottom: most of a screen is never looked at
        if len(kept) == count:
            break
        if not line.isspace() and line:
            kept.append(line.rstrip())
    kept.reverse()
    return kept


def last_line(lines: Sequence[str]) -> str:
    tail = bottom(lines, 1)
    return tail[0] if tail else ""


def find(pattern: re.Pattern[str], lines: Sequence[str]) -> re.Match[str] | None:
    """The first match of `pattern` in `lines`, searching from the bottom up (the newest text first)."""
    for line in reversed(lines):
        match = pattern.search(line)
        if match:
            return match
    return None


def found(pattern: re.Pattern[str], lines: Sequence[str]) -> bool:
    return find(pattern, lines) is not None


# "resets at 3pm (Europe/Berlin).", "resets 11:30", "try again at 4:05 PM", "Retrying in 4.0 seconds...":
# the time as written, up to the end of the sentence.
_RESET = re.compile(
    r"(?:resets?|try again|retrying)(?:\s+(?:at|in))?\s+(?P<when>.+?)\s*(?:\.+(?:\s|$)|[·•|∙]|$)",
    re.IGNORECASE,
)


def reset_time(lines: Sequence[str]) -> str | None:
    """When a rate limit ends, as the screen states it (None if not shown)."""
    match = find(_RESET, lines)
    return match["when"].strip() if match else None
