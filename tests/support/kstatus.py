"""How sigs.k8s.io/cli-utils kstatus (what Flux, kpt and Argo CD's generic check use) reads a custom resource.

The generic rules of pkg/kstatus/status (generic.go `checkGenericProperties`, status.go `Compute` and
`checkReadyCondition`), as one ordered table: the first rule that decides wins. None of our kinds is one of
kstatus' built-in types, so its type-specific rules never apply to them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any


class KStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    FAILED = "Failed"
    CURRENT = "Current"
    TERMINATING = "Terminating"


Rule = Callable[[Mapping[str, Any]], KStatus | None]


def _conditions(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((obj.get("status") or {}).get("conditions") or [])


def _deleting(obj: Mapping[str, Any]) -> KStatus | None:
    return KStatus.TERMINATING if (obj.get("metadata") or {}).get("deletionTimestamp") else None


def _generation_not_observed(obj: Mapping[str, Any]) -> KStatus | None:
    """Only when both metadata.generation and status.observedGeneration are present."""
    generation = (obj.get("metadata") or {}).get("generation")
    observed = (obj.get("status") or {}).get("observedGeneration")
    if generation is None or observed is None:
        return None
    return KStatus.IN_PROGRESS if observed != generation else None


def _reconciling_or_stalled(obj: Mapping[str, Any]) -> KStatus | None:
    """In list order: the first of Reconciling=True (InProgress) and Stalled=True (Failed) decides."""
    for condition in _conditions(obj):
        if condition.get("status") != "True":
            continue
        if condition.get("type") == "Reconciling":
            return KStatus.IN_PROGRESS
        if condition.get("type") == "Stalled":
            return KStatus.FAILED
    return None


def _ready(obj: Mapping[str, Any]) -> KStatus | None:
    """A Ready condition: True → Current, False or Unknown → InProgress."""
    for condition in _conditions(obj):
        if condition.get("type") != "Ready":
            continue
        if condition.get("status") == "True":
            return KStatus.CURRENT
        if condition.get("status") in ("False", "Unknown"):
            return KStatus.IN_PROGRESS
    return None


RULES: tuple[Rule, ...] = (_deleting, _generation_not_observed, _reconciling_or_stalled, _ready)


def kstatus(obj: Mapping[str, Any]) -> KStatus:
    """The status kstatus computes for `obj` (a full object as the API server returns it)."""
    for rule in RULES:
        decided = rule(obj)
        if decided is not None:
            return decided
    return KStatus.CURRENT  # no known condition: kstatus assumes the resource is current
