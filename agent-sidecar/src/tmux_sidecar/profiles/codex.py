"""OpenAI Codex CLI, read from screens captured from the real CLI (tests/data/screens/codex/<version>).

Codex draws its composer (a U+203A marker, then "Ask Codex to do anything" or a draft) near the bottom
in almost every state, so the composer alone says little. What decides:
- a dialog's last line ("Press enter to confirm or esc to cancel" under an approval, "enter continue · esc
  back" under the trust question, "enter to submit answer" under a question);
- the working line "• Working (3s • esc to interrupt)", or "• Server is busy, reconnecting 2/20 (…)" when a
  request is retried (a 429 shows "Too Many Requests" under it: rate limited);
- while an answer streams there is no working line at all: the newest transcript entry is the answer
  ("• …") without the "Worked for 40s • 20:31" line that closes every finished turn;
- at startup Codex 0.171 draws its composer and "? for shortcuts" before its session is configured (from
  0.4 s to several seconds under load); a paste then was seen taken without being drawn, surfacing later
  glued to the next message. The session is ready once the footer names the model and the folder
  ("  gpt-5-codex default · ~/project"): until then the screen reads as starting (not ready).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tmux_orchestrator.api.agent import Activity
from tmux_sidecar.classification import DetectorProfile, ProcessFacts, ScreenReading

from ._screen import bottom, found, reset_time

_DIALOG_FOOTER = re.compile(
    r"press enter to confirm|enter continue\b|enter to submit|esc back\b|press enter to continue",
    re.IGNORECASE,
)
_SIGN_IN = re.compile(r"Sign in with ChatGPT|Provide your own API key|Welcome to Codex", re.IGNORECASE)
_APPROVAL = re.compile(r"Would you like to (?:run|make|apply)|Allow command\?", re.IGNORECASE)
_CHOICE = re.compile(r"^\s*[›❯>]\s*\d+\.")  # noqa: RUF001
_RECONNECTING = re.compile(r"reconnecting\W*\d+/\d+", re.IGNORECASE)
_LIMIT_ERROR = re.compile(r"\b429\b|too many requests|rate.?limit|usage limit", re.IGNORECASE)
_INTERRUPT = re.compile(r"esc to interrupt|tab to queue message", re.IGNORECASE)
_USAGE_LIMIT = re.compile(r"hit your usage limit|usage limit reached", re.IGNORECASE)
_COMPOSER = re.compile(r"^\s*[›▌](?:\s|$)")  # noqa: RUF001
_FOOTER = re.compile(r"\? for shortcuts|context left|⏎ send", re.IGNORECASE)
# The footer line of a configured session: model (and reasoning effort), then the folder.
_MODEL_FOOTER = re.compile(r"^\s+\S+(?:\s+\S+)?\s+·\s+[~/]")
# Older Codex footers ("⏎ send   ⌃J newline   100% context left") had no model line; they are ready as drawn.
_OLD_FOOTER = re.compile(r"context left|⏎ send", re.IGNORECASE)
# Transcript entries: user (composer marker), answer or tool "• …", error "■ …", notice "✔ …"; a finished
# turn ends with "Worked for …".
_ENTRY = re.compile(r"^\s*(?:[•■✔⚠]|›)\s")  # noqa: RUF001
_ANSWER = re.compile(r"^\s*•\s")
_TURN_DONE = re.compile(r"^\s*(?:─\s*)?Worked for\b")


def read_codex_screen(lines: Sequence[str], process: ProcessFacts) -> ScreenReading:
    recent = bottom(lines)
    if not recent:
        return ScreenReading(Activity.UNKNOWN, False, detail="empty screen")
    if _DIALOG_FOOTER.search(recent[-1]) or found(_SIGN_IN, recent):
        return ScreenReading(Activity.WAITING_FOR_INPUT, True, detail="dialog waiting for a choice")
    if found(_APPROVAL, recent) and found(_CHOICE, recent):
        return ScreenReading(Activity.WAITING_FOR_INPUT, True, detail="approval prompt")
    above = transcript(lines)
    tail = bottom(above, 4)
    if found(_RECONNECTING, tail):
        if found(_LIMIT_ERROR, tail):
            return ScreenReading(Activity.RATE_LIMITED, True, detail="retrying after a limit")
        return ScreenReading(Activity.BUSY, True, detail="retrying after a server error")
    if found(_INTERRUPT, recent):
        return ScreenReading(Activity.BUSY, True, detail="working status line")
    if found(_USAGE_LIMIT, tail[-2:]):
        return ScreenReading(Activity.RATE_LIMITED, True, reset_time(tail[-2:]), detail="usage limit message")
    if answer_streaming(above):
        return ScreenReading(Activity.BUSY, True, detail="answer streaming")
    if found(_COMPOSER, recent) or found(_FOOTER, recent):
        if not found(_MODEL_FOOTER, recent) and not found(_OLD_FOOTER, recent):
            return ScreenReading(Activity.UNKNOWN, False, detail="starting: no model · folder footer yet")
        return ScreenReading(Activity.IDLE, True, detail="composer prompt")
    return ScreenReading(Activity.UNKNOWN, False, detail="no Codex screen recognised")


def transcript(lines: Sequence[str]) -> list[str]:
    """The lines above the composer (the last composer-marker line near the bottom)."""
    window = len(lines) - len(bottom(lines, 6))
    for index in range(len(lines) - 1, -1, -1):
        if index < window - 6:
            break
        if _COMPOSER.match(lines[index]):
            return list(lines[:index])
    return list(lines)


def answer_streaming(above: Sequence[str]) -> bool:
    """The newest entry is an answer and no "Worked for" line closed the turn after it."""
    for line in reversed(above):
        if _TURN_DONE.match(line):
            return False
        if _ENTRY.match(line):
            return bool(_ANSWER.match(line))
    return False


CODEX = DetectorProfile("codex", read_codex_screen, "OpenAI Codex CLI")
