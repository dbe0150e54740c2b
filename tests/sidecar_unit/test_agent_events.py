"""The events a node agent posts about an agent's process: each exit, the back-off, each start."""

from __future__ import annotations

import pytest

from tmux_orchestrator.api.team import Recovery, RestartPolicy
from tmux_sidecar.agent_events import AgentEvent, AgentEventReason, exit_events, start_event
from tmux_sidecar.converge import ActionReason
from tmux_sidecar.restart import plan_restart

RECOVERY = Recovery(backoff_seconds=2, max_backoff_seconds=8, max_restarts=2, window_seconds=60)

# id → (policy, earlier restarts, exit code, the reasons of the events, in order)
EXITS = {
    "crash-then-back-off": (RestartPolicy.ALWAYS, [], 3, ["Crashed", "BackOff"]),
    "clean-exit-still-restarted-under-always": (RestartPolicy.ALWAYS, [], 0, ["Completed", "BackOff"]),
    "circuit-breaker-opens": (RestartPolicy.ALWAYS, [10.0, 20.0], 3, ["Crashed", "Failed"]),
    "never-restarted": (RestartPolicy.NEVER, [], 3, ["Crashed"]),
    "completed-under-on-failure": (RestartPolicy.ON_FAILURE, [], 0, ["Completed"]),
}


@pytest.mark.parametrize(("policy", "restarts", "code", "reasons"), EXITS.values(), ids=list(EXITS))
def test_exit_events(policy: RestartPolicy, restarts: list[float], code: int, reasons: list[str]) -> None:
    decision = plan_restart(
        policy=policy, recovery=RECOVERY, restart_times=restarts, exit_code=code, exited_at=30.0
    )
    events = exit_events(decision, f"exited with status {code}", failed=code != 0)
    assert [e.reason.value for e in events] == reasons
    assert events[0].note == f"exited with status {code}"
    assert [e.type for e in events] == ["Normal" if r == "Completed" else "Warning" for r in reasons]
    if "BackOff" in reasons:
        assert events[1].note.startswith("Back-off 2s restarting")


def test_start_events_name_the_command_and_the_restart() -> None:
    restarted = start_event(ActionReason.RESTART_DUE, 3, "claude")
    assert restarted == AgentEvent(
        AgentEventReason.STARTED, "Restarted the agent's process after it exited: claude (restart 3)"
    )
    assert restarted.type == "Normal"
    assert start_event(ActionReason.MISSING, 0, "claude") is not None
    assert start_event(ActionReason.DELETED, 0, "claude") is None


def test_one_event_object_per_agent_and_reason_so_repeats_count_up() -> None:
    crashed = AgentEvent(AgentEventReason.CRASHED, "exited with status 1")
    again = AgentEvent(AgentEventReason.CRASHED, "killed by signal 9 (SIGKILL)")
    back_off = AgentEvent(AgentEventReason.BACK_OFF, "Back-off 1s")
    assert crashed.object_name("web-dev-0", "u1") == again.object_name("web-dev-0", "u1")
    assert crashed.object_name("web-dev-0", "u1") != back_off.object_name("web-dev-0", "u1")
    assert crashed.object_name("web-dev-0", "u1") != crashed.object_name("web-dev-0", "u2")
    assert crashed.object_name("web-dev-0", "u1").startswith("web-dev-0.")
