"""Typing by bracketed paste into the fake agent in each real CLI's input behaviour (real tmux, no mocks)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from support.messages import FIVE_LINES, INPUT_MODES, MESSAGES, ONE_LINER
from tmux_orchestrator.api import Activity, DeliveryConfirmation
from tmux_sidecar.classification import Classification, PaneSnapshot
from tmux_sidecar.node.typing import TypingTimings, Typist, type_message
from tmux_sidecar.profiles import CLAUDE_CODE
from tmux_sidecar.submission import DeliveryFailure, SubmissionState, judge_submission
from tmux_sidecar.tmux.control import ControlClient

from .conftest import SESSION, eventually, fake_agent


def classify(lines: Sequence[str]) -> Classification:
    return CLAUDE_CODE.classify(PaneSnapshot(tuple(lines)))


async def start_agent(tmux: ControlClient, log: Path, *flags: str) -> str:
    ref = await tmux.new_window(SESSION, "agent", fake_agent("--log", str(log), *flags))

    async def idle() -> bool:
        return classify(await tmux.capture_pane(ref.pane_id)).activity is Activity.IDLE

    await eventually(idle)
    return ref.pane_id


def received(log: Path) -> list[str]:
    return [json.loads(line)["text"] for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.parametrize("flags", list(INPUT_MODES.values()), ids=list(INPUT_MODES))
async def test_three_messages_arrive_once_intact_and_confirmed(
    tmux: ControlClient, tmp_path: Path, flags: list[str]
) -> None:
    log = tmp_path / "received.jsonl"
    pane = await start_agent(tmux, log, *flags)
    for index, text in enumerate(MESSAGES):
        result = await type_message(
            tmux, pane, text, classify=classify, profile="claude-code", buffer=f"msg-{index}"
        )
        assert result.delivered, result
        expected = (
            DeliveryConfirmation.BUSY if "--busy-on-message" in flags else DeliveryConfirmation.TRANSCRIPT
        )
        assert (result.confirmation, result.enter_presses) == (expected, 1)
        assert received(log) == MESSAGES[: index + 1]  # exactly once, intact, one prompt

        async def idle_again() -> bool:
            return classify(await tmux.capture_pane(pane)).activity is Activity.IDLE

        await eventually(idle_again)
    assert "msg-" not in "".join(await tmux.run("list-buffers", "-F", "#{buffer_name}"))


async def test_text_the_agent_does_not_take_fails_as_not_submitted(
    tmux: ControlClient, tmp_path: Path
) -> None:
    log = tmp_path / "received.jsonl"
    pane = await start_agent(tmux, log, "--ignore-enter")
    timings = TypingTimings(retry_enter_after=0.3)
    result = await type_message(
        tmux, pane, FIVE_LINES, classify=classify, profile="claude-code", buffer="deaf", timings=timings
    )
    assert not result.delivered and result.typed
    assert (result.failure, result.enter_presses) == (DeliveryFailure.NOT_SUBMITTED, timings.max_enters)
    assert received(log) == []
    assert "report back" in "".join(await tmux.capture_pane(pane))  # typed once, still in the input


async def test_unsafe_text_is_refused_before_typing(tmux: ControlClient, tmp_path: Path) -> None:
    log = tmp_path / "received.jsonl"
    pane = await start_agent(tmux, log)
    before = await tmux.capture_pane(pane)
    result = await type_message(
        tmux, pane, "end \x1b[201~ and \r submit", classify=classify, profile="claude-code", buffer="bad"
    )
    assert (result.typed, result.failure) == (False, DeliveryFailure.UNSAFE_TEXT)
    assert await tmux.capture_pane(pane) == before and received(log) == []


async def test_typing_then_enter_during_codex_paste_detection_is_not_delivered(
    tmux: ControlClient, tmp_path: Path
) -> None:
    """The old way (send-keys, Enter as soon as the text shows) meets Codex's paste detection: the Enter
    becomes a new line, the screen changes, nothing is sent; the judgement says the text is still in the
    input, where "the screen changed" said Delivered."""
    log = tmp_path / "received.jsonl"
    pane = await start_agent(tmux, log, "--paste-burst", "1.0")  # a wide window: no race with the test
    await tmux.send_literal(pane, ONE_LINER)

    async def drafted() -> list[str]:
        lines = await tmux.capture_pane(pane)
        return lines if "🙂" in "".join(lines) else []

    before = await eventually(drafted)
    await tmux.send_enter(pane)

    async def changed() -> list[str]:
        lines = await tmux.capture_pane(pane)
        return lines if lines != before else []

    after = await eventually(changed)
    verdict = judge_submission(before, after, classify(after), ONE_LINER, "claude-code")
    assert verdict.state is SubmissionState.IN_INPUT, verdict
    assert received(log) == []


async def test_a_text_is_never_typed_twice(tmux: ControlClient, tmp_path: Path) -> None:
    """Asked again for the same message (its status could not be written), the typist answers with the
    outcome it had instead of typing the text a second time; forgotten once the status is recorded."""
    log = tmp_path / "received.jsonl"
    pane = await start_agent(tmux, log)
    typist = Typist()
    first = await typist.type_and_submit(tmux, pane, ONE_LINER, key="m1", profile="claude-code")
    again = await typist.type_and_submit(tmux, pane, ONE_LINER, key="m1", profile="claude-code")
    assert first is not None and first.delivered and again == first
    assert received(log) == [ONE_LINER]
