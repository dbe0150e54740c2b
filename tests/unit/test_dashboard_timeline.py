"""The dashboard's timeline: what state an Agent's status shows, and bands from activity samples."""

from __future__ import annotations

from typing import Any

import pytest

from tmux_orchestrator.dashboard.timeline import (
    ActivityHistory,
    Band,
    BandState,
    Sample,
    band_state,
    build_bands,
    crash_periods,
)

BUSY, IDLE, CRASHED, WAITING, LIMITED, OTHER = (
    BandState.BUSY,
    BandState.IDLE,
    BandState.CRASHED,
    BandState.WAITING,
    BandState.RATE_LIMITED,
    BandState.OTHER,
)

STATES: list[tuple[str, dict[str, Any] | None, BandState]] = [
    ("running-busy", {"phase": "Running", "activity": "Busy"}, BUSY),
    ("running-idle", {"phase": "Running", "activity": "Idle"}, IDLE),
    ("running-waiting", {"phase": "Running", "activity": "WaitingForInput"}, WAITING),
    ("running-rate-limited", {"phase": "Running", "activity": "RateLimited"}, LIMITED),
    ("running-unknown", {"phase": "Running", "activity": "Unknown"}, OTHER),
    ("crashed-wins-over-activity", {"phase": "Crashed", "activity": "Busy"}, CRASHED),
    ("failed-is-crashed", {"phase": "Failed"}, CRASHED),
    ("lost-is-crashed", {"phase": "Lost", "activity": "Idle"}, CRASHED),
    ("starting", {"phase": "Starting", "activity": "Busy"}, OTHER),
    ("no-status", None, OTHER),
]


@pytest.mark.parametrize(("status", "expected"), [s[1:] for s in STATES], ids=[s[0] for s in STATES])
def test_band_state(status: dict[str, Any] | None, expected: BandState) -> None:
    assert band_state(status) is expected


BANDS: list[tuple[str, list[Sample], float, float, list[Band]]] = [
    ("nothing", [], 100, 50, []),
    ("one-state-until-now", [Sample(80, BUSY)], 100, 50, [Band(BUSY, 80, 100)]),
    (
        "each-state-until-the-next",
        [Sample(60, BUSY), Sample(70, IDLE), Sample(90, CRASHED)],
        100,
        50,
        [Band(BUSY, 60, 70), Band(IDLE, 70, 90), Band(CRASHED, 90, 100)],
    ),
    (
        "clipped-to-the-window",
        [Sample(10, IDLE), Sample(70, BUSY)],
        100,
        50,
        [Band(IDLE, 50, 70), Band(BUSY, 70, 100)],
    ),
    (
        "older-than-the-window",
        [Sample(10, IDLE), Sample(20, BUSY), Sample(95, CRASHED)],
        100,
        50,
        [Band(BUSY, 50, 95), Band(CRASHED, 95, 100)],
    ),
    (
        "repeated-state-merged",
        [Sample(60, BUSY), Sample(70, BUSY), Sample(80, IDLE)],
        100,
        50,
        [Band(BUSY, 60, 80), Band(IDLE, 80, 100)],
    ),
    ("sample-at-now-is-empty", [Sample(60, BUSY), Sample(100, CRASHED)], 100, 50, [Band(BUSY, 60, 100)]),
]


@pytest.mark.parametrize(
    ("samples", "now", "window", "expected"), [b[1:] for b in BANDS], ids=[b[0] for b in BANDS]
)
def test_build_bands(samples: list[Sample], now: float, window: float, expected: list[Band]) -> None:
    assert build_bands(samples, now, window) == expected


def test_history_records_changes_only_and_keeps_the_state_in_force_at_the_window_start() -> None:
    history = ActivityHistory(window=100)
    for at, state in [(0, OTHER), (5, BUSY), (6, BUSY), (50, IDLE), (120, CRASHED), (130, IDLE)]:
        history.record("ns", "a", state, at)
    # At 130 the window starts at 30: the Busy of 5 is still in force then (until 50); the Other of 0 is
    # dropped.
    samples = history.samples("ns", "a")
    assert samples == [Sample(5, BUSY), Sample(50, IDLE), Sample(120, CRASHED), Sample(130, IDLE)]
    assert build_bands(samples, 140, 100) == [
        Band(BUSY, 40, 50),
        Band(IDLE, 50, 120),
        Band(CRASHED, 120, 130),
        Band(IDLE, 130, 140),
    ]
    history.forget("ns", "a")
    assert history.samples("ns", "a") == []


def test_crash_periods_are_the_restart_history() -> None:
    samples = [Sample(0, BUSY), Sample(10, CRASHED), Sample(12, BUSY), Sample(40, CRASHED), Sample(45, IDLE)]
    assert crash_periods(samples, now=50) == [Band(CRASHED, 10, 12), Band(CRASHED, 40, 45)]
