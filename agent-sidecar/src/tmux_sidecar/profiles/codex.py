"""OpenAI Codex CLI. Its screen facts are less documented than Claude Code's; these rules follow its TUI:
"Working (… esc to interrupt)" while busy, an approval list ("Allow command?", "1. Yes"), and a composer
prompt (U+203A or "▌") with a "⏎ send" / "context left" footer when idle."""

from __future__ import annotations

import re
from collections.abc import Sequence

from tmux_orchestrator.api.agent import Activity
from tmux_sidecar.classification import DetectorProfile, ProcessFacts, ScreenReading

from ._screen import bottom, found, reset_time

_BUSY = re.compile(r"esc to interrupt|^\s*[•◦⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]\s*Working\b", re.IGNORECASE)
_APPROVAL = re.compile(
    r"Allow command\?|Would you like to (?:run|make|apply)|Approve\b|\(y/n\)|Yes, proceed|[›❯>]\s*1\.\s*Yes",  # noqa: RUF001
    re.IGNORECASE,
)
_RATE_LIMIT = re.compile(
    r"hit your usage limit|usage limit reached|rate limit (?:reached|exceeded)|too many requests"
    r"|exceeded retry limit",
    re.IGNORECASE,
)
_PROMPT = re.compile(r"^\s*[›▌>](?:\s|$)")  # noqa: RUF001
_FOOTER = re.compile(r"⏎ send|context left|\? for shortcuts", re.IGNORECASE)


def read_codex_screen(lines: Sequence[str], process: ProcessFacts) -> ScreenReading:
    recent = bottom(lines)
    if found(_APPROVAL, recent):
        return ScreenReading(Activity.WAITING_FOR_INPUT, True, detail="approval prompt")
    if found(_BUSY, recent):
        return ScreenReading(Activity.BUSY, True, detail="working status line")
    if found(_RATE_LIMIT, recent):
        return ScreenReading(Activity.RATE_LIMITED, True, reset_time(recent), detail="rate limit message")
    if found(_PROMPT, recent) or found(_FOOTER, recent):
        return ScreenReading(Activity.IDLE, True, detail="composer prompt")
    return ScreenReading(Activity.UNKNOWN, False, detail="no Codex screen recognised")


CODEX = DetectorProfile("codex", read_codex_screen, "OpenAI Codex CLI")
