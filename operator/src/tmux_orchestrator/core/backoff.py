"""How long to wait before trying an API server again: capped exponential backoff with jitter."""

from __future__ import annotations

from dataclasses import dataclass

_MAX_DOUBLINGS = 20


@dataclass(frozen=True)
class Backoff:
    base: float = 0.5
    cap: float = 30.0


WATCH_BACKOFF = Backoff(base=0.5, cap=30.0)
"""Reconnecting a watch: quick after one broken connection, at most every 30 s while the server is away."""

WRITE_BACKOFF = Backoff(base=0.5, cap=5.0)
"""Retrying queued status writes: the truth should reach the server soon after it answers again."""


def retry_delay(failures: int, jitter: float, backoff: Backoff = WATCH_BACKOFF) -> float:
    """Seconds before attempt `failures + 1`, given `failures` failed attempts in a row (0: none).

    The ceiling is min(cap, base · 2^(failures - 1)); the delay is uniform in its upper half, chosen by
    `jitter` in [0, 1], so that many clients cut off at once do not come back in step (equal jitter).
    """
    if failures <= 0:
        return 0.0
    if not 0.0 <= jitter <= 1.0:
        raise ValueError(f"jitter must be within [0, 1], not {jitter}")
    ceiling = min(backoff.cap, backoff.base * (1 << min(failures - 1, _MAX_DOUBLINGS)))
    return ceiling / 2 + jitter * ceiling / 2
