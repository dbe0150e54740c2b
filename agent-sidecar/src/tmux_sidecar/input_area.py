"""Where an agent CLI's input area is on its screen, and what it holds (pure).

Delivery must tell a message that is still waiting in the input area (typed, not submitted) from one the
agent took. The input area is found from the bottom of the screen, where every supported CLI draws it:

- Claude Code and Codex-style TUIs: the last line that starts with a prompt marker (`>`, U+276F, U+203A,
  U+258C, also inside a `│ … │` box) down to the rule or box edge that closes the input, followed by at
  most a few footer lines. A prompt marker with more text below it than a footer is transcript, not input.
- Aider (line-oriented): the input is the last non-blank line when it is the chat prompt; while Aider works
  there is no prompt at the bottom, so there is no input area.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_PROMPT_LINE = re.compile(r"^\s*(?:│\s*)?[>❯›▌](?:\s|$)")  # noqa: RUF001
_PROMPT_MARKER = re.compile(r"^\s*(?:│\s*)?[>❯›▌]\s?")  # noqa: RUF001
_CLOSING_LINE = re.compile(r"^\s*(?:╰─|─{8,}|━{8,})")
_AIDER_PROMPT = re.compile(r"^(?:[a-z-]+)?>(?:\s|$)")
_AIDER_MARKER = re.compile(r"^(?:[a-z-]+)?>\s?")
# Claude Code's footer is one to three lines (mode, shortcuts hint, notices); Codex's one or two.
_MAX_FOOTER_LINES = 6
_WHITESPACE = re.compile(r"\s+")
_BOX_EDGE = "│"


@dataclass(frozen=True)
class InputArea:
    """Screen rows [start, end) that show the input, and its text without markers, borders or whitespace."""

    start: int
    end: int
    compact_text: str


def locate_input(lines: Sequence[str], profile: str = "") -> InputArea | None:
    """The input area of `profile`'s screen (None if the screen shows none)."""
    if profile == "aider":
        return _aider_input(lines)
    return _prompt_box_input(lines)


def transcript_text(lines: Sequence[str], area: InputArea | None) -> str:
    """Everything above the input area (the whole screen if there is none), compacted."""
    above = lines[: area.start] if area is not None else lines
    return "".join(compact(line) for line in above)


def compact(text: str) -> str:
    """`text` without any whitespace: wrapping and indentation differ between screens, the characters not."""
    return _WHITESPACE.sub("", text)


def _prompt_box_input(lines: Sequence[str]) -> InputArea | None:
    last = _last_nonblank(lines)
    for start in range(last, -1, -1):
        if not _PROMPT_LINE.match(lines[start]):
            continue
        end = next((i for i in range(start + 1, last + 1) if _CLOSING_LINE.match(lines[i])), last + 1)
        footer = sum(1 for line in lines[end + 1 : last + 1] if line.strip())
        if footer > _MAX_FOOTER_LINES:
            return None  # the newest prompt-like line is in the transcript: no input area is shown
        rows = [_PROMPT_MARKER.sub("", lines[start], count=1), *lines[start + 1 : end]]
        return InputArea(start, end, "".join(compact(row.strip().strip(_BOX_EDGE)) for row in rows))
    return None


def _aider_input(lines: Sequence[str]) -> InputArea | None:
    last = _last_nonblank(lines)
    if last < 0 or not _AIDER_PROMPT.match(lines[last]):
        return None
    return InputArea(last, last + 1, compact(_AIDER_MARKER.sub("", lines[last], count=1)))


def _last_nonblank(lines: Sequence[str]) -> int:
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].strip():
            return index
    return -1
