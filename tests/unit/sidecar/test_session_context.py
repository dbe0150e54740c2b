"""What an agent is told again after compaction, /clear or a resume (pure; sources as Claude Code 2.1.332
reported them in tests/data/hooks/claude-code-2.1.332-compact-clear.txt)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tmux_sidecar.localapi.roster import TeamAgent
from tmux_sidecar.session_context import session_context, wants_context

CAPTURED = Path(__file__).parents[2] / "data" / "hooks" / "claude-code-2.1.332-compact-clear.txt"
LEAD = TeamAgent("recall-lead-0", "recall", "lead", 0, "pm", phase="Running", activity="Idle")
DEV = TeamAgent("recall-dev-1", "recall", "dev", 1, "developer", phase="Pending")


def test_the_captured_compact_and_clear_ask_for_context_and_the_startup_does_not() -> None:
    starts = []
    for line in CAPTURED.read_text().splitlines():
        event, payload = line.split(" ", 1)
        fields: dict[str, Any] = json.loads(payload)
        starts.append((event, fields.get("source"), wants_context(event, fields)))
    assert [s for s in starts if s[0] == "SessionStart"] == [
        ("SessionStart", "startup", False),
        ("SessionStart", "compact", True),
        ("SessionStart", "clear", True),
    ]
    assert not any(wanted for event, _, wanted in starts if event != "SessionStart")


@pytest.mark.parametrize(
    ("event", "payload", "wanted"),
    [
        ("SessionStart", {"source": "resume"}, True),
        ("SessionStart", {}, False),
        ("PostCompact", {"trigger": "manual"}, False),
    ],
)
def test_only_a_session_start_without_memory_wants_context(
    event: str, payload: dict[str, Any], wanted: bool
) -> None:
    assert wants_context(event, payload) is wanted


def test_the_context_names_the_agent_its_briefing_and_its_team() -> None:
    text = session_context("compact", LEAD, "  Lead the team.\n", [DEV, LEAD])
    assert text == "\n".join(
        [
            "[tmux-orchestrator] Your session was restarted (compact) and your earlier context may be gone.",
            "You are lead-0 (lead, pm) in team recall.",
            "",
            "Your briefing:",
            "Lead the team.",
            "",
            "Team roster (2 agents: name: role, phase, activity):",
            "- dev-1: developer, Pending",
            "- lead-0 (you): pm, Running, Idle",
        ]
    )


def test_without_a_roster_or_briefing_it_says_so() -> None:
    text = session_context("clear", LEAD, None, None)
    assert "Your briefing:\n(no briefing given)\n" in text
    assert text.endswith("Team roster: not available right now; `tmux-orchestrator team status` shows it.")
