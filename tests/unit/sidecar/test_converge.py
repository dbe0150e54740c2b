"""plan_windows: which tmux actions turn the observed windows into the node's desired Agents."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tmux_orchestrator.api import AgentTemplate, DesiredState
from tmux_sidecar.classification import ProcessFacts
from tmux_sidecar.converge import (
    ActionKind,
    ActionReason,
    DesiredAgent,
    TmuxAction,
    plan_windows,
)
from tmux_sidecar.pane import PaneInfo

AGENT = DesiredAgent(
    uid="u1",
    namespace="ns",
    name="demo-dev-0",
    session="demo",
    window="dev-0",
    revision="r1",
    template=AgentTemplate(command=["claude"]),
)
WINDOW = PaneInfo(
    pane_id="%1", window_id="@1", session_name="demo", window_name="dev-0", agent_uid="u1", revision="r1"
)
DEAD = ProcessFacts(dead=True)


def kinds(actions: list[TmuxAction]) -> list[tuple[str, str, str | None]]:
    return [(a.kind.value, a.reason.value, a.window.window_id if a.window else None) for a in actions]


CASES = [
    ("converged-is-a-no-op", [AGENT], [WINDOW], {}, []),
    ("missing-window-is-created", [AGENT], [], {}, [("Create", "Missing", None)]),
    ("deleted-agent-window-closed", [], [WINDOW], {}, [("Kill", "AgentDeleted", "@1")]),
    (
        "stopped-agent-window-closed",
        [replace(AGENT, desired_state=DesiredState.STOPPED)],
        [WINDOW],
        {},
        [("Kill", "AgentStopped", "@1")],
    ),
    (
        "stopped-agent-without-window-stays-down",
        [replace(AGENT, desired_state=DesiredState.STOPPED)],
        [],
        {},
        [],
    ),
    (
        "revision-change-respawns",
        [replace(AGENT, revision="r2")],
        [WINDOW],
        {},
        [("Respawn", "RevisionChanged", "@1")],
    ),
    (
        "restart-request-respawns",
        [replace(AGENT, restarted_at="2026-11-24T10:00:00Z")],
        [WINDOW],
        {},
        [("Respawn", "RestartRequested", "@1")],
    ),
    ("dead-pane-waits-for-backoff", [AGENT], [replace(WINDOW, process=DEAD)], {}, []),
    (
        "dead-pane-respawned-when-due",
        [AGENT],
        [replace(WINDOW, process=DEAD)],
        {"u1": True},
        [("Respawn", "RestartDue", "@1")],
    ),
    (
        "duplicate-windows-keep-the-oldest",
        [AGENT],
        [replace(WINDOW, window_id="@7", pane_id="%7"), WINDOW],
        {},
        [("Kill", "Duplicate", "@7")],
    ),
    (
        "untagged-windows-are-never-touched",
        [],
        [replace(WINDOW, agent_uid=None, window_id="@3")],
        {},
        [],
    ),
    (
        "untagged-window-of-the-agent-is-adopted-not-duplicated",
        [AGENT],
        [replace(WINDOW, agent_uid=None, revision=None)],
        {},
        [("Adopt", "Untagged", "@1")],
    ),
    (
        "untagged-window-elsewhere-does-not-count",
        [AGENT],
        [replace(WINDOW, agent_uid=None, session_name="other")],
        {},
        [("Create", "Missing", None)],
    ),
    (
        "renamed-window-is-adopted-by-uid",
        [AGENT],
        [replace(WINDOW, window_name="something-else")],
        {},
        [],
    ),
]


@pytest.mark.parametrize(
    ("desired", "observed", "due", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_plan_windows(
    desired: list[DesiredAgent],
    observed: list[PaneInfo],
    due: dict[str, bool],
    expected: list[tuple[str, str, str | None]],
) -> None:
    assert kinds(plan_windows(desired, observed, due)) == expected


def test_actions_carry_the_agent_to_start() -> None:
    (action,) = plan_windows([AGENT], [])
    assert action.kind is ActionKind.CREATE and action.reason is ActionReason.MISSING
    assert action.agent == AGENT
