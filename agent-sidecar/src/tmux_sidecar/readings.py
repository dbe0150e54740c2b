"""Screen readings reused while nothing they depend on changed.

A detector profile is a pure function of a pane's screen and process facts (classification.ScreenReader),
so a pane whose screen and facts are what they were at the last pass reads the same: in a steady state most
panes are idle, and reading only the ones that changed keeps a pass over hundreds of agents cheap.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from tmux_sidecar.classification import Classification, DetectorProfile, PaneSnapshot


@dataclass(frozen=True)
class _Read:
    profile: DetectorProfile
    snapshot: PaneSnapshot
    reading: Classification


class ScreenReadings:
    """The last reading of each pane (by a caller's key, e.g. the agent's uid)."""

    def __init__(self) -> None:
        self._last: dict[str, _Read] = {}

    def classify(self, key: str, profile: DetectorProfile, snapshot: PaneSnapshot) -> Classification:
        """`profile.classify(snapshot)`, or the reading of last time if profile and snapshot are the same."""
        last = self._last.get(key)
        if last is not None and last.profile is profile and last.snapshot == snapshot:
            return last.reading
        reading = profile.classify(snapshot)
        self._last[key] = _Read(profile, snapshot, reading)
        return reading

    def keep_only(self, keys: Collection[str]) -> None:
        """Forget the panes not in `keys` (gone agents)."""
        for key in [key for key in self._last if key not in keys]:
            del self._last[key]

    def __len__(self) -> int:
        return len(self._last)
