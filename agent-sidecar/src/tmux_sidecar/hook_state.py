"""What an agent CLI's hooks say about its activity, and whether that or the screen decides (pure).

Hook events are named as Claude Code names them (its settings `hooks` keys). A hook reports the moment
something happens; the screen is read every pass. Fresh hook state wins; when no hook spoke for
`HOOK_FRESH_FOR` (or the CLI has none) the screen decides, so a lost hook never pins a stale state.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from tmux_orchestrator.api import Activity, ActivitySource

HOOK_FRESH_FOR: Final = datetime.timedelta(seconds=60)
MAX_ASSISTANT_MESSAGE_CHARS: Final = 2000

# The events the node agent asks Claude Code to report (settings `hooks` keys). Claude Code 2.1.332 fires
# PermissionRequest as its approval dialog opens (Notification permission_prompt follows seconds later) and
# StopFailure (error "rate_limit") once it gives up retrying a 429 (captured in tests/data/hooks).
HOOK_EVENTS: Final = (
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PermissionRequest",
    "Stop",
    "StopFailure",
    "Notification",
    "SessionStart",
    "SessionEnd",
)

# Claude Code 2.1.332 reports a collapsed paste wrapped in its own tags (captured from its UserPromptSubmit):
# "\n\n<pasted_content id="f6d4">\n<the text>\n</pasted_content id="f6d4">\n".
_PASTED = re.compile(
    r'\A\s*<pasted_content id="[^"]*">\n(?P<text>.*)\n</pasted_content id="[^"]*">\s*\Z', re.DOTALL
)

_BUSY_EVENTS: Final = frozenset({"UserPromptSubmit", "PreToolUse", "PostToolUse"})
# Inside a turn (hook: Busy) the screen sees what no hook reports at the time: the CLI retrying a rate
# limit (StopFailure comes only when it gives up) or a dialog with no hook of its own.
_SCREEN_REFINES_BUSY: Final = frozenset({Activity.RATE_LIMITED, Activity.WAITING_FOR_INPUT})


@dataclass(frozen=True)
class HookState:
    """The last activity a hook told us, when, and the agent's last answer (from Stop)."""

    activity: Activity | None
    at: datetime.datetime
    last_assistant_message: str | None = None


def event_activity(event: str, payload: Mapping[str, Any]) -> Activity | None:
    """The activity an event means; None when it says nothing about activity (SessionStart, …)."""
    if event in _BUSY_EVENTS:
        return Activity.BUSY
    if event == "Stop":
        return Activity.IDLE
    if event == "PermissionRequest":
        return Activity.WAITING_FOR_INPUT
    if event == "Notification":
        kind = payload.get("notification_type")
        if kind == "permission_prompt":
            return Activity.WAITING_FOR_INPUT
        if kind == "idle_prompt":
            return Activity.IDLE
        return None
    if event == "StopFailure":
        error = payload.get("error") or payload.get("reason")
        return Activity.RATE_LIMITED if error == "rate_limit" else Activity.IDLE
    return None


def trimmed_message(text: object) -> str | None:
    """The answer without surrounding blank space, cut to MAX_ASSISTANT_MESSAGE_CHARS (ending in …)."""
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.strip()
    if len(text) <= MAX_ASSISTANT_MESSAGE_CHARS:
        return text
    return text[: MAX_ASSISTANT_MESSAGE_CHARS - 1].rstrip() + "…"


def next_hook_state(
    previous: HookState | None, event: str, payload: Mapping[str, Any], now: datetime.datetime
) -> HookState | None:
    """The state after `event`; an event without meaning for activity keeps the previous one as it was.
    SessionEnd forgets it (the process is about to exit: the screen and the exit tell what follows), except
    after /clear (reason "clear"), where the same process starts a new session."""
    if event == "SessionEnd" and payload.get("reason") != "clear":
        return None
    activity = event_activity(event, payload)
    message = trimmed_message(payload.get("last_assistant_message")) if event == "Stop" else None
    if activity is None:
        return previous
    kept = previous.last_assistant_message if previous is not None else None
    return HookState(activity, now, message or kept)


def chosen_activity(
    hook: HookState | None, screen: Activity, now: datetime.datetime
) -> tuple[Activity, ActivitySource]:
    """Fresh hook state wins, except that a Busy turn may be read more exactly from the screen (retrying, a
    dialog); a stale or missing hook state leaves it to the screen."""
    if hook is None or hook.activity is None or now - hook.at > HOOK_FRESH_FOR:
        return screen, ActivitySource.SCREEN
    if hook.activity is Activity.BUSY and screen in _SCREEN_REFINES_BUSY:
        return screen, ActivitySource.SCREEN
    return hook.activity, ActivitySource.HOOK


def prompt_reported(prompts: Sequence[tuple[float, str]], text: str, since: float) -> bool:
    """Whether a UserPromptSubmit at or after `since` carried `text` (surrounding blank space aside: the
    CLI may trim what it submits); `prompts` are (time, prompt) pairs as the hooks reported them."""
    wanted = text.strip()
    return any(at >= since and _as_typed(prompt).strip() == wanted for at, prompt in prompts)


def _as_typed(prompt: str) -> str:
    """The prompt as it was typed: a collapsed paste's tags taken off."""
    match = _PASTED.match(prompt)
    return match["text"] if match else prompt
