"""The Agent status a node agent reports, computed from what it observed (pure).

One writer per field: only the node agent of spec.nodeName writes Agent status. It writes only when the
computed status differs from the last one the API server has, so a steady agent costs no API writes.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from tmux_orchestrator.api import Activity, AgentPhase, AgentStatus, Condition, ConditionStatus, DesiredState
from tmux_orchestrator.core.clock import format_time
from tmux_orchestrator.core.patch import status_write

from .classification import CrashEvidence, ExitKind
from .pane import PaneInfo


@dataclass(frozen=True)
class PaneState:
    """The agent's pane as tmux reports it, and when this node agent started its program (None if it
    did not, e.g. a window adopted after a restart)."""

    pane: PaneInfo
    started_at: datetime.datetime | None = None

    @property
    def dead(self) -> bool:
        return self.pane.dead


@dataclass(frozen=True)
class SupervisorFacts:
    """The restart supervisor's memory of this agent."""

    restart_count: int = 0
    failed: bool = False  # the circuit breaker is open
    last_exit_code: int | None = None
    last_crash_reason: str | None = None  # one CamelCase word (CrashReport.reason)
    last_crash_message: str | None = None  # one trimmed line (CrashReport.message)
    stays_down: bool = False  # the restart policy does not restart the last exit


def agent_phase(
    desired_state: DesiredState, process: PaneState | None, supervisor: SupervisorFacts, cli_ready: bool
) -> AgentPhase:
    if supervisor.failed:
        return AgentPhase.FAILED
    if process is None:
        return AgentPhase.STOPPED if desired_state is DesiredState.STOPPED else AgentPhase.PENDING
    if process.dead:
        return AgentPhase.CRASHED
    return AgentPhase.RUNNING if cli_ready else AgentPhase.STARTING


def compute_agent_status(
    *,
    generation: int | None,
    node: str,
    revision: str | None,
    desired_state: DesiredState,
    process: PaneState | None,
    supervisor: SupervisorFacts,
    activity: Activity,
    cli_ready: bool,
    previous: AgentStatus | None,
    now: datetime.datetime,
    briefed_revision: str | None = None,
    restarted_at: str | None = None,
) -> AgentStatus:
    """The full status; `previous` keeps timestamps stable while nothing they describe changed."""
    phase = agent_phase(desired_state, process, supervisor, cli_ready)
    alive = process is not None and not process.dead
    activity = activity if alive else Activity.UNKNOWN
    ready = phase is AgentPhase.RUNNING
    last_activity = (
        previous.last_activity_time
        if previous is not None and previous.activity is activity and previous.last_activity_time
        else format_time(now)
    )
    conditions = agent_conditions(
        phase, supervisor, node=node, generation=generation, previous=previous, now=now
    )
    return AgentStatus(
        observed_generation=generation,
        phase=phase,
        activity=activity,
        ready=ready,
        restart_count=supervisor.restart_count,
        last_exit_code=supervisor.last_exit_code,
        last_crash_reason=supervisor.last_crash_reason,
        last_crash_message=supervisor.last_crash_message,
        pane_id=process.pane.pane_id if process else None,
        pid=process.pane.pid if alive and process else None,
        revision=revision if process else None,
        node=node,
        last_activity_time=last_activity,
        started_at=format_time(process.started_at) if process and process.started_at else None,
        briefed_revision=briefed_revision,
        restarted_at=restarted_at,
        conditions=conditions,
        # The agent's own report is written through the local API, not observed: it is kept as it is.
        report=previous.report if previous is not None else None,
    )


@dataclass(frozen=True)
class _Verdict:
    value: bool
    reason: str
    message: str | None = None


def agent_conditions(
    phase: AgentPhase,
    supervisor: SupervisorFacts,
    *,
    node: str,
    generation: int | None,
    previous: AgentStatus | None,
    now: datetime.datetime,
) -> list[Condition]:
    """Ready, Scheduled, Reconciling and Stalled, as kstatus reads them: Running → Current; starting, or
    crashed with a restart to come → InProgress (Reconciling); Failed, or crashed and not restarted under the
    restart policy → Failed (Stalled)."""
    crash = supervisor.last_crash_message or supervisor.last_crash_reason
    not_restarted = phase is AgentPhase.CRASHED and supervisor.stays_down
    completed = not_restarted and supervisor.last_exit_code == 0
    reconciling = {
        AgentPhase.PENDING: _Verdict(True, "Pending", "starting the agent's window"),
        AgentPhase.STARTING: _Verdict(True, "Starting", "the process runs; its CLI is not up yet"),
        AgentPhase.CRASHED: _Verdict(True, "BackOff", f"restarting after: {crash}"),
    }.get(phase, _Verdict(False, phase.value))
    stalled = _Verdict(False, "NotStalled")
    if phase is AgentPhase.FAILED:
        stalled = _Verdict(True, "TooManyRestarts", f"not restarted any more; last exit: {crash}")
    elif not_restarted:
        reconciling = _Verdict(False, "Completed" if completed else "NotRestarted")
        if not completed:
            stalled = _Verdict(True, "NotRestarted", f"the restart policy does not restart it: {crash}")
    verdicts = {
        "Ready": _Verdict(
            phase is AgentPhase.RUNNING,
            phase.value,
            crash if phase in (AgentPhase.CRASHED, AgentPhase.FAILED) else None,
        ),
        "Scheduled": _Verdict(True, "Scheduled", f"on node {node}"),
        "Reconciling": reconciling,
        "Stalled": stalled,
    }
    return [
        _condition(
            kind,
            verdict.value,
            reason=verdict.reason,
            message=verdict.message,
            previous=previous,
            now=now,
            generation=generation,
        )
        for kind, verdict in verdicts.items()
    ]


def reported_revision(*, spec_revision: str | None, runs_desired: bool, reported: str | None) -> str | None:
    """The spec's revision once the window runs the desired template; until then the last one reported."""
    return (spec_revision if runs_desired else None) or reported


def keep_started_at(
    status: AgentStatus, previous: AgentStatus | None, process: PaneState | None
) -> AgentStatus:
    """A live process we did not start ourselves (adopted after a restart) keeps the startedAt reported."""
    if status.started_at is None and previous is not None and process is not None and not process.dead:
        return status.model_copy(update={"started_at": previous.started_at})
    return status


MESSAGE_LIMIT: Final = 256
"""lastCrashMessage is one line for humans and Events, not the pane's tail."""
COMMAND_NOT_FOUND: Final = "CommandNotFound"
# Box drawing, block elements and the prompt glyphs CLIs draw around their text: never the message itself.
_DECORATION = re.compile(r"[\u2500-\u259f\u2190-\u21ff\u276f\u203a\u00b7\u2022\u25cf\u23fa]+")


@dataclass(frozen=True)
class CrashReport:
    """Why the agent's process ended: a CamelCase reason (lastCrashReason) and one trimmed line
    (lastCrashMessage) saying how, with the last meaningful line it printed."""

    reason: str
    message: str


def meaningful_line(lines: tuple[str, ...]) -> str | None:
    """The last line that says something: decoration (box drawing, rules, prompt glyphs) removed,
    whitespace collapsed; None when no line has a letter or digit."""
    for line in reversed(lines):
        text = " ".join(_DECORATION.sub(" ", line).split())
        if any(ch.isalnum() for ch in text):
            return text
    return None


def _trim(text: str, limit: int = MESSAGE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def crash_report(
    crash: CrashEvidence, last_seen: tuple[str, ...] = (), missing_program: str | None = None
) -> CrashReport:
    """The report of one exit. `last_seen`: the lines seen while the process lived, used when tmux dropped
    its final output; `missing_program`: argv[0] when it is not on the pane's PATH (tmux's child then exits
    1 without a word, so the exit alone would not say why)."""
    how = replace(crash, last_lines=()).reason
    line = meaningful_line(crash.last_lines or last_seen)
    if missing_program is not None and crash.kind is ExitKind.EXITED and crash.exit_status in (1, 127):
        return CrashReport(COMMAND_NOT_FOUND, _trim(f"command not found: {missing_program} ({how})"))
    return CrashReport(crash.kind.value, _trim(f"{how}: {line}" if line else how))


def _condition(
    type_: str,
    value: bool,
    *,
    reason: str,
    message: str | None,
    previous: AgentStatus | None,
    now: datetime.datetime,
    generation: int | None = None,
) -> Condition:
    status = ConditionStatus.TRUE if value else ConditionStatus.FALSE
    before = next((c for c in (previous.conditions or []) if c.type == type_), None) if previous else None
    transition = before.last_transition_time if before is not None and before.status is status else None
    return Condition(
        type=type_,
        status=status,
        observed_generation=generation,
        reason=reason,
        message=message,
        last_transition_time=transition or format_time(now),
    )


def status_patch(previous: Mapping[str, Any] | None, current: AgentStatus) -> dict[str, Any] | None:
    """A merge patch turning `previous` (the wire status) into `current`, or None when nothing changed."""
    return status_write(previous, current.to_wire(), whole=True)
