"""Hook state against screen reading: a disagreement that lasts is reported once, and its end (pure)."""

from __future__ import annotations

import datetime

import pytest

from tmux_orchestrator.api import Activity
from tmux_sidecar.activity_check import (
    DISAGREE_AFTER,
    CheckOutcome,
    Disagreement,
    check_sources,
    disagree,
)
from tmux_sidecar.hook_state import HOOK_FRESH_FOR, HookState

T0 = datetime.datetime(2026, 11, 30, 0, 0, tzinfo=datetime.UTC)
A = Activity


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("hook", "screen", "expected"),
    [
        (A.BUSY, A.BUSY, False),
        (A.IDLE, A.BUSY, True),
        (A.BUSY, A.IDLE, True),
        (A.WAITING_FOR_INPUT, A.IDLE, True),
        (A.BUSY, A.RATE_LIMITED, False),  # retrying inside the turn
        (A.BUSY, A.WAITING_FOR_INPUT, False),  # a dialog inside the turn
        (A.RATE_LIMITED, A.IDLE, False),  # gave up, back at its prompt
        (A.IDLE, A.RATE_LIMITED, True),
    ],
)
def test_which_readings_disagree(hook: Activity, screen: Activity, expected: bool) -> None:
    assert disagree(hook, screen) is expected


SINCE_0 = Disagreement(A.IDLE, A.BUSY, T0)


@pytest.mark.parametrize(
    ("previous", "hook", "screen", "now", "expected"),
    [
        # Nothing to compare: no hook, a stale hook, an unknown screen.
        (None, None, A.BUSY, at(0), (None, CheckOutcome.AGREE)),
        (
            None,
            HookState(A.IDLE, T0),
            A.BUSY,
            T0 + HOOK_FRESH_FOR + datetime.timedelta(seconds=1),
            (None, CheckOutcome.AGREE),
        ),
        (None, HookState(A.IDLE, T0), A.UNKNOWN, at(1), (None, CheckOutcome.AGREE)),
        (None, HookState(A.IDLE, T0), A.IDLE, at(1), (None, CheckOutcome.AGREE)),
        # A disagreement starts, lasts, is reported once when it reaches DISAGREE_AFTER.
        (None, HookState(A.IDLE, T0), A.BUSY, at(0), (SINCE_0, CheckOutcome.DISAGREEING)),
        (SINCE_0, HookState(A.IDLE, T0), A.BUSY, at(4.9), (SINCE_0, CheckOutcome.DISAGREEING)),
        (
            SINCE_0,
            HookState(A.IDLE, T0),
            A.BUSY,
            T0 + DISAGREE_AFTER,
            (Disagreement(A.IDLE, A.BUSY, T0, True), CheckOutcome.NEW),
        ),
        (
            Disagreement(A.IDLE, A.BUSY, T0, True),
            HookState(A.IDLE, T0),
            A.BUSY,
            at(30),
            (Disagreement(A.IDLE, A.BUSY, T0, True), CheckOutcome.DISAGREEING),
        ),
        # The screen changes its mind but still disagrees: the same disagreement, the newest pair.
        (
            SINCE_0,
            HookState(A.IDLE, T0),
            A.WAITING_FOR_INPUT,
            at(6),
            (Disagreement(A.IDLE, A.WAITING_FOR_INPUT, T0, True), CheckOutcome.NEW),
        ),
        # Agreement again: a reported disagreement ended; an unreported one simply goes.
        (
            Disagreement(A.IDLE, A.BUSY, T0, True),
            HookState(A.IDLE, T0),
            A.IDLE,
            at(31),
            (None, CheckOutcome.ENDED),
        ),
        (SINCE_0, HookState(A.BUSY, at(2)), A.BUSY, at(2), (None, CheckOutcome.AGREE)),
        (Disagreement(A.IDLE, A.BUSY, T0, True), None, A.BUSY, at(31), (None, CheckOutcome.ENDED)),
    ],
)
def test_a_lasting_disagreement_is_reported_once(
    previous: Disagreement | None,
    hook: HookState | None,
    screen: Activity,
    now: datetime.datetime,
    expected: tuple[Disagreement | None, CheckOutcome],
) -> None:
    assert check_sources(previous, hook, screen, now) == expected
