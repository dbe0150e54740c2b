"""A node agent whose Lease lapsed takes its node back from the operator's NodeLost when it renews."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tmux_sidecar.node_conditions import ready_after_renewal

NOW = datetime.datetime(2026, 11, 29, 21, 0, 0, tzinfo=datetime.UTC)
LOST = {"type": "Ready", "status": "Unknown", "reason": "NodeLost", "message": "gone"}
UP = {"type": "Ready", "status": "True", "reason": "TmuxServerUp"}
OTHER = {"type": "DiskPressure", "status": "False"}

# id → (conditions before, whether Ready=True is written)
CASES: dict[str, tuple[list[dict[str, Any]] | None, bool]] = {
    "marked-lost-by-the-operator": ([LOST, OTHER], True),
    "already-ready": ([UP], False),
    "not-registered-yet": (None, False),
    "not-ready-for-another-reason": ([{**LOST, "status": "False", "reason": "TmuxDown"}], False),
}


@pytest.mark.parametrize(("before", "writes"), CASES.values(), ids=list(CASES))
def test_ready_after_renewal(before: list[dict[str, Any]] | None, writes: bool) -> None:
    after = ready_after_renewal(before, NOW)
    assert (after is not None) == writes
    if after is not None:
        assert after[0] == {
            "type": "Ready",
            "status": "True",
            "reason": "LeaseRenewed",
            "message": "the node agent renews its Lease again",
            "lastTransitionTime": "2026-11-29T21:00:00Z",
        }
        assert after[1:] == [OTHER]
