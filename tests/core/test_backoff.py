"""Reconnect and retry delays: capped exponential backoff with jitter (pure)."""

from __future__ import annotations

import pytest

from tmux_orchestrator.core.backoff import WATCH_BACKOFF, WRITE_BACKOFF, Backoff, retry_delay


@pytest.mark.parametrize(
    ("failures", "jitter", "backoff", "expected"),
    [
        (0, 0.7, WATCH_BACKOFF, 0.0),  # nothing failed: no wait
        (1, 0.0, WATCH_BACKOFF, 0.25),  # half of the 0.5 s ceiling at the least
        (1, 1.0, WATCH_BACKOFF, 0.5),  # the ceiling at the most
        (2, 0.0, WATCH_BACKOFF, 0.5),
        (3, 1.0, WATCH_BACKOFF, 2.0),
        (7, 0.5, WATCH_BACKOFF, 22.5),  # 0.5 · 2^6 = 32, capped to 30: 15 + 0.5 · 15
        (8, 1.0, WATCH_BACKOFF, 30.0),  # capped
        (10_000, 0.0, WATCH_BACKOFF, 15.0),  # no overflow however long the server is away
        (4, 1.0, WRITE_BACKOFF, 4.0),
        (5, 1.0, WRITE_BACKOFF, 5.0),  # writes retry at least every 5 s
        (3, 0.5, Backoff(base=1.0, cap=100.0), 3.0),
    ],
)
def test_retry_delay(failures: int, jitter: float, backoff: Backoff, expected: float) -> None:
    assert retry_delay(failures, jitter, backoff) == pytest.approx(expected)


def test_jitter_spreads_clients_within_the_upper_half() -> None:
    delays = {retry_delay(4, j / 10) for j in range(11)}
    assert min(delays) == pytest.approx(2.0) and max(delays) == pytest.approx(4.0) and len(delays) == 11


@pytest.mark.parametrize("jitter", [-0.1, 1.5])
def test_jitter_outside_zero_one_is_refused(jitter: float) -> None:
    with pytest.raises(ValueError, match="jitter must be within"):
        retry_delay(2, jitter)
