"""The TmuxNode's Ready condition as its node agent writes it (pure).

The operator sets Ready=Unknown (reason NodeLost) once the node's Lease expired. A node agent that was only
silent (paused, cut off from the API server) and renews its Lease again takes its node back: Ready=True.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any, Final

READY: Final = "Ready"
TMUX_SERVER_UP: Final = "TmuxServerUp"
LEASE_RENEWED: Final = "LeaseRenewed"
NODE_LOST: Final = "NodeLost"


def ready_condition(reason: str, message: str, now: datetime.datetime) -> dict[str, Any]:
    return {
        "type": READY,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastTransitionTime": now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def ready_after_renewal(
    conditions: Sequence[Mapping[str, Any]] | None, now: datetime.datetime
) -> list[dict[str, Any]] | None:
    """The node's conditions with Ready=True again after a renewal, when the operator had marked the node
    lost (Ready not True, reason NodeLost); None otherwise (nothing to write: registration writes Ready)."""
    current = list(conditions or [])
    ready = next((c for c in current if c.get("type") == READY), None)
    if ready is None or ready.get("status") == "True" or ready.get("reason") != NODE_LOST:
        return None
    message = "the node agent renews its Lease again"
    return [
        ready_condition(LEASE_RENEWED, message, now),
        *(dict(c) for c in current if c.get("type") != READY),
    ]
