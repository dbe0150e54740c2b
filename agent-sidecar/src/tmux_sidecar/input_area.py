"""Where an agent CLI's input area is on its screen, and what it holds (pure).

Delivery must tell a message that is still waiting in the input area (typed, not submitted) from one the
agent took. The input area is found from the bottom of the screen, where every supported CLI draws it:

- Claude Code and Codex-style TUIs: the last line that starts with a prompt marker (`>`, U+276F, U+203A,
  U+258C, also inside a `│ … │` box) down to the rule or box edge that closes the input (Claude Code 2.1,
  fake-agent), else down to a blank line under which only a footer follows (Codex 0.171: `  model · path`,
  `? for shortcuts`). At most a few footer lines may follow; a prompt marker with more text below it is
  transcript, not input.
- Aider (line-oriented, 0.86): the lines at the bottom that start with its prompt (`> `, `diff> `, …; a
  multi-line draft repeats the prompt on every line); while Aider works there is no prompt at the bottom,
  so there is no input area.
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
# The first line of a footer under a blank line (Codex: "  gpt-5-codex default · ~/project").
_FOOTER_START = re.compile(r" · |\? for shortcuts|for agents|context left|esc to |⏎")
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
        end = next((i for i in range(start + 1, last + 1) if _CLOSING_LINE.match(lines[i])), None)
        if end is None:
            end = _footer_start(lines, start, last)
        footer = sum(1 for line in lines[end + 1 : last + 1] if line.strip())
        if footer > _MAX_FOOTER_LINES:
            return None  # the newest prompt-like line is in the transcript: no input area is shown
        rows = [_PROMPT_MARKER.sub("", lines[start], count=1), *lines[start + 1 : end]]
        return InputArea(start, end, "".join(compact(row.strip().strip(_BOX_EDGE)) for row in rows))
    return None


def _footer_start(lines: Sequence[str], start: int, last: int) -> int:
    """Where the input that begins at `start` ends without a closing rule: at a blank line followed by a
    footer, else after the last non-blank line."""
    for index in range(start + 1, last):
        if not lines[index].strip() and _FOOTER_START.search(lines[index + 1]):
            return index
    return last + 1


def _aider_input(lines: Sequence[str]) -> InputArea | None:
    last = _last_nonblank(lines)
    start = last
    while start >= 0 and _AIDER_PROMPT.match(lines[start]):
        start -= 1
    if start == last:
        return None
    rows = lines[start + 1 : last + 1]
    text = "".join(compact(_AIDER_MARKER.sub("", row, count=1)) for row in rows)
    return InputArea(start + 1, last + 1, text)


def _last_nonblank(lines: Sequence[str]) -> int:
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].strip():
            return index
    return -1
