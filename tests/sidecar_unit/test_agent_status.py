"""compute_agent_status / status_patch: what a user sees in `kubectl get agents`, written only on change."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from support.kstatus import KStatus, kstatus
from tmux_orchestrator.api import Activity, AgentPhase, AgentStatus, DesiredState
from tmux_sidecar.agent_status import (
    MESSAGE_LIMIT,
    CrashReport,
    PaneState,
    SupervisorFacts,
    compute_agent_status,
    crash_report,
    status_patch,
)
from tmux_sidecar.classification import CrashEvidence, ExitKind

T0 = datetime.datetime(2026, 11, 24, 10, 0, 0, tzinfo=datetime.UTC)
ALIVE = PaneState(pane_id="%3", pid=4242, dead=False, started_at=T0)
DEAD = PaneState(pane_id="%3", pid=None, dead=True, exit_status=3)


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
            restart_count=1,
            last_exit_code=3,
            last_crash_reason="Exited",
            last_crash_message="exited with status 3: boom",
        ),
        now=T0 + datetime.timedelta(seconds=1),
    )
    patch = status_patch(first.to_wire(), crashed)
    assert patch is not None
    assert patch["phase"] == "Crashed" and patch["ready"] is False
    assert patch["lastExitCode"] == 3 and patch["restartCount"] == 1
    assert patch["pid"] is None  # deleted from the status by the merge patch
    assert (patch["lastCrashReason"], patch["lastCrashMessage"]) == ("Exited", "exited with status 3: boom")
    assert patch["conditions"][0]["message"] == "exited with status 3: boom"


# id → (status overrides, what kstatus reads, the conditions that are True)
KSTATUS = {
    "running": ({}, KStatus.CURRENT, {"Ready", "Scheduled"}),
    "starting": ({"cli_ready": False}, KStatus.IN_PROGRESS, {"Scheduled", "Reconciling"}),
    "no-window-yet": ({"process": None}, KStatus.IN_PROGRESS, {"Scheduled", "Reconciling"}),
    "crashed-restart-coming": ({"process": DEAD}, KStatus.IN_PROGRESS, {"Scheduled", "Reconciling"}),
    "failed-circuit-breaker-open": (
        {
            "process": DEAD,
            "supervisor": SupervisorFacts(failed=True, last_crash_message="exited with status 3"),
        },
        KStatus.FAILED,
        {"Scheduled", "Stalled"},
    ),
    "crashed-not-restarted-by-policy": (
        {"process": DEAD, "supervisor": SupervisorFacts(stays_down=True, last_exit_code=3)},
        KStatus.FAILED,
        {"Scheduled", "Stalled"},
    ),
    "completed-under-on-failure": (
        {"process": DEAD, "supervisor": SupervisorFacts(stays_down=True, last_exit_code=0)},
        KStatus.IN_PROGRESS,  # not Ready; nothing to wait for, but kstatus reads Ready=False as InProgress
        {"Scheduled"},
    ),
}


@pytest.mark.parametrize(("overrides", "verdict", "true"), KSTATUS.values(), ids=list(KSTATUS))
def test_conditions_read_by_kstatus(overrides: dict[str, Any], verdict: KStatus, true: set[str]) -> None:
    result = status(**overrides)
    conditions = {c.type: c for c in result.conditions or ()}
    assert list(conditions) == ["Ready", "Scheduled", "Reconciling", "Stalled"]
    assert {t for t, c in conditions.items() if c.status == "True"} == true
    assert all(c.observed_generation == 1 for c in conditions.values())
    agent = {"metadata": {"generation": 1}, "status": result.to_wire()}
    assert kstatus(agent) is verdict
    assert conditions["Scheduled"].message == "on node node-a"


BOX = "\u256d" + "\u2500" * 150 + "\u256e"
LONG = "Error: the model is overloaded, please try again later. " * 8


def crash(
    kind: ExitKind, status_: int | None = None, signal_: int | None = None, *lines: str
) -> CrashEvidence:
    return CrashEvidence(kind, status_, signal_, tuple(lines))


# id → (evidence, lines seen while alive, missing program, reason, message)
REPORTS = {
    "exited-with-its-last-words": (
        crash(ExitKind.EXITED, 3, None, "starting", "Error: no API key", BOX.replace("\u256d", "\u2570")),
        (),
        None,
        "Exited",
        "exited with status 3: Error: no API key",
    ),
    "signaled": (crash(ExitKind.SIGNALED, None, 9), (), None, "Signaled", "killed by signal 9 (SIGKILL)"),
    "final-output-dropped-uses-the-screen-seen-alive": (
        crash(ExitKind.EXITED, 1),
        ("\u276f working on it", "\u2502 Traceback: boom \u2502"),
        None,
        "Exited",
        "exited with status 1: Traceback: boom",
    ),
    "command-not-found": (
        crash(ExitKind.EXITED, 1),
        (),
        "claude",
        "CommandNotFound",
        "command not found: claude (exited with status 1)",
    ),
    "missing-program-but-a-real-exit-status": (
        crash(ExitKind.EXITED, 2),
        (),
        "x",
        "Exited",
        "exited with status 2",
    ),
    "status-not-collected-yet": (
        crash(ExitKind.UNCOLLECTED),
        (),
        None,
        "Uncollected",
        "exited (status not yet known)",
    ),
}


@pytest.mark.parametrize(
    ("evidence", "seen", "missing", "reason", "message"), REPORTS.values(), ids=list(REPORTS)
)
def test_crash_report(
    evidence: CrashEvidence, seen: tuple[str, ...], missing: str | None, reason: str, message: str
) -> None:
    assert crash_report(evidence, seen, missing) == CrashReport(reason, message)


def test_a_long_last_line_is_trimmed_and_box_drawing_never_reaches_the_message() -> None:
    report = crash_report(crash(ExitKind.EXITED, 3, None, BOX, LONG, BOX))
    assert report.reason == "Exited"
    assert len(report.message) == MESSAGE_LIMIT and report.message.endswith("\u2026")
    assert report.message.startswith("exited with status 3: Error: the model is overloaded")
    assert "\u2500" not in report.message
