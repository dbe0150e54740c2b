"""Which operator replica is active: a coordination.k8s.io Lease held by one of them (pure).

The rules are client-go's leader election: a Lease held by someone else is taken over only after it stayed
unchanged (same resourceVersion) for its whole leaseDurationSeconds *as measured on our own clock* since we
first saw that version — never by comparing its renewTime with our wall clock, so clock skew between
machines cannot make two replicas active. Every write is fenced by the resourceVersion it was decided
from: of two standbys taking over at once, the API server lets exactly one through (409 for the other).
The holder stops acting when it could not renew for renew_deadline_seconds, which is shorter than the
Lease's duration: it has stopped before any standby may take over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from .clock import format_micro_time


@dataclass(frozen=True)
class LeaseTiming:
    duration_seconds: int = 15
    """How long a standby waits, from the moment it last saw the Lease change, before taking it over."""
    renew_deadline_seconds: float = 10.0
    """The holder stops acting when it could not renew for this long (must be below duration_seconds)."""
    retry_seconds: float = 2.0
    """How often the holder renews and a standby looks at the Lease."""

    def __post_init__(self) -> None:
        if not 0 < self.retry_seconds < self.renew_deadline_seconds < self.duration_seconds:
            raise ValueError(
                "leader election needs 0 < retry < renew deadline < lease duration, got "
                f"{self.retry_seconds} < {self.renew_deadline_seconds} < {self.duration_seconds}"
            )


@dataclass(frozen=True)
class LeaseRecord:
    """The fields of a Lease that leader election reads."""

    holder: str
    """Empty: released (or never held)."""
    duration_seconds: int
    transitions: int
    acquired_at: str
    resource_version: str

    @classmethod
    def from_object(cls, lease: Mapping[str, Any]) -> LeaseRecord:
        spec = lease.get("spec") or {}
        return cls(
            holder=str(spec.get("holderIdentity") or ""),
            duration_seconds=int(spec.get("leaseDurationSeconds") or 0),
            transitions=int(spec.get("leaseTransitions") or 0),
            acquired_at=str(spec.get("acquireTime") or ""),
            resource_version=str((lease.get("metadata") or {}).get("resourceVersion") or ""),
        )


@dataclass(frozen=True)
class Sighting:
    """A version of the Lease and when (our monotonic clock, seconds) we first saw that version."""

    record: LeaseRecord
    seen_at: float


class LeaseAction(StrEnum):
    CREATE = "Create"
    """No Lease yet: create it, held by us."""
    RENEW = "Renew"
    """We hold it: renew it."""
    TAKE = "Take"
    """Released, or expired by our own clock: take it over (fenced by its resourceVersion)."""
    WAIT = "Wait"
    """Someone else holds it and it may still be renewed: stay a standby."""


def next_sighting(previous: Sighting | None, record: LeaseRecord, now: float) -> Sighting:
    """The sighting after reading `record` at `now`: the clock restarts only when the Lease changed."""
    if previous is not None and previous.record.resource_version == record.resource_version:
        return previous
    return Sighting(record, now)


def decide_lease(identity: str, sighting: Sighting | None, now: float, timing: LeaseTiming) -> LeaseAction:
    """What `identity` does with the Lease it saw (None: there is no Lease)."""
    if sighting is None:
        return LeaseAction.CREATE
    record = sighting.record
    if record.holder == identity:
        return LeaseAction.RENEW
    if not record.holder:
        return LeaseAction.TAKE
    duration = record.duration_seconds or timing.duration_seconds
    return LeaseAction.TAKE if now - sighting.seen_at >= duration else LeaseAction.WAIT


def held_lease_spec(
    identity: str, record: LeaseRecord | None, action: LeaseAction, now: datetime, timing: LeaseTiming
) -> dict[str, Any]:
    """The Lease's spec after `action` by `identity` (CREATE, RENEW or TAKE)."""
    stamp = format_micro_time(now)
    kept = record.acquired_at if record is not None and action is LeaseAction.RENEW else ""
    return {
        "holderIdentity": identity,
        "leaseDurationSeconds": timing.duration_seconds,
        "acquireTime": kept or stamp,
        "renewTime": stamp,
        "leaseTransitions": (record.transitions if record else 0) + (1 if action is LeaseAction.TAKE else 0),
    }


def released_lease_spec(record: LeaseRecord, now: datetime) -> dict[str, Any]:
    """The Lease's spec when its holder stops on purpose: no holder, so a standby takes over at once."""
    return {
        "holderIdentity": None,
        "leaseDurationSeconds": 1,
        "acquireTime": record.acquired_at or None,
        "renewTime": format_micro_time(now),
        "leaseTransitions": record.transitions,
    }
