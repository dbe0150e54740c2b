"""What the node agent's status writer sends: only what differs from what the server has (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from tmux_orchestrator.core.patch import status_write

RUNNING = {"phase": "Running", "pid": 10, "restartCount": 0, "lastExitCode": None}


@pytest.mark.parametrize(
    ("reported", "wanted", "whole", "expected"),
    [
        # The whole Agent status: fields that no longer apply are removed.
        ({"phase": "Running", "pid": 10}, {"phase": "Running", "pid": 10}, True, None),
        ({"phase": "Running", "pid": 10}, {"phase": "Crashed"}, True, {"phase": "Crashed", "pid": None}),
        (None, {"phase": "Pending"}, True, {"phase": "Pending"}),  # never written: all of it
        ({"c": {"x": 1, "y": 2}}, {"c": {"x": 1, "y": 3}}, True, {"c": {"y": 3}}),  # nested: only the change
        # Part of a status (a message's outcome, a node's agent count): other fields are not ours.
        (
            {"phase": "Pending", "attempts": 0, "other": 1},
            {"phase": "Delivered", "attempts": 1},
            False,
            {"phase": "Delivered", "attempts": 1},
        ),
        ({"agents": 3, "conditions": []}, {"agents": 3}, False, None),
        (None, {"agents": 0}, False, {"agents": 0}),
        # None in a partial status removes a field we set before, and costs nothing when it is not there.
        (
            {"phase": "Pending", "reason": "tmux failed"},
            {"phase": "Failed", "reason": None},
            False,
            {"phase": "Failed", "reason": None},
        ),
        ({"phase": "Pending"}, {"phase": "Pending", "reason": None}, False, None),
    ],
)
def test_status_write(
    reported: dict[str, Any] | None, wanted: dict[str, Any], whole: bool, expected: dict[str, Any] | None
) -> None:
    assert status_write(reported, wanted, whole=whole) == expected


def test_a_status_that_went_back_to_what_the_server_has_needs_no_write() -> None:
    """Coalescing: Running → Crashed → Running again before anything was written sends nothing."""
    assert status_write(RUNNING, {**RUNNING, "phase": "Crashed"}, whole=True) is not None
    assert status_write(RUNNING, dict(RUNNING), whole=True) is None
