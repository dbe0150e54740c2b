"""The team status users and tools read: phase, counts, and kstatus-compatible conditions."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from support.kstatus import kstatus as read_kstatus
from tmux_orchestrator.api import (
    AgentPhase,
    AgentTeamStatus,
    Condition,
    ConditionStatus,
    LastHandled,
    TeamPhase,
)
from tmux_orchestrator.core.agents import AgentView
from tmux_orchestrator.core.conditions import ConditionReason as R
from tmux_orchestrator.core.rollout import RolloutPhase, RolloutPolicy, RolloutState
from tmux_orchestrator.core.scheduling import ScheduleDecision, SchedulingReason
from tmux_orchestrator.core.status import TeamProgress, compute_team_status

from .builders import at, dev_key, observed_agent, pm_key, stamp, team_spec

SPEC = team_spec()
KEYS = [pm_key(), dev_key(0), dev_key(1), dev_key(2)]
REV, OLD = "rev0000000", "old0000000"
ON_NODE = ScheduleDecision("node-a", SchedulingReason.KEPT, free_slots=96)
COMPLETE = RolloutState(REV, REV, RolloutPhase.COMPLETE)


def team(
    phases: dict[int, AgentPhase] | None = None, *, live: bool = True, old: int = 0, **agent: Any
) -> list[AgentView]:
    """The PM and three developers, Running on REV; `phases` overrides by position, the first `old` on OLD."""
    views = []
    for index, key in enumerate(KEYS):
        phase = (phases or {}).get(index, AgentPhase.RUNNING)
        revision = OLD if index < old else REV
        observed = observed_agent(SPEC, key.member, key.ordinal, revision=revision, phase=phase, **agent)
        views.append(AgentView(key, observed, live))
    return views


def kstatus(status: AgentTeamStatus, generation: int) -> str:
    """kstatus' verdict on a team with this status (the shared table of its rules)."""
    return read_kstatus({"metadata": {"generation": generation}, "status": status.to_wire()}).value


@dataclass(frozen=True)
class Case:
    agents: list[AgentView]
    phase: TeamPhase
    kstatus: str
    ready_reason: R
    rollout: RolloutState = COMPLETE
    schedule: ScheduleDecision = ON_NODE
    progress: TeamProgress = field(default_factory=TeamProgress)
    true_conditions: frozenset[str] = frozenset()


CASES = [
    pytest.param(
        Case(
            team(),
            TeamPhase.RUNNING,
            "Current",
            R.RECONCILED,
            true_conditions=frozenset({"Ready", "Available"}),
        ),
        id="all-ready",
    ),
    pytest.param(
        Case(
            team({2: AgentPhase.STARTING}),
            TeamPhase.PROGRESSING,
            "InProgress",
            R.AGENTS_NOT_READY,
            true_conditions=frozenset({"Reconciling", "Progressing"}),
        ),
        id="agent-starting",
    ),
    pytest.param(
        Case(
            [AgentView(k, None, False) for k in KEYS],
            TeamPhase.PENDING,
            "InProgress",
            R.UNSCHEDULABLE,
            schedule=ScheduleDecision(None, SchedulingReason.NO_NODES, "no TmuxNodes registered"),
            true_conditions=frozenset({"Reconciling", "Progressing"}),
        ),
        id="no-node-fits",
    ),
    pytest.param(
        Case(
            team(live=False),
            TeamPhase.DEGRADED,
            "InProgress",
            R.NODE_LOST,
            schedule=ScheduleDecision(
                None, SchedulingReason.NODES_NOT_READY, "0/1 nodes fit", lost_node="node-a"
            ),
            true_conditions=frozenset({"Reconciling", "Progressing"}),
        ),
        id="node-lost-nowhere-to-go",
    ),
    pytest.param(
        Case(
            team(live=False),
            TeamPhase.DEGRADED,
            "InProgress",
            R.NODE_LOST,
            schedule=ScheduleDecision("node-b", SchedulingReason.RESCHEDULED, lost_node="node-a"),
            true_conditions=frozenset({"Reconciling", "Progressing"}),
        ),
        id="node-lost-moving",
    ),
    pytest.param(
        Case(
            team(old=3),
            TeamPhase.PROGRESSING,
            "InProgress",
            R.ROLLOUT_IN_PROGRESS,
            rollout=RolloutState(REV, OLD, RolloutPhase.PROGRESSING),
            true_conditions=frozenset({"Reconciling", "Progressing", "Available"}),
        ),
        id="rollout-in-progress",
    ),
    pytest.param(
        Case(
            team(old=3),
            TeamPhase.PROGRESSING,
            "InProgress",
            R.STEP_PAUSE,
            rollout=RolloutState(REV, OLD, RolloutPhase.STEP_PAUSED, pause=R.STEP_PAUSE),
            true_conditions=frozenset({"Reconciling", "Progressing", "Available", "Paused"}),
        ),
        id="timed-pause-is-still-progressing",
    ),
    pytest.param(
        Case(
            team(old=3),
            TeamPhase.PAUSED,
            "InProgress",
            R.WAITING_FOR_PROMOTE,
            rollout=RolloutState(REV, OLD, RolloutPhase.WAITING_FOR_PROMOTE, pause=R.WAITING_FOR_PROMOTE),
            true_conditions=frozenset({"Reconciling", "Progressing", "Available", "Paused"}),
        ),
        id="waiting-for-promote",
    ),
    pytest.param(
        Case(
            team(),
            TeamPhase.PAUSED,
            "Current",
            R.RECONCILED,
            rollout=RolloutState(REV, REV, RolloutPhase.COMPLETE, pause=R.SPEC_PAUSED),
            true_conditions=frozenset({"Ready", "Available", "Paused"}),
        ),
        id="paused-with-nothing-to-roll-out",
    ),
    pytest.param(
        Case(
            team(),
            TeamPhase.DEGRADED,
            "Failed",
            R.ROLLOUT_ABORTED,
            rollout=RolloutState(REV, OLD, RolloutPhase.ABORTED, message="rolled back to old"),
            true_conditions=frozenset({"Stalled", "Available"}),
        ),
        id="rollout-aborted",
    ),
    pytest.param(
        Case(
            team({1: AgentPhase.FAILED}),
            TeamPhase.DEGRADED,
            "Failed",
            R.AGENT_FAILED,
            true_conditions=frozenset({"Stalled"}),
        ),
        id="one-agent-failed",
    ),
    pytest.param(
        Case(
            team(dict.fromkeys(range(4), AgentPhase.FAILED)),
            TeamPhase.FAILED,
            "Failed",
            R.AGENT_FAILED,
            true_conditions=frozenset({"Stalled"}),
        ),
        id="every-agent-failed",
    ),
    pytest.param(
        Case(
            team(),
            TeamPhase.PROGRESSING,
            "InProgress",
            R.RESTARTING,
            progress=TeamProgress(restarting=("web-dev-0",)),
            true_conditions=frozenset({"Reconciling", "Available", "Progressing"}),
        ),
        id="rolling-restart",
    ),
    pytest.param(
        Case(
            team(),
            TeamPhase.PROGRESSING,
            "InProgress",
            R.SCALING,
            progress=TeamProgress(deleting=2),
            true_conditions=frozenset({"Reconciling", "Available", "Progressing"}),
        ),
        id="scaling",
    ),
    pytest.param(
        Case(
            team(),
            TeamPhase.PROGRESSING,
            "InProgress",
            R.NAME_CONFLICT,
            progress=TeamProgress(conflicts=("web-dev-0",)),
            true_conditions=frozenset({"Reconciling", "Available", "Progressing"}),
        ),
        id="name-taken",
    ),
    pytest.param(
        Case(
            team(node_name=None, status=None),
            TeamPhase.PROGRESSING,
            "InProgress",
            R.UNSCHEDULABLE,
            true_conditions=frozenset({"Reconciling", "Progressing"}),
        ),
        id="agents-beyond-node-capacity",
    ),
]


def compute(case: Case, previous: AgentTeamStatus | None = None, now: float = 0) -> AgentTeamStatus:
    return compute_team_status(
        previous=previous or AgentTeamStatus(),
        generation=3,
        agents=case.agents,
        rollout=case.rollout,
        policy=RolloutPolicy.from_spec(SPEC),
        schedule=case.schedule,
        last_handled=LastHandled(),
        progress=case.progress,
        now=at(now),
    )


@pytest.mark.parametrize("case", CASES)
def test_team_status(case: Case) -> None:
    status = compute(case)
    assert status.phase is case.phase
    assert kstatus(status, 3) == case.kstatus
    conditions = {c.type: c for c in status.conditions or ()}
    assert list(conditions) == ["Ready", "Reconciling", "Stalled", "Progressing", "Available", "Paused"]
    assert {t for t, c in conditions.items() if c.status == "True"} == case.true_conditions
    assert conditions["Ready"].reason == case.ready_reason
    assert all(c.observed_generation == 3 for c in conditions.values())


def test_counts_and_ready_column() -> None:
    status = compute(Case(team({2: AgentPhase.STARTING}, old=1), TeamPhase.PROGRESSING, "", R.RECONCILED))
    assert (status.replicas, status.ready_replicas, status.updated_replicas, status.ready) == (4, 3, 3, "3/4")
    assert (status.node, status.current_revision, status.stable_revision) == ("node-a", REV, REV)
    assert status.rollout is not None and (status.rollout.stage, status.rollout.weight) == ("production", 100)


def test_lost_node_stays_visible_as_the_team_node() -> None:
    lost = ScheduleDecision(None, SchedulingReason.NO_NODES, lost_node="node-a")
    assert (
        compute(Case(team(live=False), TeamPhase.DEGRADED, "", R.NODE_LOST, schedule=lost)).node == "node-a"
    )


def test_transition_time_kept_while_status_unchanged_and_moved_when_it_flips() -> None:
    healthy = Case(team(), TeamPhase.RUNNING, "", R.RECONCILED)
    first = compute(healthy, now=0)
    again = compute(healthy, previous=first, now=100)
    assert again == first  # nothing to write
    broken = compute(
        Case(team({1: AgentPhase.STARTING}), TeamPhase.PROGRESSING, "", R.RECONCILED), previous=again, now=200
    )
    times = {c.type: c.last_transition_time for c in broken.conditions or ()}
    assert times["Ready"] == stamp(200)
    assert times["Stalled"] == stamp(0)  # still False: unchanged


@pytest.mark.parametrize("case", CASES)
def test_progressing_and_ready_agree_with_ready_replicas(case: Case) -> None:
    status = compute(case)
    conditions = {c.type: c for c in status.conditions or ()}
    all_ready = status.ready_replicas == status.replicas
    if conditions["Progressing"].reason == R.ROLLOUT_COMPLETE:
        assert conditions["Progressing"].status == "False" and all_ready
    if conditions["Ready"].status == "True":
        assert all_ready and conditions["Progressing"].status == "False"
    if not all_ready and conditions["Stalled"].status == "False":
        assert conditions["Progressing"].status == "True"


def test_a_stalled_team_still_names_its_lost_node() -> None:
    lost = ScheduleDecision(None, SchedulingReason.NODES_NOT_READY, "0/1 nodes fit", lost_node="node-a")
    aborted = RolloutState(REV, OLD, RolloutPhase.ABORTED, message="rolled back to old")
    status = compute(Case(team(live=False), TeamPhase.DEGRADED, "", R.ROLLOUT_ABORTED, aborted, lost))
    conditions = {c.type: c for c in status.conditions or ()}
    assert conditions["Stalled"].status == "True"
    assert "node node-a lost (Lease expired)" in (conditions["Stalled"].message or "")
    assert "node node-a lost" in (conditions["Ready"].message or "")


def test_last_handled_is_absent_until_an_annotation_was_handled() -> None:
    healthy = Case(team(), TeamPhase.RUNNING, "", R.RECONCILED)
    assert "lastHandled" not in compute(healthy).to_wire()
    handled = compute_team_status(
        previous=AgentTeamStatus(),
        generation=3,
        agents=healthy.agents,
        rollout=healthy.rollout,
        policy=RolloutPolicy.from_spec(SPEC),
        schedule=healthy.schedule,
        last_handled=LastHandled(promote="p1"),
        progress=healthy.progress,
        now=at(0),
    )
    assert handled.to_wire()["lastHandled"] == {"promote": "p1"}


def test_progressing_time_marks_the_start_of_a_rollout_even_when_it_was_already_true() -> None:
    starting = compute(Case(team({2: AgentPhase.STARTING}), TeamPhase.PROGRESSING, "", R.RECONCILED), now=0)
    progressing = {c.type: c for c in starting.conditions or ()}["Progressing"]
    assert (progressing.status, progressing.reason) == ("True", R.AGENTS_NOT_READY)
    rolling = Case(
        team(old=3), TeamPhase.PROGRESSING, "", R.RECONCILED, RolloutState(REV, OLD, RolloutPhase.PROGRESSING)
    )
    started = {c.type: c for c in compute(rolling, previous=starting, now=50).conditions or ()}
    assert (started["Progressing"].reason, started["Progressing"].last_transition_time) == (
        R.ROLLOUT_IN_PROGRESS,
        stamp(50),
    )


def test_a_refused_workspace_stalls_the_team_naming_the_agent_and_the_problem() -> None:
    def with_workspace_condition(view: AgentView, reason: str, message: str) -> AgentView:
        assert view.observed is not None and view.observed.status is not None
        status = view.observed.status.model_copy(
            update={
                "phase": AgentPhase.PENDING,
                "ready": False,
                "conditions": [
                    Condition(
                        type="WorkspaceReady", status=ConditionStatus.FALSE, reason=reason, message=message
                    )
                ],
            }
        )
        return replace(view, observed=replace(view.observed, status=status))

    agents = team()
    preparing = [*agents[:2], with_workspace_condition(agents[2], "Preparing", "preparing"), agents[3]]
    status = compute(Case(preparing, TeamPhase.PROGRESSING, "InProgress", R.AGENTS_NOT_READY))
    assert status.phase is TeamPhase.PROGRESSING  # preparing is progress, not a problem
    refused = [
        *agents[:2],
        with_workspace_condition(agents[2], "MainCheckoutDirty", "README.md changed"),
        agents[3],
    ]
    status = compute(Case(refused, TeamPhase.DEGRADED, "Failed", R.WORKSPACE_NOT_READY))
    conditions = {c.type: c for c in status.conditions or ()}
    assert status.phase is TeamPhase.DEGRADED
    assert conditions["Stalled"].status == "True" and conditions["Stalled"].reason == R.WORKSPACE_NOT_READY
    assert conditions["Stalled"].message == (
        "1 agent(s) cannot start in their workspace: web-dev-1: MainCheckoutDirty: README.md changed"
    )
    assert conditions["Ready"].status == "False" and kstatus(status, 3) == "Failed"
