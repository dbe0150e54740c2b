"""Which changes to an Agent wake its team at once, and which are batched."""

from __future__ import annotations

from typing import Any

import pytest

from tmux_orchestrator.core.wakeups import STATUS_BATCH_SECONDS, team_wake_delay

AGENT: dict[str, Any] = {
    "metadata": {"name": "t-dev-0", "generation": 1, "labels": {"team": "t"}, "annotations": {}},
    "spec": {"role": "developer", "node": "n1"},
    "status": {"phase": "Starting"},
}


def changed(**parts: Any) -> dict[str, Any]:
    agent = {**AGENT, "metadata": {**AGENT["metadata"]}}
    for part, value in parts.items():
        if part in ("spec", "status"):
            agent[part] = value
        else:
            agent["metadata"][part] = value
    return agent


@pytest.mark.parametrize(
    ("old", "new", "delay"),
    [
        (None, AGENT, 0.0),  # created
        (AGENT, None, 0.0),  # deleted
        (AGENT, changed(status={"phase": "Running", "ready": True}), STATUS_BATCH_SECONDS),
        (AGENT, changed(status={"phase": "Crashed"}), STATUS_BATCH_SECONDS),
        (AGENT, changed(spec={"role": "developer", "node": "n2"}, generation=2), 0.0),
        (AGENT, changed(labels={"team": "t", "rollout": "canary"}), 0.0),
        (AGENT, changed(annotations={"restart": "now"}), 0.0),
        (AGENT, changed(deletionTimestamp="2026-11-30T14:00:00Z"), 0.0),
        (AGENT, changed(finalizers=["x"]), 0.0),
    ],
    ids=[
        "created",
        "deleted",
        "running",
        "crashed",
        "moved",
        "relabelled",
        "annotated",
        "deleting",
        "finalizer",
    ],
)
def test_only_a_status_change_waits_for_the_batch(
    old: dict[str, Any] | None, new: dict[str, Any] | None, delay: float
) -> None:
    assert team_wake_delay(old, new) == delay
