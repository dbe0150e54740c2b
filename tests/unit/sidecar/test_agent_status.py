"""compute_agent_status / status_patch: what a user sees in `kubectl get agents`, written only on change."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tmux_orchestrator.api import Activity, AgentPhase, AgentStatus, DesiredState
from tmux_sidecar.agent_status import PaneState, SupervisorFacts, compute_agent_status, status_patch
from tmux_sidecar.classification import ProcessFacts
from tmux_sidecar.pane import PaneInfo

T0 = datetime.datetime(2026, 11, 24, 10, 0, 0, tzinfo=datetime.UTC)
ALIVE = PaneState(PaneInfo("%3", process=ProcessFacts(pid=4242)), started_at=T0)
DEAD = PaneState(PaneInfo("%3", process=ProcessFacts(dead=True, exit_status=3)))


def status(**overrides: Any) -> AgentStatus:
    args: dict[str, Any] = {
        "generation": 1,
        "node": "node-a",
        "revision": "r1",
        "desired_state": DesiredState.RUNNING,
        "process": ALIVE,
        "supervisor": SupervisorFacts(),
        "activity": Activity.IDLE,
        "cli_ready": True,
        "previous": None,
        "now": T0,
    }
    args.update(overrides)
    return compute_agent_status(**args)


PHASES = [
    ("no-window-yet", {"process": None}, AgentPhase.PENDING, False),
    ("stopped", {"process": None, "desired_state": DesiredState.STOPPED}, AgentPhase.STOPPED, False),
    ("cli-not-drawn-yet", {"cli_ready": False}, AgentPhase.STARTING, False),
    ("running", {}, AgentPhase.RUNNING, True),
    ("process-exited", {"process": DEAD}, AgentPhase.CRASHED, False),
    (
        "circuit-breaker-open",
        {"process": DEAD, "supervisor": SupervisorFacts(failed=True)},
        AgentPhase.FAILED,
        False,
    ),
]


@pytest.mark.parametrize(("overrides", "phase", "ready"), [c[1:] for c in PHASES], ids=[c[0] for c in PHASES])
def test_phase_and_ready(overrides: dict[str, object], phase: AgentPhase, ready: bool) -> None:
    result = status(**overrides)
    assert (result.phase, result.ready) == (phase, ready)
    assert result.conditions is not None and result.conditions[0].status.value == (
        "True" if ready else "False"
    )


def test_a_dead_pane_has_unknown_activity_and_no_pid() -> None:
    result = status(process=DEAD, activity=Activity.BUSY)
    assert result.activity is Activity.UNKNOWN
    assert result.pid is None and result.pane_id == "%3"


def test_nothing_changed_means_no_write() -> None:
    first = status()
    later = status(previous=first, now=T0 + datetime.timedelta(minutes=5))
    assert status_patch(first.to_wire(), later) is None


def test_activity_change_moves_last_activity_time_only() -> None:
    first = status()
    busy = status(previous=first, activity=Activity.BUSY, now=T0 + datetime.timedelta(seconds=30))
    patch = status_patch(first.to_wire(), busy)
    assert patch == {"activity": "Busy", "lastActivityTime": "2026-11-24T10:00:30Z"}


def test_crash_patch_carries_exit_code_reason_and_removes_pid() -> None:
    first = status()
    crashed = status(
        previous=first,
        process=DEAD,
        supervisor=SupervisorFacts(
            restart_count=1, last_exit_code=3, last_crash_reason="exit status 3: boom"
        ),
        now=T0 + datetime.timedelta(seconds=1),
    )
    patch = status_patch(first.to_wire(), crashed)
    assert patch is not None
    assert patch["phase"] == "Crashed" and patch["ready"] is False
    assert patch["lastExitCode"] == 3 and patch["restartCount"] == 1
    assert patch["pid"] is None  # deleted from the status by the merge patch
    assert patch["conditions"][0]["message"] == "exit status 3: boom"
