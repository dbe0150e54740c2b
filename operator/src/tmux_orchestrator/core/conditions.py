"""Team conditions (kstatus-compatible) and their reasons.

kstatus (sigs.k8s.io/cli-utils) reads a custom resource as: observedGeneration behind → InProgress;
Reconciling=True → InProgress; Stalled=True → Failed; otherwise Current. Ready is what
`kubectl wait --for=condition=Ready` reads. lastTransitionTime changes only when a condition's status
changes; the rollout relies on that (the Paused condition's time is when a pause began or ended).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from tmux_orchestrator.api.common import Condition, ConditionStatus

from .clock import format_time, parse_time


class ConditionType(StrEnum):
    READY = "Ready"
    RECONCILING = "Reconciling"
    STALLED = "Stalled"
    PROGRESSING = "Progressing"
    AVAILABLE = "Available"
    PAUSED = "Paused"


CONDITION_ORDER = tuple(ConditionType)


class ConditionReason(StrEnum):
    # Ready / Reconciling / Stalled
    RECONCILED = "Reconciled"
    UNSCHEDULABLE = "Unschedulable"
    NODE_LOST = "NodeLost"
    NAME_CONFLICT = "NameConflict"
    SCALING = "Scaling"
    AGENTS_NOT_READY = "AgentsNotReady"
    RESTARTING = "Restarting"
    AGENT_FAILED = "AgentFailed"
    WORKSPACE_NOT_READY = "WorkspaceNotReady"
    NO_FAILURE = "NoFailure"
    # Progressing (the rollout's own record, read back by the next pass)
    ROLLOUT_IN_PROGRESS = "RolloutInProgress"
    ROLLOUT_COMPLETE = "RolloutComplete"
    ROLLOUT_ABORTED = "RolloutAborted"
    ROLLOUT_FAILED = "RolloutFailed"
    # Paused
    SPEC_PAUSED = "SpecPaused"
    STEP_PAUSE = "StepPause"
    WAITING_FOR_PROMOTE = "WaitingForPromote"
    NOT_PAUSED = "NotPaused"
    # Available
    ALL_AGENTS_READY = "AllAgentsReady"


def find_condition(conditions: Sequence[Condition] | None, kind: str) -> Condition | None:
    return next((c for c in conditions or () if c.type == kind), None)


def condition_since(conditions: Sequence[Condition] | None, kind: ConditionType) -> datetime | None:
    found = find_condition(conditions, kind)
    return parse_time(found.last_transition_time) if found else None


def is_true(conditions: Sequence[Condition] | None, kind: ConditionType) -> bool:
    found = find_condition(conditions, kind)
    return found is not None and found.status is ConditionStatus.TRUE


def build_condition(
    *,
    previous: Sequence[Condition] | None,
    kind: str,
    status: bool | ConditionStatus,
    reason: str,
    message: str,
    generation: int | None,
    now: datetime,
    restart: bool = False,
) -> Condition:
    """A condition whose lastTransitionTime is kept from `previous` unless its status changed (or
    `restart`: a new episode under the same status, e.g. a rollout starting while Progressing is True)."""
    if isinstance(status, ConditionStatus):
        value = status
    else:
        value = ConditionStatus.TRUE if status else ConditionStatus.FALSE
    before = find_condition(previous, kind)
    since = format_time(now)
    if before is not None and before.status is value and before.last_transition_time and not restart:
        since = before.last_transition_time
    return Condition(
        type=kind,
        status=value,
        observed_generation=generation,
        last_transition_time=since,
        reason=reason,
        message=message,
    )
