"""Delivered only on evidence: the pure judgement of screens before and after Enter, per input style."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.messages import MESSAGES
from tmux_orchestrator.api import Activity, DeliveryConfirmation
from tmux_sidecar.classification import Classification, CrashEvidence, ExitKind
from tmux_sidecar.input_area import locate_input
from tmux_sidecar.node.typing import screen_classifier
from tmux_sidecar.submission import (
    DeliveryFailure,
    SubmissionState,
    draft_marks,
    judge_submission,
    settled,
    transcript_mark,
    unsafe_text,
    visible_marks,
)

IDLE = Classification(Activity.IDLE, True, None)
BUSY = Classification(Activity.BUSY, True, None)
CRASHED = Classification(Activity.UNKNOWN, False, CrashEvidence(ExitKind.EXITED, 1, None, ()))
RULE = "─" * 60
CLAUDE_PROMPT = "\u276f "  # Claude Code 2.1 draws its input after this marker
TEXT = 'fix the "login" bug in $(pwd) `now` #{x} — ünï'
FIVE_LINES = "first line\nsecond line\nthird line\nfourth line\nfifth and last line"
LONG = " ".join(f"word{i:04d}" for i in range(170))  # ~1,500 characters on one line


def claude(
    draft: list[str], transcript: list[str] | None = None, footer: str = "? for shortcuts"
) -> list[str]:
    """Claude Code 2.1's layout: transcript, a rule, CLAUDE_PROMPT input lines, a rule, the footer."""
    rows = [CLAUDE_PROMPT + draft[0], *("  " + line for line in draft[1:])] if draft else [CLAUDE_PROMPT]
    return [*(transcript or ["✻ Welcome"]), "", RULE, *rows, RULE, "  " + footer]


def codex(draft: list[str], transcript: list[str] | None = None) -> list[str]:
    rows = ["› " + draft[0], *("  " + line for line in draft[1:])] if draft else ["› Ask Codex"]  # noqa: RUF001
    return [*(transcript or [">_ OpenAI Codex"]), "", *rows, "", "  ⏎ send   ⌃J newline   100% context left"]


def boxed(draft: str, transcript: list[str] | None = None) -> list[str]:
    """fake-agent's layout: a `│ > … │` box under the transcript."""
    return [
        *(transcript or ["✻ Welcome to Fake Agent!"]),
        "╭" + "─" * 40 + "╮",
        "│ > " + draft,
        "╰" + "─" * 40 + "╯",
    ]


def wrapped(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)]


@pytest.mark.parametrize(
    ("before", "after", "reading", "text", "profile", "state", "confirmation"),
    [
        pytest.param(
            claude([TEXT]),
            claude([], ["> " + TEXT, "✻ Pondering… (esc to interrupt)"]),
            BUSY,
            TEXT,
            "claude-code",
            SubmissionState.TAKEN,
            DeliveryConfirmation.BUSY,
            id="claude-input-cleared-and-busy",
        ),
        pytest.param(
            claude(["[Pasted text #1 +4 lines]"]),
            claude([], ["> first line", "  second line"]),
            IDLE,
            FIVE_LINES,
            "claude-code",
            SubmissionState.TAKEN,
            DeliveryConfirmation.TRANSCRIPT,
            id="claude-collapsed-paste-entered-transcript",
        ),
        pytest.param(
            claude(["run `make test` and **report**"]),
            claude([], [CLAUDE_PROMPT + "run make test and report", "● OK"]),
            IDLE,
            "run `make test` and **report**",
            "claude-code",
            SubmissionState.TAKEN,
            DeliveryConfirmation.TRANSCRIPT,
            id="claude-transcript-renders-markdown-away",
        ),
        pytest.param(
            claude(["[Pasted text #1 +4 lines]"]),
            claude(["[Pasted text #1 +4 lines]"]),
            IDLE,
            FIVE_LINES,
            "claude-code",
            SubmissionState.IN_INPUT,
            None,
            id="claude-collapsed-paste-still-in-input",
        ),
        pytest.param(
            claude(wrapped(LONG, 50)),
            claude([], footer="esc to interrupt"),
            BUSY,
            LONG,
            "claude-code",
            SubmissionState.TAKEN,
            DeliveryConfirmation.BUSY,
            id="claude-wrapped-long-text",
        ),
        pytest.param(
            codex(FIVE_LINES.split("\n")),
            codex([*FIVE_LINES.split("\n"), ""]),
            IDLE,
            FIVE_LINES,
            "codex",
            SubmissionState.IN_INPUT,
            None,
            id="codex-enter-became-a-new-line",
        ),
        pytest.param(
            codex([TEXT]),
            codex([], ["› " + TEXT, "• Working (0s • esc to interrupt)"]),  # noqa: RUF001
            BUSY,
            TEXT,
            "codex",
            SubmissionState.TAKEN,
            DeliveryConfirmation.BUSY,
            id="codex-composer-cleared-and-busy",
        ),
        pytest.param(
            ["Aider v0.86", "", "> " + TEXT],
            ["Aider v0.86", "", "> " + TEXT, "", "Waiting for the model"],
            BUSY,
            TEXT,
            "aider",
            SubmissionState.TAKEN,
            DeliveryConfirmation.BUSY,
            id="aider-prompt-gone-while-working",
        ),
        pytest.param(
            ["Aider v0.86", "", "> " + TEXT],
            ["Aider v0.86", "", "> " + TEXT],
            IDLE,
            TEXT,
            "aider",
            SubmissionState.IN_INPUT,
            None,
            id="aider-enter-ignored",
        ),
        pytest.param(
            boxed(TEXT),
            boxed("", ["✻ Welcome to Fake Agent!", "> received: " + TEXT]),
            IDLE,
            TEXT,
            "",
            SubmissionState.TAKEN,
            DeliveryConfirmation.TRANSCRIPT,
            id="fake-agent-transcript",
        ),
        pytest.param(
            boxed(TEXT, ["> received: " + TEXT]),
            boxed("", ["> received: " + TEXT, "> received: " + TEXT]),
            IDLE,
            TEXT,
            "",
            SubmissionState.TAKEN,
            DeliveryConfirmation.TRANSCRIPT,
            id="same-text-again-counts-once-more",
        ),
        pytest.param(
            boxed(TEXT, ["> received: " + TEXT]),
            boxed("", ["> received: " + TEXT]),
            IDLE,
            TEXT,
            "",
            SubmissionState.UNCLEAR,
            None,
            id="input-cleared-without-any-sign",
        ),
        pytest.param(
            boxed(TEXT),
            boxed(TEXT),
            BUSY,
            TEXT,
            "",
            SubmissionState.UNCLEAR,
            None,
            id="busy-but-text-still-in-input",
        ),
        pytest.param(
            boxed(TEXT),
            boxed("", ["> received: " + TEXT]),
            CRASHED,
            TEXT,
            "",
            SubmissionState.UNCLEAR,
            None,
            id="agent-died",
        ),
    ],
)
def test_judge_submission(
    before: list[str],
    after: list[str],
    reading: Classification,
    text: str,
    profile: str,
    state: SubmissionState,
    confirmation: DeliveryConfirmation | None,
) -> None:
    verdict = judge_submission(before, after, reading, text, profile)
    assert (verdict.state, verdict.confirmation) == (state, confirmation), verdict.detail


@pytest.mark.parametrize(
    ("lines", "profile", "shown"),
    [
        pytest.param(claude(["hello", "world"]), "claude-code", "helloworld", id="claude-two-lines"),
        pytest.param(claude([]), "claude-code", "", id="claude-empty"),
        pytest.param(boxed("hi there"), "", "hithere", id="box"),
        pytest.param(codex(["do it"]), "codex", "doit", id="codex-footer-under-a-blank-line"),
        pytest.param(
            ["> old question", "╰" + "─" * 20, *(f"answer line {i}" for i in range(10))],
            "",
            None,
            id="prompt-in-transcript",
        ),
        pytest.param(["some output", "> draft"], "aider", "draft", id="aider-prompt-last"),
        pytest.param(["> draft", "output"], "aider", None, id="aider-working"),
        pytest.param([], "", None, id="empty-screen"),
    ],
)
def test_locate_input(lines: list[str], profile: str, shown: str | None) -> None:
    area = locate_input(lines, profile)
    assert (area.compact_text if area else None) == shown


@pytest.mark.parametrize(
    ("text", "marks"),
    [
        pytest.param("hello world", ("helloworld", "[Pasted"), id="one-line"),
        pytest.param("a b\nc d", ("abcd", "cd", "[Pasted"), id="two-lines"),
        pytest.param("red \x1b[1mbold", ("[1mbold", "[Pasted"), id="after-escape"),
        pytest.param("x" * 30, ("x" * 24, "[Pasted"), id="tail-only"),
        pytest.param("ends with tab\t", ("[Pasted",), id="control-at-end"),
    ],
)
def test_draft_marks(text: str, marks: tuple[str, ...]) -> None:
    assert draft_marks(text) == marks


@pytest.mark.parametrize(
    ("text", "mark"),
    [
        pytest.param("  hello there\nmore", "hellothere", id="first-line"),
        pytest.param("quote 'a' \\back", "quote'a'", id="up-to-backslash"),
        pytest.param("ab\ncd", None, id="too-short"),
        pytest.param("y" * 40, "y" * 24, id="head-only"),
        pytest.param("`id` is **it**", "idisit", id="markdown-rendered-away"),
    ],
)
def test_transcript_mark(text: str, mark: str | None) -> None:
    assert transcript_mark(text) == mark


def test_visible_marks_only_from_the_input_area() -> None:
    # The text in the transcript is not a draft in the input area.
    assert visible_marks(boxed("", ["> received: " + TEXT]), TEXT) == ()
    assert visible_marks(boxed(TEXT), TEXT) != ()


@pytest.mark.parametrize(
    ("samples", "quiet", "expected"),
    [
        pytest.param([], 0.2, False, id="nothing"),
        pytest.param([(0.0, ["a"]), (0.1, ["a"]), (0.25, ["a"])], 0.2, True, id="stable"),
        pytest.param([(0.0, ["a"]), (0.1, ["b"]), (0.25, ["b"])], 0.2, False, id="changed-recently"),
        pytest.param([(0.0, ["a"]), (0.1, ["b"]), (0.35, ["b"])], 0.2, True, id="stable-after-change"),
    ],
)
def test_settled(samples: list[tuple[float, list[str]]], quiet: float, expected: bool) -> None:
    assert settled(samples, quiet) is expected


def test_unsafe_text() -> None:
    assert unsafe_text("end the paste \x1b[201~ then type") is DeliveryFailure.UNSAFE_TEXT
    assert unsafe_text("colour \x1b[1m is fine") is None


# Screens captured from the real CLIs (pinned versions, against the fake model server) while the node agent's
# typing delivered the three test messages: the input holding the pasted draft just before Enter, and the
# screen on which delivery was confirmed. Each confirmed delivery was checked against the model's record.
REAL_SCREENS = Path(__file__).resolve().parents[1] / "data" / "delivery"
REAL_CASES = sorted(REAL_SCREENS.glob("*/*/message-*-drafted.txt"))


def real_case(drafted: Path) -> tuple[str, str, list[str], list[str], DeliveryConfirmation]:
    cli = drafted.parent.parent.name
    index = int(drafted.name.split("-")[1])
    taken = drafted.with_name(drafted.name.replace("drafted", "taken"))
    confirmation = drafted.with_name(drafted.name.replace("drafted.txt", "confirmation.txt"))
    return (
        cli,
        MESSAGES[index],
        drafted.read_text().splitlines(),
        taken.read_text().splitlines(),
        DeliveryConfirmation(confirmation.read_text().strip()),
    )


@pytest.mark.parametrize(
    "drafted", REAL_CASES, ids=[f"{p.parent.parent.name}-{p.parent.name}-{p.stem}" for p in REAL_CASES]
)
def test_real_cli_screens(drafted: Path) -> None:
    cli, text, before, after, confirmation = real_case(drafted)
    classify = screen_classifier(cli)
    assert visible_marks(before, text, cli), "the draft (or its collapsed placeholder) is seen in the input"
    taken = judge_submission(before, after, classify(after), text, cli)
    assert (taken.state, taken.confirmation) == (SubmissionState.TAKEN, confirmation), taken.detail
    # An Enter that did nothing is never a delivery. (Still in the input; Unclear where the profile reads a
    # prompt holding a draft as Busy, as the aider profile does with "diff> text".)
    ignored = judge_submission(before, before, classify(before), text, cli)
    assert ignored.state in (SubmissionState.IN_INPUT, SubmissionState.UNCLEAR), ignored.detail


def test_real_screens_cover_every_cli_and_message() -> None:
    assert {(p.parent.parent.name, p.name) for p in REAL_CASES} == {
        (cli, f"message-{index}-drafted.txt")
        for cli in ("claude-code", "codex", "aider")
        for index in range(len(MESSAGES))
    }
