"""Agent status: what the supervisor records when a process exits, and the status each pass wants written.

The decisions are pure (`plan_restart`, `crash_evidence`, `compute_agent_status` and the helpers beside them
in agent_status); this module feeds them the record. The status is written by node.status_writes (queued,
coalesced, never awaited by the pass).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from typing import Any

from tmux_orchestrator.api import Activity, AgentPhase, AgentStatus
from tmux_orchestrator.core.clock import format_time
from tmux_orchestrator.core.patch import status_write
from tmux_orchestrator.kube import KubeObject, Resource
from tmux_sidecar.agent_events import exit_events
from tmux_sidecar.agent_status import (
    PaneState,
    SupervisorFacts,
    compute_agent_status,
    crash_report,
    keep_started_at,
    reported_revision,
)
from tmux_sidecar.classification import Classification, crash_evidence, last_output_lines
from tmux_sidecar.hook_state import chosen_activity
from tmux_sidecar.pane import PaneInfo
from tmux_sidecar.restart import RestartAction, plan_restart
from tmux_sidecar.workspace import WorkspaceReport, with_workspace

from .hooks import check_activity_sources
from .records import AgentRecord, take_reported, template_hash
from .status_writes import StatusWant, WriteKey
from .windows import missing_program

log = logging.getLogger(__name__)

STARTING_HOLD = 1.0
"""Seconds a Starting status waits for the agent to be Running (then one write says both), while the node
starts few agents: a fake agent is then Running within a second; a real CLI that takes longer is shown
Starting a second late."""
STARTING_CROWD = 10
STARTING_HOLD_CROWDED = 30.0


def starting_hold(starting: int) -> float:
    """How long a Starting status waits while `starting` agents of the node are Starting. Agents started
    together wait for cores together: in a 1,000-agent start on two cores (50-70 Starting on each node) an
    agent took 5-26 s from its process start to Running, and a hold that grew by 0.3 s per agent Starting
    still let 637 of the 1,000 Starting statuses through, each written only to be replaced, to the API
    server at the moment it is busiest. So while more than `STARTING_CROWD` are Starting on the node, the
    status waits up to 30 s (a CLI that hangs while starting is still shown Starting, at most that late);
    once the crowd thins, the usual second, counted from the first want (node.status_writes.rehold)."""
    return STARTING_HOLD if starting <= STARTING_CROWD else STARTING_HOLD_CROWDED


def crowd_hold(want: StatusWant, starting: int) -> float:
    """The hold `want` should have while `starting` agents of the node are Starting: `starting_hold` for a
    Starting status, its own for any other."""
    if want.wanted.get("phase") != AgentPhase.STARTING.value:
        return want.hold
    return starting_hold(starting)


def wanted_phase(record: AgentRecord) -> str | None:
    """The phase the record's Agent has or is about to have (the status handed to the writer, else the
    server's)."""
    status = record.pending_status if record.pending_status is not None else record.reported
    return None if status is None else status.get("phase")


def record_exit(record: AgentRecord, pane: PaneInfo, observed_at: float, screen: Sequence[str] = ()) -> None:
    """Remember how the agent's process ended and what the restart policy makes of it (once per exit).
    `screen`: the dead pane's screen, when read; its last meaningful line is the crash message's detail."""
    if record.exit_decision is not None:
        return
    evidence = crash_evidence(pane.process, screen)
    report = crash_report(evidence, record.last_lines, missing_program(record.spec.template))
    exit_code = evidence.exit_code
    decision = plan_restart(
        policy=record.spec.restart_policy,
        recovery=record.spec.recovery,
        restart_times=record.restart_times,
        exit_code=exit_code,
        exited_at=observed_at,
    )
    record.exit_decision = decision
    record.last_exit_code = exit_code
    record.last_crash_reason, record.last_crash_message = report.reason, report.message
    record.failed = decision.action is RestartAction.GIVE_UP
    record.events.extend(exit_events(decision, report.message, evidence.failed))
    log.info("%s/%s %s; %s", record.namespace, record.name, report.message, decision.message)


def changed_status_want(
    node: str,
    record: AgentRecord,
    *,
    pane: PaneInfo | None,
    reading: Classification | None,
    now: datetime.datetime,
    snapshot_lines: tuple[str, ...] = (),
    workspace: WorkspaceReport | None = None,
) -> StatusWant | None:
    """`agent_status_want`, or None when nothing it is computed from changed since the last pass (the
    status writer has that want already): a pass over hundreds of agents computes only the few that
    changed. The time is not an input (it only stamps changes), except through the hook state, which
    ages: an agent with one is computed every pass."""
    inputs = _status_inputs(
        node, record, pane=pane, reading=reading, snapshot_lines=snapshot_lines, workspace=workspace
    )
    if inputs is not None and record.status_inputs == inputs:
        return None
    want = agent_status_want(
        node,
        record,
        pane=pane,
        reading=reading,
        now=now,
        snapshot_lines=snapshot_lines,
        workspace=workspace,
    )
    record.status_inputs = inputs
    return want


def _status_inputs(
    node: str,
    record: AgentRecord,
    *,
    pane: PaneInfo | None,
    reading: Classification | None,
    snapshot_lines: tuple[str, ...],
    workspace: WorkspaceReport | None,
) -> tuple[object, ...] | None:
    """Everything `agent_status_want` reads (None: it also depends on the time)."""
    if record.hook is not None or record.disagreement is not None:
        return None
    return (
        node,
        pane,
        reading,
        snapshot_lines,
        workspace,
        record.obj,
        record.spec,
        record.reported,
        record.restart_count,
        record.failed,
        record.last_exit_code,
        record.last_crash_reason,
        record.last_crash_message,
        record.exit_decision,
        record.started_at,
        record.briefed_revision,
        record.restarted_at,
        record.last_lines,
    )


def _stamps_basis(pending: dict[str, Any] | None, reported: dict[str, Any]) -> AgentStatus | None:
    """The status this one continues from (its timestamps: lastActivityTime, conditions' transition times,
    startedAt): what the server will have, i.e. the status last handed to the writer while the server does
    not have it yet, else the server's. Computed from the server's alone, a pass that ran while a write was
    on its way stamped the same change again as if it were new: one more write per agent changing only
    timestamps (~500 per 1,000 agents starting against a busy API server), and stamps later than the change.
    Fields others write (the agent's own report, through the local API) are always the server's."""
    if pending is not None and status_write(reported, pending, whole=True) is not None:
        return AgentStatus.model_validate({**pending, "report": reported.get("report")})
    return AgentStatus.model_validate(reported) if reported else None


def agent_status_want(
    node: str,
    record: AgentRecord,
    *,
    pane: PaneInfo | None,
    reading: Classification | None,
    now: datetime.datetime,
    snapshot_lines: tuple[str, ...] = (),
    workspace: WorkspaceReport | None = None,
) -> StatusWant:
    """The status the Agent should have now, for the status writer (which writes only what differs)."""
    if pane is not None and reading is not None:
        if not pane.dead:
            record.last_lines = last_output_lines(snapshot_lines) if snapshot_lines else record.last_lines
        elif reading.crash is not None and record.exit_decision is not None:
            report = crash_report(reading.crash, record.last_lines, missing_program(record.spec.template))
            record.last_crash_reason, record.last_crash_message = report.reason, report.message
    process = None
    if pane is not None:
        process = PaneState(pane, started_at=record.started_at)
    reported = record.reported or {}
    revision = reported_revision(
        spec_revision=record.spec.revision,
        runs_desired=pane is not None and pane.revision == template_hash(record.spec.template),
        reported=reported.get("revision"),
    )
    previous = _stamps_basis(record.pending_status, reported)
    screen = reading.activity if reading else Activity.UNKNOWN
    check_activity_sources(record, screen, now)
    activity, source = chosen_activity(record.hook, screen, now)
    status = compute_agent_status(
        generation=record.obj["metadata"].get("generation"),
        node=node,
        revision=revision,
        desired_state=record.spec.desired_state,
        process=process,
        supervisor=SupervisorFacts(
            restart_count=record.restart_count,
            failed=record.failed,
            last_exit_code=record.last_exit_code,
            last_crash_reason=record.last_crash_reason,
            last_crash_message=record.last_crash_message,
            stays_down=record.exit_decision is not None
            and record.exit_decision.action is RestartAction.STAY_DOWN,
        ),
        activity=activity,
        cli_ready=bool(reading and reading.ready),
        previous=previous,
        now=now,
        briefed_revision=record.briefed_revision,
        restarted_at=record.restarted_at,
    )
    if status.activity is not None and status.activity is not Activity.UNKNOWN:
        status = status.model_copy(update={"activity_source": source})
    if record.hook is not None and record.hook.last_assistant_message:
        status = status.model_copy(update={"last_assistant_message": record.hook.last_assistant_message})
    status = with_workspace(status, workspace, previous, format_time(now))
    wanted = keep_started_at(status, previous, process).to_wire()
    record.pending_status = wanted if status_write(reported, wanted, whole=True) is not None else None

    def reported_now() -> dict[str, Any] | None:
        return record.reported

    def written(result: KubeObject) -> None:
        take_reported(record, result)
        if record.pending_status is wanted:
            record.pending_status = None

    return StatusWant(
        WriteKey(Resource.AGENTS, record.name, record.namespace),
        wanted,
        reported_now,
        written,
        hold=STARTING_HOLD if status.phase is AgentPhase.STARTING else 0.0,
    )
