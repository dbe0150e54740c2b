"""Claude Code (Anthropic's `claude` CLI), read from screens captured from the real CLI
(tests/data/screens/claude-code/<version>; older box-style screens are still understood).

The bottom of a Claude Code screen is either its input area (a U+276F prompt between two `────` rules,
or the older `╭─ │ > │ ╰─` box) with a footer under it, or a dialog that replaced the input area (an
approval, the trust question, the API key question) whose last line is "Enter to confirm · Esc to cancel"
or "Esc to cancel".
Above the input area sits the status line: a spinner glyph and a word with "…" while it works
("✽ Pondering… (7s · ↓ 6 tokens)"), the retry of a failed request ("✻ 429 … · retrying in 8s ·
attempt 5/10"; the first two retries say only "API error", whatever the status), or the finished turn
("✻ Worked for 40s · done 8:29 PM"). The footer says
"esc to interrupt" while it works or retries, in every permission mode ("⏸ manual mode on · …",
"⏵⏵ auto mode on …"), but not while a draft is in the input.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tmux_orchestrator.api.agent import Activity
from tmux_sidecar.classification import DetectorProfile, ProcessFacts, ScreenReading

from ._screen import bottom, find, found, reset_time

# A dialog's last line: approvals ("Esc to cancel · Tab to amend"), the trust and API key questions
# ("Enter to confirm · Esc to cancel"), pickers ("Enter to select"), notices ("Press Enter to continue").
_DIALOG_FOOTER = re.compile(
    r"^\s*(?:Enter to (?:confirm|select|continue)|Esc to cancel|Press Enter to continue)", re.IGNORECASE
)
# A dialog's choices: the selection marker, indented (the input prompt starts the line), moves with the
# selection; some dialogs ("Make auto mode your default permission mode?") have no footer line.
_SELECTED = re.compile(r"^\s+(?:│\s*)?❯\s+\S")  # noqa: RUF001
# Older screens: the approval box without a footer line.
_QUESTION = re.compile(r"Do you want to|Would you like to")
_CHOICE = re.compile(r"^\s*(?:│\s*)?❯\s*\d+\.")  # noqa: RUF001
_INTERRUPT = re.compile(r"esc to interrupt", re.IGNORECASE)
# The status line above the input area: spinner glyph, then a word ending in "…" while working.
_SPINNER = re.compile(r"^\s*[·✢✳✶✻✽*+]\s*[A-Z][\w-]*…")
# Retrying a failed request: "✻ 429 rate_limit_error · retrying in 8s · attempt 5/10".
_RETRYING = re.compile(r"retrying in (?P<when>\d+\s*[smh]?)\S*\s*·\s*attempt\s+\d+/\d+", re.IGNORECASE)
# A retry is the provider limiting us only when its line says so ("429 … rate_limit_error", "529 …
# overloaded_error"). Claude Code 2.1.332 draws the same bare "API error · retrying in 2s · attempt 1/10"
# for the first two retries of a 429, a 529 and a 5xx alike (captured, docs/architecture.md "Claude Code
# retries"); that line reads Busy (it is working on the request, nobody has to act) until attempt 3 names
# the status, about 3 s later.
_SERVER_ERROR = re.compile(r"\b50[0234]\b|api_error|internal server error", re.IGNORECASE)
_LIMIT_NAMED = re.compile(r"\b429\b|\b529\b|rate.?limit|overloaded", re.IGNORECASE)
# "Claude usage limit reached. Your limit will reset at 3pm", "5-hour limit reached ∙ resets 3pm"; plain
# mentions of rate limits in the transcript ("add rate limiting") must not match.
_USAGE_LIMIT = re.compile(r"usage limit reached|limit reached\W.*\breset|rate limit reached", re.IGNORECASE)
# The input area: a rule, the prompt line, a rule (new style), or the box (old style).
_RULE = re.compile(r"^\s*─{8,}\s*$")
_BOX = re.compile(r"^\s*[╭╰]─")
_PROMPT = re.compile(r"^\s*(?:│\s*)?[>❯](?:\s|$)")  # noqa: RUF001
_FOOTER = re.compile(r"\? for shortcuts|mode on\b")
_INPUT_AREA_TOP = re.compile(r"^\s*(?:╭─|─{8,}\s*$)")
# Transcript entries start with a marker (user prompt marker, assistant "●"/"⏺ …", tool result "⎿ …",
# status "✻ …"); a line without one continues the entry above it (wrapped text).
_ENTRY_START = re.compile(r"^\s*(?:>|❯|⏺|⎿|●|✻)")  # noqa: RUF001


def read_claude_code_screen(lines: Sequence[str], process: ProcessFacts) -> ScreenReading:
    recent = bottom(lines)
    if not recent:
        return ScreenReading(Activity.UNKNOWN, False, detail="empty screen")
    if _DIALOG_FOOTER.match(recent[-1]):
        return ScreenReading(Activity.WAITING_FOR_INPUT, True, detail="dialog waiting for a choice")
    if found(_SELECTED, recent[-8:]) or (found(_CHOICE, recent) and found(_QUESTION, recent)):
        return ScreenReading(Activity.WAITING_FOR_INPUT, True, detail="approval prompt")
    if picker_without_input(recent):
        return ScreenReading(Activity.WAITING_FOR_INPUT, True, detail="picker waiting for a choice")
    status = status_lines(lines)
    retry = find(_RETRYING, status)
    if retry is not None:
        if _LIMIT_NAMED.search(retry.string):
            return ScreenReading(
                Activity.RATE_LIMITED, True, retry["when"].strip(), detail="retrying after a limit"
            )
        named = "a server error" if _SERVER_ERROR.search(retry.string) else "an API error it has not named"
        return ScreenReading(Activity.BUSY, True, detail=f"retrying after {named}")
    if found(_SPINNER, status) or found(_INTERRUPT, recent):
        return ScreenReading(Activity.BUSY, True, detail="working status line")
    latest = latest_entry(lines)
    if found(_USAGE_LIMIT, [latest]):
        return ScreenReading(Activity.RATE_LIMITED, True, reset_time([latest]), detail="usage limit message")
    if ((found(_RULE, recent) or found(_BOX, recent)) and found(_PROMPT, recent)) or found(_FOOTER, recent):
        return ScreenReading(Activity.IDLE, True, detail="input prompt")
    return ScreenReading(Activity.UNKNOWN, False, detail="no Claude Code screen recognised")


def picker_without_input(recent: Sequence[str]) -> bool:
    """A list with a selection marker and no input area under it: the onboarding theme picker, whose
    choices sit above a long preview ("Choose the text style", the marked "Auto (match terminal)", then
    "Syntax theme: …")."""
    marks = [index for index, line in enumerate(recent) if _SELECTED.match(line)]
    return bool(marks) and not any(_RULE.match(line) for line in recent[marks[-1] :])


def input_area_top(lines: Sequence[str]) -> int:
    """Index of the input area's top line (its upper rule or box corner), or len(lines) if none is seen."""
    rules = [index for index, line in enumerate(lines) if _INPUT_AREA_TOP.match(line)]
    if len(rules) >= 2 and not _BOX.match(lines[rules[-1]]):
        return rules[-2]  # new style: the prompt sits between the last two rules
    return rules[-1] if rules else len(lines)


def status_lines(lines: Sequence[str]) -> list[str]:
    """The few lines just above the input area, where the working/retrying status line is drawn."""
    return bottom(lines[: input_area_top(lines)], 4)


def latest_entry(lines: Sequence[str]) -> str:
    """The newest transcript entry above the input area, a wrapped second line joined to it.

    A usage limit message counts while it is this entry: once anything was said after it, it is over.
    """
    latest = bottom(lines[: input_area_top(lines)], 2)
    if len(latest) == 2 and _ENTRY_START.match(latest[1]):
        latest = latest[1:]
    return " ".join(line.strip() for line in latest)


CLAUDE_CODE = DetectorProfile("claude-code", read_claude_code_screen, "Anthropic Claude Code CLI")
