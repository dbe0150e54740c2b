"""The one AgentCreated event of a pass names every agent it created, grouped by node and revision, and
stays within the length an Event message may have (the agents it cannot name are counted)."""

from __future__ import annotations

import pytest

from tmux_orchestrator.controller.apply import CreatedAgent, created_note


@pytest.mark.parametrize(
    ("created", "limit", "note"),
    [
        pytest.param(
            [CreatedAgent("web-pm-0", "a", "r1")],
            1024,
            "created 1 agent(s): web-pm-0 (node a, revision r1)",
            id="one",
        ),
        pytest.param(
            [
                CreatedAgent("web-pm-0", "a", "r1"),
                CreatedAgent("web-dev-0", "a", "r1"),
                CreatedAgent("web-dev-1", None, "r1"),
            ],
            1024,
            "created 3 agent(s): web-pm-0, web-dev-0 (node a, revision r1); "
            "web-dev-1 (no node yet, revision r1)",
            id="grouped-by-node",
        ),
        pytest.param(
            [CreatedAgent(f"web-dev-{i}", "a", "r1") for i in range(5)],
            64,
            "created 5 agent(s): web-dev-0 (node a, revision r1); and 4 more",
            id="too-long-counted",
        ),
        pytest.param(
            [CreatedAgent(f"web-dev-{i}", "a", "r1") for i in range(5)],
            10,
            "created 5 agent(s)",
            id="no-room-for-names",
        ),
    ],
)
def test_created_note(created: list[CreatedAgent], limit: int, note: str) -> None:
    assert created_note(created, limit) == note
    assert len(note) <= max(limit, len("created 5 agent(s)"))


def test_a_hundred_agents_fit_an_event_message() -> None:
    created = [CreatedAgent(f"team-{i:03d}-dev-{i}", "node-1", "02e87232c1") for i in range(100)]
    note = created_note(created)
    named = note.split(": ", 1)[1].split(" (node")[0].split(", ")
    assert len(note) <= 1024 and note.endswith(f"; and {100 - len(named)} more")
    assert named == [agent.name for agent in created[: len(named)]]
