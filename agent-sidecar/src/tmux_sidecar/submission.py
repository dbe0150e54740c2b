"""Did the agent take the message? Pure judgements over screens, for typing by bracketed paste.

A message counts as Delivered only on evidence that the agent took it: the input area no longer holds the
text, and the agent went Busy (`Busy`) or the text entered the transcript (`Transcript`). A changed screen is
not evidence: Codex turns an Enter that follows fast typing into a new line, the screen changes, and nothing
was sent. What "holds the text" means is read from the draft the paste left in the input area: the end of
the text (wrapping and indentation removed) or a collapsed-paste placeholder (`[Pasted text #1 +29 lines]`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tmux_orchestrator.api import Activity, DeliveryConfirmation

from .classification import Classification
from .input_area import compact, locate_input, transcript_text

# The bracketed-paste markers; the end marker inside a message would end the paste early and type the rest.
PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"
_MARK_CHARS = 24
_MIN_HEAD_CHARS = 4
# Claude Code: "[Pasted text #1 +29 lines]"; Codex: "[Pasted Content 1500 chars]" (matched compacted).
_PASTE_PLACEHOLDER = re.compile(r"\[Pasted(?:text|Content)[^\]]*\]", re.IGNORECASE)
_PLACEHOLDER_MARK = "[Pasted"
# Characters a transcript may render away (Markdown: Claude Code shows `id` as id, **x** as x), left out
# of the transcript comparison on both sides.
_RENDERED_AWAY = str.maketrans("", "", "`*_~#>")


class SubmissionState(StrEnum):
    TAKEN = "Taken"  # evidence that the agent took the text
    IN_INPUT = "InInput"  # the text still waits in the input area: not submitted
    UNCLEAR = "Unclear"  # neither (yet): the agent may still be reacting


class DeliveryFailure(StrEnum):
    """Why a typed message ended Failed (the text is never typed a second time)."""

    NOT_SHOWN = "typed but never shown in the input area"
    NOT_SUBMITTED = "typed but not submitted"
    NOT_CONFIRMED = "submitted but the agent showed no sign of taking it"
    UNSAFE_TEXT = "text contains the bracketed-paste end sequence ESC [201~"


@dataclass(frozen=True)
class SubmissionVerdict:
    state: SubmissionState
    confirmation: DeliveryConfirmation | None = None
    detail: str = ""


def unsafe_text(text: str) -> DeliveryFailure | None:
    """Why `text` cannot be pasted as it is (None if it can)."""
    return DeliveryFailure.UNSAFE_TEXT if PASTE_END in text else None


def draft_marks(text: str) -> tuple[str, ...]:
    """Pieces of `text` that an input area holding it shows (compacted, see `input_area.compact`).

    The end of the text, over line breaks and of its last line alone (a CLI may prefix continuation lines),
    taken after the last control character (those are drawn differently by every CLI); plus the start of a
    collapsed-paste placeholder.
    """
    run = _after_last_control(text)
    last_line = run.rstrip("\n").rsplit("\n", 1)[-1]
    marks = [compact(run)[-_MARK_CHARS:], compact(last_line)[-_MARK_CHARS:], _PLACEHOLDER_MARK]
    return tuple(dict.fromkeys(mark for mark in marks if mark))


def transcript_mark(text: str) -> str | None:
    """The start of the text as a transcript shows it (first line, up to a control character or `\\`,
    without the characters Markdown rendering takes away)."""
    first_line = text.lstrip().split("\n", 1)[0]
    head = []
    for char in first_line:
        if not char.isprintable() or char == "\\":
            break
        head.append(char)
    mark = compact("".join(head)).translate(_RENDERED_AWAY)[:_MARK_CHARS]
    return mark if len(mark) >= _MIN_HEAD_CHARS else None


def visible_marks(lines: Sequence[str], text: str, profile: str = "") -> tuple[str, ...]:
    """The marks of `text` that the input area of this screen shows (empty: the draft is not visible)."""
    area = locate_input(lines, profile)
    if area is None:
        return ()
    shown = area.compact_text
    placeholder_shown = _PASTE_PLACEHOLDER.search(shown) is not None
    return tuple(
        mark
        for mark in draft_marks(text)
        if (placeholder_shown if mark == _PLACEHOLDER_MARK else mark in shown)
    )


def judge_submission(
    before: Sequence[str],
    after: Sequence[str],
    classification: Classification,
    text: str,
    profile: str = "",
) -> SubmissionVerdict:
    """Whether the agent took `text`, from the screen just before Enter and one after it.

    `classification` is the profile's reading of `after`. The input area "holds" the text while it still shows
    a mark of the draft that `before` showed; with no recognisable draft before Enter only the transcript and
    Busy can tell.
    """
    if classification.crash is not None:
        return SubmissionVerdict(SubmissionState.UNCLEAR, detail="the agent process ended")
    drafted = visible_marks(before, text, profile)
    still = [mark for mark in visible_marks(after, text, profile) if mark in drafted]
    if still:
        if classification.activity is Activity.BUSY:
            # Busy with the text still in the input: a queued message, or an input area misread.
            return SubmissionVerdict(SubmissionState.UNCLEAR, detail="busy, text still in the input area")
        return SubmissionVerdict(SubmissionState.IN_INPUT, detail=f"input area still shows {still[0]!r}")
    if classification.activity is Activity.BUSY:
        return SubmissionVerdict(
            SubmissionState.TAKEN, DeliveryConfirmation.BUSY, "input area cleared and the agent went Busy"
        )
    head = transcript_mark(text)
    if head is not None and _count(after, head, profile) > _count(before, head, profile):
        return SubmissionVerdict(
            SubmissionState.TAKEN,
            DeliveryConfirmation.TRANSCRIPT,
            f"input area cleared and {head!r} entered the transcript",
        )
    return SubmissionVerdict(SubmissionState.UNCLEAR, detail="input area cleared, no sign of the agent yet")


def settled(screens: Sequence[tuple[float, Sequence[str]]], quiet: float) -> bool:
    """Whether the newest screen of `(time, lines)` samples has been the same for at least `quiet` seconds."""
    if not screens:
        return False
    newest_time, newest = screens[-1]
    since = newest_time
    for moment, lines in reversed(screens):
        if list(lines) != list(newest):
            break
        since = moment
    return newest_time - since >= quiet


def _count(lines: Sequence[str], head: str, profile: str) -> int:
    return transcript_text(lines, locate_input(lines, profile)).translate(_RENDERED_AWAY).count(head)


def _after_last_control(text: str) -> str:
    for index in range(len(text) - 1, -1, -1):
        if text[index] != "\n" and not text[index].isprintable():
            return text[index + 1 :]
    return text
