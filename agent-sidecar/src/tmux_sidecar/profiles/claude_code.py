"""Claude Code (Anthropic's `claude` CLI), from the screen facts public tools rely on (DESIGN §4)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from tmux_orchestrator.api.agent import Activity
from tmux_sidecar.classification import DetectorProfile, ProcessFacts, ScreenReading

from ._screen import bottom, found, reset_time

# Busy: the status line under the transcript, e.g. "✻ Pondering… (12s · ↑ 1.2k tokens · esc to interrupt)".
_INTERRUPT = re.compile(r"esc to interrupt", re.IGNORECASE)
_SPINNER = re.compile(r"^\s*[·✢✳✶✻✽✺*+]\s*[A-Z][a-z]+(?:ing)?…")
# Approval: "Do you want to proceed?" above a numbered choice list whose selected entry is "\u276f 1. Yes".
_QUESTION = re.compile(r"Do you want to|Would you like to")
_CHOICE = re.compile(r"❯\s*1\.")  # noqa: RUF001
_CANCEL = re.compile(r"esc to cancel", re.IGNORECASE)
# "Claude usage limit reached. Your limit will reset at 3pm", "5-hour limit reached ∙ resets 3pm"; plain
# mentions of rate limits in the transcript ("add rate limiting") must not match.
_RATE_LIMIT = re.compile(
    r"usage limit reached|limit reached\W.*\breset|rate limit reached|API Error: 429", re.IGNORECASE
)
# Idle: the input box "╭───╮ / │ > │ / ╰───╯" (or, in newer versions, "> " between rules) and the footer.
_BOX = re.compile(r"^\s*[╭╰]─")
_PROMPT = re.compile(r"^\s*(?:│\s*)?>(?:\s|$)")
_FOOTER = re.compile(r"\? for shortcuts")
_INPUT_AREA_TOP = re.compile(r"^\s*(?:╭─|─{8,}\s*$)")
# Transcript entries start with a marker (user "> …", assistant "⏺ …", tool result "⎿ …"); a line without
# one continues the entry above it (wrapped text).
_ENTRY_START = re.compile(r"^\s*(?:>|⏺|⎿|●|✻)")


def read_claude_code_screen(lines: Sequence[str], process: ProcessFacts) -> ScreenReading:
    recent = bottom(lines)
    if found(_CHOICE, recent) and (found(_QUESTION, recent) or found(_CANCEL, recent)):
        return ScreenReading(Activity.WAITING_FOR_INPUT, True, detail="approval prompt")
    if found(_INTERRUPT, recent) or found(_SPINNER, recent):
        return ScreenReading(Activity.BUSY, True, detail="working status line")
    latest = latest_entry(lines)
    if found(_RATE_LIMIT, [latest]):
        return ScreenReading(Activity.RATE_LIMITED, True, reset_time([latest]), detail="usage limit message")
    if (found(_BOX, recent) and found(_PROMPT, recent)) or found(_FOOTER, recent):
        return ScreenReading(Activity.IDLE, True, detail="input prompt")
    return ScreenReading(Activity.UNKNOWN, False, detail="no Claude Code screen recognised")


def latest_entry(lines: Sequence[str]) -> str:
    """The newest transcript entry above the input box, a wrapped second line joined to it.

    A usage limit message counts while it is this entry: once anything was said after it, it is over.
    """
    end = len(lines)
    for index in range(len(lines) - 1, -1, -1):
        if _INPUT_AREA_TOP.match(lines[index]):
            end = index
            break
    latest = bottom(lines[:end], 2)
    if len(latest) == 2 and _ENTRY_START.match(latest[1]):
        latest = latest[1:]
    return " ".join(line.strip() for line in latest)


CLAUDE_CODE = DetectorProfile("claude-code", read_claude_code_screen, "Anthropic Claude Code CLI")
