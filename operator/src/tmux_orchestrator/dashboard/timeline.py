"""Each agent's activity over the last hour, as bands (pure; times are epoch seconds passed in).

The dashboard records a sample whenever an Agent's status changes in its watch (`ActivityHistory.record`);
`build_bands` turns an agent's samples into contiguous bands of one state, clipped to a window ending now.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

WINDOW_SECONDS = 3600.0


class BandState(StrEnum):
    BUSY = "busy"
    IDLE = "idle"
    WAITING = "waiting"
    RATE_LIMITED = "rate-limited"
    CRASHED = "crashed"
    OTHER = "other"
    """Pending, starting, stopped or activity unknown."""


_CRASHED_PHASES = frozenset({"Crashed", "Failed", "Lost"})
_BY_ACTIVITY = {
    "Busy": BandState.BUSY,
    "Idle": BandState.IDLE,
    "WaitingForInput": BandState.WAITING,
    "RateLimited": BandState.RATE_LIMITED,
}


def band_state(status: Mapping[str, Any] | None) -> BandState:
    """What an Agent's status shows: a crashed (or failed, or lost) agent, else a running agent's activity."""
    status = status or {}
    phase = status.get("phase")
    if phase in _CRASHED_PHASES:
        return BandState.CRASHED
    if phase != "Running":
        return BandState.OTHER
    return _BY_ACTIVITY.get(str(status.get("activity")), BandState.OTHER)


@dataclass(frozen=True)
class Sample:
    at: float
    state: BandState


@dataclass(frozen=True)
class Band:
    state: BandState
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def build_bands(samples: Sequence[Sample], now: float, window: float = WINDOW_SECONDS) -> list[Band]:
    """Bands of `samples` (in time order; each state lasts until the next sample, the last until `now`),
    clipped to [now - window, now], neighbours of one state merged, empty ones dropped."""
    start_of_window = now - window
    bands: list[Band] = []
    for index, sample in enumerate(samples):
        start = max(sample.at, start_of_window)
        end = min(samples[index + 1].at if index + 1 < len(samples) else now, now)
        if end <= start:
            continue
        if bands and bands[-1].state is sample.state and bands[-1].end >= start:
            bands[-1] = Band(sample.state, bands[-1].start, end)
        else:
            bands.append(Band(sample.state, start, end))
    return bands


class ActivityHistory:
    """Samples per agent (namespace, name): the ones inside the window and the one in force at its start."""

    def __init__(self, window: float = WINDOW_SECONDS) -> None:
        self.window = window
        self._samples: dict[tuple[str, str], list[Sample]] = {}

    def record(self, namespace: str, name: str, state: BandState, now: float) -> None:
        samples = self._samples.setdefault((namespace, name), [])
        if not samples or samples[-1].state is not state:
            samples.append(Sample(now, state))
        start = now - self.window
        while len(samples) > 1 and samples[1].at <= start:
            samples.pop(0)

    def forget(self, namespace: str, name: str) -> None:
        """The Agent was deleted (a new one of the same name starts a new history)."""
        self._samples.pop((namespace, name), None)

    def samples(self, namespace: str, name: str) -> list[Sample]:
        return list(self._samples.get((namespace, name), ()))


def crash_periods(samples: Sequence[Sample], now: float) -> list[Band]:
    """The crashed bands of an agent (restart history): when each crash began and how long it lasted."""
    bands = build_bands(samples, now, window=float("inf"))
    return [band for band in bands if band.state is BandState.CRASHED]
