"""How soon a change to one of a team's Agents calls for a pass over the team (pure cause detection)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

STATUS_BATCH_SECONDS: Final = 1.0
"""A change to an Agent's status alone (written by its node agent) wakes its team this much later, so that
the statuses of a team's agents starting, or turning busy and idle, together make one pass and one team
status write, not one each: Kubernetes' Job controller batches its Pods' updates the same way. Anything
else about an Agent (created, deleted, its spec, labels or annotations changed) wakes the team at once."""


def team_wake_delay(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> float:
    """Seconds until the team of an Agent that changed from `old` to `new` (None: created or deleted) is
    due for a pass."""
    if old is None or new is None:
        return 0.0
    return STATUS_BATCH_SECONDS if _without_status(old) == _without_status(new) else 0.0


def _without_status(agent: Mapping[str, Any]) -> tuple[object, ...]:
    meta = agent.get("metadata") or {}
    return (
        agent.get("spec"),
        meta.get("generation"),
        meta.get("labels"),
        meta.get("annotations"),
        meta.get("deletionTimestamp"),
        meta.get("ownerReferences"),
        meta.get("finalizers"),
    )
