"""plan_restart: kubelet-like restart decisions (pure, table-driven)."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from tmux_orchestrator.api.team import Recovery, RestartPolicy
from tmux_sidecar.restart import (
    MIN_DELAY_SECONDS,
    RestartAction,
    RestartReason,
    backoff_delay,
    plan_restart,
    recent_restarts,
)

T = 1_000_000.0  # the exit time used throughout
DEFAULT = Recovery()  # backoff 10, max backoff 300, 5 restarts in 600 s
FAST = Recovery(backoff_seconds=2, max_backoff_seconds=5, max_restarts=10, window_seconds=60)


class Case(NamedTuple):
    id: str
    policy: RestartPolicy
    recovery: Recovery
    history: list[float]  # earlier restart times
    exit_code: int | None
    action: RestartAction
    reason: RestartReason
    delay: float


ALWAYS, ON_FAILURE, NEVER = RestartPolicy.ALWAYS, RestartPolicy.ON_FAILURE, RestartPolicy.NEVER
RESTART, GIVE_UP, STAY_DOWN = RestartAction.RESTART, RestartAction.GIVE_UP, RestartAction.STAY_DOWN
BACKOFF, TOO_MANY = RestartReason.BACKOFF, RestartReason.TOO_MANY_RESTARTS
FIVE_RECENT = [T - 500, T - 400, T - 300, T - 200, T - 100]
CASES = [
    Case("always-first-crash", ALWAYS, DEFAULT, [], 1, RESTART, BACKOFF, 10),
    Case("always-clean-exit", ALWAYS, DEFAULT, [], 0, RESTART, BACKOFF, 10),
    Case("always-signal", ALWAYS, DEFAULT, [], 137, RESTART, BACKOFF, 10),
    Case("unknown-exit-is-a-failure", ON_FAILURE, DEFAULT, [], None, RESTART, BACKOFF, 10),
    Case("doubling-once", ALWAYS, DEFAULT, [T - 30], 1, RESTART, BACKOFF, 20),
    Case("doubling-three-times", ALWAYS, DEFAULT, [T - 300, T - 200, T - 100], 1, RESTART, BACKOFF, 80),
    Case("capped-at-max-backoff", ALWAYS, FAST, [T - 5, T - 4, T - 3], 1, RESTART, BACKOFF, 5),
    Case("old-restarts-forgotten", ALWAYS, DEFAULT, [t - 5000 for t in FIVE_RECENT], 1, RESTART, BACKOFF, 10),
    Case("circuit-breaker-opens", ALWAYS, DEFAULT, FIVE_RECENT, 1, GIVE_UP, TOO_MANY, 0),
    Case("window-edge-excluded", ALWAYS, DEFAULT, [T - 600, *FIVE_RECENT[1:]], 1, RESTART, BACKOFF, 160),
    Case("max-restarts-zero", ALWAYS, Recovery(max_restarts=0), [], 1, GIVE_UP, TOO_MANY, 0),
    Case("never", NEVER, DEFAULT, [], 1, STAY_DOWN, RestartReason.POLICY_NEVER, 0),
    Case("on-failure-clean-exit", ON_FAILURE, DEFAULT, [], 0, STAY_DOWN, RestartReason.COMPLETED, 0),
    Case("on-failure-crash", ON_FAILURE, DEFAULT, [], 2, RESTART, BACKOFF, 10),
    Case(
        "zero-backoff-no-hot-loop", ALWAYS, Recovery(backoff_seconds=0), [T - 1], 127, RESTART, BACKOFF, 1.0
    ),
]


@pytest.mark.parametrize("case", [pytest.param(case, id=case.id) for case in CASES])
def test_plan_restart(case: Case) -> None:
    decision = plan_restart(
        policy=case.policy,
        recovery=case.recovery,
        restart_times=case.history,
        exit_code=case.exit_code,
        exited_at=T,
    )
    assert (decision.action, decision.reason, decision.delay_seconds) == (
        case.action,
        case.reason,
        case.delay,
    )
    if case.action is RestartAction.RESTART:
        assert decision.restart_at == T + case.delay
        assert not decision.due(T + case.delay - 0.001)
        assert decision.due(T + case.delay)
    else:
        assert decision.restart_at is None
        assert not decision.due(T + 10**9)


def test_the_minimum_delay() -> None:
    assert MIN_DELAY_SECONDS == 1.0  # the zero-backoff case above relies on it


def test_planning_again_later_gives_the_same_answer() -> None:
    args = {"policy": RestartPolicy.ALWAYS, "recovery": DEFAULT, "restart_times": [T - 30], "exit_code": 1}
    assert plan_restart(**args, exited_at=T) == plan_restart(**args, exited_at=T)  # type: ignore[arg-type]


def test_huge_restart_counts_do_not_overflow() -> None:
    assert backoff_delay(Recovery(max_restarts=10000), 5000) == 300


def test_recent_restarts() -> None:
    assert recent_restarts([T - 700, T + 1, T - 10, T - 600, T - 599], T, 600) == (T - 599, T - 10)
