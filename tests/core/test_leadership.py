"""Leader election decisions: who may act, measured on the deciding replica's own clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tmux_orchestrator.core.leadership import (
    LeaseAction,
    LeaseRecord,
    LeaseTiming,
    Sighting,
    decide_lease,
    held_lease_spec,
    next_sighting,
    released_lease_spec,
)

TIMING = LeaseTiming(duration_seconds=15, renew_deadline_seconds=10, retry_seconds=2)
NOW = datetime(2026, 11, 30, 0, 0, 0, tzinfo=UTC)


def record(holder: str, rv: str = "1", duration: int = 15, transitions: int = 0) -> LeaseRecord:
    return LeaseRecord(holder, duration, transitions, "2026-11-29T23:00:00.000000Z", rv)


# (id, holder of the Lease (None: no Lease), seconds since we first saw this version, expected action)
CASES: list[tuple[str, str | None, float, LeaseAction]] = [
    ("no-lease-create", None, 0, LeaseAction.CREATE),
    ("ours-renew", "me", 100, LeaseAction.RENEW),
    ("released-take-at-once", "", 0, LeaseAction.TAKE),
    ("other-fresh-wait", "other", 0, LeaseAction.WAIT),
    ("other-just-before-expiry-wait", "other", 14.9, LeaseAction.WAIT),
    ("other-unchanged-for-its-duration-take", "other", 15, LeaseAction.TAKE),
]


@pytest.mark.parametrize(("holder", "age", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decide_lease(holder: str | None, age: float, expected: LeaseAction) -> None:
    sighting = None if holder is None else Sighting(record(holder), seen_at=1000.0)
    assert decide_lease("me", sighting, 1000.0 + age, TIMING) is expected


def test_the_standby_clock_restarts_whenever_the_lease_changes() -> None:
    """Renewals by the holder (a new resourceVersion) keep a standby waiting however old renewTime looks:
    another machine's wall clock is never compared with ours."""
    first = next_sighting(None, record("other", rv="1"), now=0.0)
    same = next_sighting(first, record("other", rv="1"), now=14.0)
    assert same is first and decide_lease("me", same, 14.0, TIMING) is LeaseAction.WAIT
    renewed = next_sighting(same, record("other", rv="2"), now=14.5)
    assert renewed.seen_at == 14.5
    assert decide_lease("me", renewed, 28.0, TIMING) is LeaseAction.WAIT
    assert decide_lease("me", renewed, 29.5, TIMING) is LeaseAction.TAKE


def test_a_longer_lease_duration_on_record_wins_over_ours() -> None:
    sighting = Sighting(record("other", duration=60), seen_at=0.0)
    assert decide_lease("me", sighting, 30.0, TIMING) is LeaseAction.WAIT
    assert decide_lease("me", sighting, 60.0, TIMING) is LeaseAction.TAKE


def test_specs_written_when_taking_renewing_and_releasing() -> None:
    taken = held_lease_spec("me", record("other", transitions=3), LeaseAction.TAKE, NOW, TIMING)
    assert taken["holderIdentity"] == "me" and taken["leaseTransitions"] == 4
    assert taken["acquireTime"] == taken["renewTime"] == "2026-11-30T00:00:00.000000Z"
    renewed = held_lease_spec("me", record("me", transitions=4), LeaseAction.RENEW, NOW, TIMING)
    assert renewed["leaseTransitions"] == 4 and renewed["acquireTime"] == "2026-11-29T23:00:00.000000Z"
    created = held_lease_spec("me", None, LeaseAction.CREATE, NOW, TIMING)
    assert created["leaseTransitions"] == 0 and created["leaseDurationSeconds"] == 15
    released = released_lease_spec(record("me", transitions=4), NOW)
    assert released["holderIdentity"] is None and released["leaseTransitions"] == 4


@pytest.mark.parametrize(
    ("retry", "deadline", "duration"),
    [(2, 15, 15), (0, 5, 15), (3, 2, 15)],
    ids=["deadline-not-below-duration", "retry-zero", "retry-above-deadline"],
)
def test_timing_that_could_let_two_replicas_act_is_refused(
    retry: float, deadline: float, duration: int
) -> None:
    with pytest.raises(ValueError, match="retry < renew deadline < lease duration"):
        LeaseTiming(duration_seconds=duration, renew_deadline_seconds=deadline, retry_seconds=retry)
