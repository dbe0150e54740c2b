"""When to restart an agent whose process ended, like the kubelet does for containers (pure).

The decision is a function of the policy, the recovery settings, the times of earlier restarts, the exit
code and the time of the exit — not of the time of the call — so planning again on every observation pass
gives the same answer and the same restart time (level-triggered, no timers to lose).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tmux_orchestrator.api.team import Recovery, RestartPolicy

# A restart never follows an exit sooner than this, even with backoffSeconds 0: a command that exits at
# once is then retried at most once a second until the circuit breaker opens, never in a hot loop.
MIN_DELAY_SECONDS = 1.0
_MAX_DOUBLINGS = 62


class RestartAction(StrEnum):
    RESTART = "Restart"  # start the process again at `restart_at`
    GIVE_UP = "GiveUp"  # circuit breaker open: the agent is Failed
    STAY_DOWN = "StayDown"  # the restart policy does not restart this exit


class RestartReason(StrEnum):
    BACKOFF = "Backoff"
    POLICY_NEVER = "RestartPolicyNever"
    COMPLETED = "Completed"  # clean exit under OnFailure
    TOO_MANY_RESTARTS = "TooManyRestarts"


@dataclass(frozen=True)
class RestartDecision:
    action: RestartAction
    reason: RestartReason
    restart_at: float | None  # epoch seconds, for RESTART
    delay_seconds: float
    restarts_in_window: int
    message: str

    def due(self, now: float) -> bool:
        """Whether a RESTART should happen now."""
        return self.restart_at is not None and now >= self.restart_at


def recent_restarts(restart_times: Sequence[float], now: float, window_seconds: float) -> tuple[float, ...]:
    """The restart times within the circuit breaker's window ending at `now`, oldest first."""
    return tuple(sorted(t for t in restart_times if now - window_seconds < t <= now))


def backoff_delay(recovery: Recovery, restarts: int, min_delay: float = MIN_DELAY_SECONDS) -> float:
    """min(maxBackoff, backoff · 2^restarts), and at least `min_delay`."""
    doubled = recovery.backoff_seconds * (1 << min(restarts, _MAX_DOUBLINGS))
    return float(max(min_delay, min(recovery.max_backoff_seconds, doubled)))


def plan_restart(
    *,
    policy: RestartPolicy,
    recovery: Recovery,
    restart_times: Sequence[float],
    exit_code: int | None,
    exited_at: float,
    min_delay: float = MIN_DELAY_SECONDS,
) -> RestartDecision:
    """Decide what follows an exit at `exited_at` with `exit_code` (None: unknown, treated as a failure).

    `restart_times` are the times of the node agent's earlier restarts of this agent (older ones are
    ignored). Always restarts every exit and OnFailure every non-zero one, after min(maxBackoff,
    backoff · 2^k) seconds where k is the number of restarts within windowSeconds; once maxRestarts restarts
    happened within windowSeconds the agent is given up (phase Failed) instead.
    """
    recent = recent_restarts(restart_times, exited_at, recovery.window_seconds)
    count = len(recent)
    if policy is RestartPolicy.NEVER:
        return RestartDecision(
            RestartAction.STAY_DOWN, RestartReason.POLICY_NEVER, None, 0.0, count, "restartPolicy is Never"
        )
    if policy is RestartPolicy.ON_FAILURE and exit_code == 0:
        return RestartDecision(
            RestartAction.STAY_DOWN, RestartReason.COMPLETED, None, 0.0, count, "exited 0 under OnFailure"
        )
    if count >= recovery.max_restarts:
        message = f"{count} restarts within {recovery.window_seconds}s (maxRestarts {recovery.max_restarts})"
        return RestartDecision(
            RestartAction.GIVE_UP, RestartReason.TOO_MANY_RESTARTS, None, 0.0, count, message
        )
    delay = backoff_delay(recovery, count, min_delay)
    message = f"restart {count + 1} in {delay:g}s"
    return RestartDecision(
        RestartAction.RESTART, RestartReason.BACKOFF, exited_at + delay, delay, count, message
    )
