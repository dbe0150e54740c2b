"""Hook events → activity, and when fresh hook state beats the screen (pure; payloads as Claude Code
2.1.332 sent them to a hook, captured against the fake model in tests/data/hooks)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from tmux_orchestrator.api import Activity, ActivitySource
from tmux_sidecar.hook_state import (
    HOOK_FRESH_FOR,
    MAX_ASSISTANT_MESSAGE_CHARS,
    HookState,
    chosen_activity,
    event_activity,
    next_hook_state,
    prompt_reported,
    trimmed_message,
)

T0 = datetime.datetime(2026, 11, 29, 22, 0, tzinfo=datetime.UTC)
HOOKS = Path(__file__).parents[2] / "data" / "hooks"
CAPTURED = HOOKS / "claude-code-2.1.332.txt"


def captured_run(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """The events one captured run of the CLI sent to its hooks, in order."""
    events = []
    for line in path.read_text().splitlines():
        event, payload = line.split(" ", 1)
        events.append((event, json.loads(payload)))
    return events


def captured() -> dict[str, dict[str, Any]]:
    return dict(captured_run(CAPTURED))


def activities(path: Path) -> list[tuple[str, Activity | None]]:
    """Each captured event with the activity the hook state holds after it."""
    state: HookState | None = None
    seen = []
    for event, payload in captured_run(path):
        state = next_hook_state(state, event, payload, T0)
        seen.append((event, state.activity if state else None))
    return seen


@pytest.mark.parametrize(
    ("event", "payload", "activity"),
    [
        ("UserPromptSubmit", {"prompt": "say hello"}, Activity.BUSY),
        ("PreToolUse", {"tool_name": "Bash"}, Activity.BUSY),
        ("PostToolUse", {"tool_name": "Bash"}, Activity.BUSY),
        ("Stop", {"last_assistant_message": "done"}, Activity.IDLE),
        ("Notification", {"notification_type": "permission_prompt"}, Activity.WAITING_FOR_INPUT),
        ("PermissionRequest", {"tool_name": "Bash"}, Activity.WAITING_FOR_INPUT),
        ("Notification", {"notification_type": "idle_prompt"}, Activity.IDLE),
        ("Notification", {"notification_type": "auth_success"}, None),
        ("StopFailure", {"error": "rate_limit"}, Activity.RATE_LIMITED),
        ("StopFailure", {"error": "server_error"}, Activity.IDLE),
        ("SessionStart", {"source": "startup"}, None),
        ("SessionEnd", {"reason": "prompt_input_exit"}, None),
        ("SomethingNew", {}, None),
    ],
)
def test_event_means_activity(event: str, payload: dict[str, Any], activity: Activity | None) -> None:
    assert event_activity(event, payload) is activity


def test_the_captured_claude_code_turn_is_busy_then_idle_with_its_answer() -> None:
    events = captured()
    assert set(events) == {"SessionStart", "UserPromptSubmit", "Stop", "SessionEnd"}
    state = next_hook_state(None, "SessionStart", events["SessionStart"], T0)
    assert state is None  # a start says nothing about activity: the screen decides
    state = next_hook_state(state, "UserPromptSubmit", events["UserPromptSubmit"], T0)
    assert state == HookState(Activity.BUSY, T0)
    later = T0 + datetime.timedelta(seconds=2)
    state = next_hook_state(state, "Stop", events["Stop"], later)
    assert state == HookState(Activity.IDLE, later, "All done here.")
    # The next prompt keeps the last answer until the next Stop brings a new one.
    state = next_hook_state(state, "UserPromptSubmit", {"prompt": "more"}, later)
    assert state is not None and state.activity is Activity.BUSY
    assert state.last_assistant_message == "All done here."
    assert events["SessionEnd"]["reason"] == "prompt_input_exit"  # /exit: the process ends
    assert next_hook_state(state, "SessionEnd", events["SessionEnd"], later) is None
    assert next_hook_state(state, "SessionEnd", {"reason": "clear"}, later) is state  # /clear: it goes on


def test_a_captured_approval_is_waiting_for_input_until_the_tool_runs() -> None:
    # Claude Code 2.1.332 asked to approve `touch approved.txt`, then approved by Enter.
    assert activities(HOOKS / "claude-code-2.1.332-permission.txt") == [
        ("SessionStart", None),
        ("UserPromptSubmit", Activity.BUSY),
        ("PreToolUse", Activity.BUSY),
        ("PermissionRequest", Activity.WAITING_FOR_INPUT),
        ("Notification", Activity.WAITING_FOR_INPUT),  # permission_prompt, seconds after the dialog opened
        ("PostToolUse", Activity.BUSY),
        ("Stop", Activity.IDLE),
        ("SessionEnd", None),  # the tmux server went away: the process ends, its hook state with it
    ]


def test_a_captured_rate_limit_is_rate_limited_when_the_cli_gives_up() -> None:
    # Claude Code 2.1.332 with CLAUDE_CODE_MAX_RETRIES=2 against a model answering 429 every time.
    assert activities(HOOKS / "claude-code-2.1.332-rate-limit.txt") == [
        ("SessionStart", None),
        ("UserPromptSubmit", Activity.BUSY),
        ("StopFailure", Activity.RATE_LIMITED),
        ("SessionEnd", None),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  answer\n\n", "answer"),
        ("", None),
        ("  \n", None),
        (None, None),
        (42, None),
        ("x" * MAX_ASSISTANT_MESSAGE_CHARS, "x" * MAX_ASSISTANT_MESSAGE_CHARS),
        ("x" * (MAX_ASSISTANT_MESSAGE_CHARS + 5), "x" * (MAX_ASSISTANT_MESSAGE_CHARS - 1) + "…"),
    ],
)
def test_last_assistant_message_is_trimmed(text: object, expected: str | None) -> None:
    assert trimmed_message(text) == expected


@pytest.mark.parametrize(
    ("hook", "screen", "age", "expected"),
    [
        (None, Activity.BUSY, 0, (Activity.BUSY, ActivitySource.SCREEN)),
        (Activity.IDLE, Activity.BUSY, 0, (Activity.IDLE, ActivitySource.HOOK)),
        (Activity.BUSY, Activity.IDLE, 30, (Activity.BUSY, ActivitySource.HOOK)),
        (Activity.BUSY, Activity.IDLE, HOOK_FRESH_FOR.total_seconds(), (Activity.BUSY, ActivitySource.HOOK)),
        (
            Activity.BUSY,
            Activity.IDLE,
            HOOK_FRESH_FOR.total_seconds() + 1,
            (Activity.IDLE, ActivitySource.SCREEN),
        ),
        (
            Activity.WAITING_FOR_INPUT,
            Activity.UNKNOWN,
            1,
            (Activity.WAITING_FOR_INPUT, ActivitySource.HOOK),
        ),
        # Inside a turn the screen sees retries and dialogs before (or without) a hook.
        (Activity.BUSY, Activity.RATE_LIMITED, 5, (Activity.RATE_LIMITED, ActivitySource.SCREEN)),
        (Activity.BUSY, Activity.WAITING_FOR_INPUT, 5, (Activity.WAITING_FOR_INPUT, ActivitySource.SCREEN)),
        (Activity.IDLE, Activity.RATE_LIMITED, 5, (Activity.IDLE, ActivitySource.HOOK)),
        (Activity.RATE_LIMITED, Activity.IDLE, 5, (Activity.RATE_LIMITED, ActivitySource.HOOK)),
    ],
)
def test_fresh_hook_state_wins_and_the_screen_decides_after(
    hook: Activity | None, screen: Activity, age: float, expected: tuple[Activity, ActivitySource]
) -> None:
    state = HookState(hook, T0) if hook is not None else None
    assert chosen_activity(state, screen, T0 + datetime.timedelta(seconds=age)) == expected


@pytest.mark.parametrize(
    ("prompts", "text", "since", "reported"),
    [
        ([(5.0, "say hello")], "say hello", 5.0, True),
        ([(5.0, "say hello\n")], "say hello", 1.0, True),
        ([(4.9, "say hello")], "say hello", 5.0, False),  # before the paste: an earlier, equal message
        ([(6.0, "say hello again")], "say hello", 5.0, False),
        ([(6.0, "line one\nline two")], "line one\nline two", 5.0, True),
        ([], "say hello", 0.0, False),
        # A collapsed paste as Claude Code 2.1.332 reported it: the text inside its tags.
        (
            [
                (
                    6.0,
                    '\n\n<pasted_content id="f6d4">\nPlan for today:\n- one\nthree\n'
                    '</pasted_content id="f6d4">\n',
                )
            ],
            "Plan for today:\n- one\nthree",
            5.0,
            True,
        ),
        (
            [(6.0, '\n\n<pasted_content id="f6d4">\nPlan for today:\n- two\n</pasted_content id="f6d4">\n')],
            "Plan for today:\n- one",
            5.0,
            False,
        ),
    ],
)
def test_a_prompt_hook_confirms_only_the_same_text_after_the_paste(
    prompts: list[tuple[float, str]], text: str, since: float, reported: bool
) -> None:
    assert prompt_reported(prompts, text, since) is reported
