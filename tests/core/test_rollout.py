"""The rollout state machine, one transition per pass: which agents move, when a step passes, when a
rollout is promoted, paused, completed or rolled back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from tmux_orchestrator.api import AgentPhase, AgentTeamStatus, Condition, ConditionStatus, RolloutStatus
from tmux_orchestrator.core.agents import AgentKey, AgentView
from tmux_orchestrator.core.conditions import ConditionReason as R
from tmux_orchestrator.core.events import EventReason
from tmux_orchestrator.core.rollout import (
    RolloutDecision,
    RolloutPhase,
    RolloutPolicy,
    RolloutRecord,
    RolloutState,
    advance_rollout,
    agents_for_weight,
    rollout_order,
)

from .builders import at, dev_key, member, observed_agent, pm_key, stamp, team_spec

OLD, NEW, MID, NEWER = "old0000000", "new0000000", "mid0000000", "newer00000"
SPEC = team_spec(member("pm", role="pm"), member("dev", 19))
KEYS = [*(dev_key(i) for i in range(19)), pm_key()]  # rollout order: developers, then the PM


@pytest.mark.parametrize(
    ("total", "weight", "agents"),
    [
        pytest.param(20, 5, 1, id="20-at-5pct"),
        pytest.param(20, 50, 10, id="20-at-50pct"),
        pytest.param(20, 100, 20, id="20-at-100pct"),
        pytest.param(3, 50, 2, id="rounds-up"),
        pytest.param(1, 5, 1, id="at-least-one"),
        pytest.param(0, 50, 0, id="empty-team"),
    ],
)
def test_agents_for_weight(total: int, weight: int, agents: int) -> None:
    assert agents_for_weight(total, weight) == agents


def agents(
    moved: int = 0, *, new: str = NEW, old: str = OLD, live: bool = True, **status: Any
) -> list[AgentView]:
    """The 20-agent team with the first `moved` agents (rollout order) on `new`; `status` applies to them."""
    status = {"updated": -120, "started": -120, "ready_since": -100, **status}
    views = []
    for index, key in enumerate(KEYS):
        on_new = index < moved
        agent = observed_agent(
            SPEC, key.member, key.ordinal, revision=new if on_new else old, **(status if on_new else {})
        )
        views.append(AgentView(key, agent, live))
    return views


def test_rollout_order_puts_pm_last_and_interleaves_members() -> None:
    spec = team_spec(member("pm", role="pm"), member("dev", 2), member("qa", 2))
    keys = [
        pm_key(),
        dev_key(0),
        dev_key(1),
        AgentKey("web-qa-0", "qa", 2, 0, "qa"),
        AgentKey("web-qa-1", "qa", 2, 1, "qa"),
    ]
    views = [AgentView(k, observed_agent(spec, k.member, k.ordinal, revision=OLD), True) for k in keys]
    assert [v.name for v in rollout_order(views, OLD)] == [
        "web-dev-0",
        "web-qa-0",
        "web-dev-1",
        "web-qa-1",
        "web-pm-0",
    ]


def test_rollout_order_moves_agents_of_a_superseded_revision_first() -> None:
    views = [
        AgentView(k, observed_agent(SPEC, k.member, k.ordinal, revision=MID if k.ordinal == 5 else OLD), True)
        for k in KEYS
    ]
    assert rollout_order(views, OLD)[0].name == "web-dev-5"


def state(
    phase: RolloutPhase, step: int = 0, *, pause: R | None = None, current: str = NEW, stable: str = OLD
) -> RolloutState:
    return RolloutState(current, stable, phase, step, pause)


PROGRESSING = RolloutPhase.PROGRESSING
NO_PAUSE_STEPS = {
    "strategy": {"canary": {"steps": [{"name": "canary", "weight": 5}, {"name": "all", "weight": 100}]}}
}


@dataclass(frozen=True)
class Case:
    previous: RolloutState | None
    agents: list[AgentView]
    target: str = NEW
    promote: bool = False
    abort: bool = False
    paused_since: float | None = None
    resumed_at: float | None = None
    spec: dict[str, Any] = field(default_factory=dict)
    # expectations
    phase: RolloutPhase = PROGRESSING
    step: int = 0
    pause: R | None = None
    on_target: int | None = None
    current: str = NEW
    stable: str = OLD
    events: tuple[EventReason, ...] = ()
    promote_handled: bool = False
    abort_handled: bool = False
    message: str = ""
    wake_at: datetime | None = None


def run(case: Case) -> RolloutDecision:
    spec = team_spec(member("pm", role="pm"), member("dev", 19), **case.spec)
    paused_at = case.paused_since
    record = RolloutRecord(
        state=case.previous,
        paused_since=None if paused_at is None else at(paused_at),
        resumed_at=None if case.resumed_at is None else at(case.resumed_at),
    )
    return advance_rollout(
        policy=RolloutPolicy.from_spec(spec),
        target=case.target,
        record=record,
        agents=case.agents,
        promote_pending=case.promote,
        abort_pending=case.abort,
        now=at(0),
    )


CASES = [
    pytest.param(
        Case(
            None,
            [AgentView(k, None, False) for k in KEYS],
            phase=RolloutPhase.COMPLETE,
            on_target=20,
            stable=NEW,
        ),
        id="new-team-starts-complete",
    ),
    pytest.param(
        Case(
            state(RolloutPhase.COMPLETE, 2, current=OLD),
            agents(0),
            on_target=1,
            events=(EventReason.ROLLOUT_STARTED,),
        ),
        id="template-change-starts-the-canary-with-one-agent",
    ),
    pytest.param(
        Case(
            state(PROGRESSING),
            agents(1, phase=AgentPhase.STARTING),
            on_target=1,
            message="waiting for 1 updated agent",
        ),
        id="canary-waits-for-ready",
    ),
    pytest.param(
        Case(
            state(PROGRESSING),
            agents(1, ready_since=-10),
            on_target=1,
            message="analysis passes at",
            wake_at=at(20),
        ),
        id="canary-waits-min-ready-seconds",
    ),
    pytest.param(
        Case(
            state(PROGRESSING),
            agents(1, ready_since=-100),
            phase=RolloutPhase.STEP_PAUSED,
            pause=R.STEP_PAUSE,
            on_target=1,
            message=f"paused until {stamp(60)}",
            wake_at=at(60),
        ),
        id="healthy-canary-pauses",
    ),
    pytest.param(
        Case(
            state(RolloutPhase.STEP_PAUSED, pause=R.STEP_PAUSE),
            agents(1),
            paused_since=-30,
            phase=RolloutPhase.STEP_PAUSED,
            pause=R.STEP_PAUSE,
            on_target=1,
            wake_at=at(30),
        ),
        id="pause-running",
    ),
    pytest.param(
        Case(
            state(RolloutPhase.STEP_PAUSED, pause=R.STEP_PAUSE),
            agents(1),
            paused_since=-61,
            step=1,
            on_target=10,
            events=(EventReason.ROLLOUT_STEP_ADVANCED,),
        ),
        id="pause-over-moves-to-beta",
    ),
    pytest.param(
        Case(
            state(RolloutPhase.STEP_PAUSED, pause=R.STEP_PAUSE),
            agents(1),
            paused_since=-1,
            promote=True,
            step=1,
            on_target=10,
            events=(EventReason.ROLLOUT_PROMOTED,),
            promote_handled=True,
        ),
        id="promote-skips-the-pause",
    ),
    pytest.param(
        Case(
            state(RolloutPhase.STEP_PAUSED, pause=R.STEP_PAUSE),
            agents(1, phase=AgentPhase.STARTING),
            paused_since=-61,
            on_target=1,
            message="waiting for 1 updated agent",
        ),
        id="pause-over-but-step-unhealthy-waits-again",
    ),
    pytest.param(
        Case(
            state(PROGRESSING),
            agents(1),
            spec=NO_PAUSE_STEPS,
            phase=RolloutPhase.WAITING_FOR_PROMOTE,
            pause=R.WAITING_FOR_PROMOTE,
            on_target=1,
            events=(EventReason.ROLLOUT_PAUSED,),
            message="waiting for a promote",
        ),
        id="step-without-pause-waits-for-promote",
    ),
    pytest.param(
        Case(
            state(RolloutPhase.WAITING_FOR_PROMOTE, pause=R.WAITING_FOR_PROMOTE),
            agents(1),
            spec=NO_PAUSE_STEPS,
            paused_since=-86400,
            phase=RolloutPhase.WAITING_FOR_PROMOTE,
            pause=R.WAITING_FOR_PROMOTE,
            on_target=1,
        ),
        id="no-promote-waits-forever",
    ),
    pytest.param(
        Case(
            state(RolloutPhase.WAITING_FOR_PROMOTE, pause=R.WAITING_FOR_PROMOTE),
            agents(1),
            spec=NO_PAUSE_STEPS,
            promote=True,
            step=1,
            on_target=20,
            events=(EventReason.ROLLOUT_PROMOTED,),
            promote_handled=True,
        ),
        id="promote-ends-the-wait",
    ),
    pytest.param(
        Case(state(PROGRESSING), agents(1, phase=AgentPhase.STARTING), promote=True, on_target=1),
        id="early-promote-is-kept-for-the-pause",
    ),
    pytest.param(
        Case(
            state(PROGRESSING),
            agents(1),
            promote=True,
            step=1,
            on_target=10,
            events=(EventReason.ROLLOUT_PROMOTED,),
            promote_handled=True,
        ),
        id="early-promote-skips-the-pause-once-healthy",
    ),
    pytest.param(
        Case(
            state(PROGRESSING, 2),
            agents(20),
            phase=RolloutPhase.COMPLETE,
            stable=NEW,
            on_target=20,
            events=(EventReason.ROLLOUT_COMPLETED,),
        ),
        id="last-step-healthy-completes",
    ),
    pytest.param(
        Case(
            state(PROGRESSING),
            agents(1, restarts=1),
            phase=RolloutPhase.ABORTED,
            on_target=0,
            events=(EventReason.ROLLOUT_ABORTED,),
            message="1 crash(es) on revision new0000000 exceed maxCrashes 0: web-dev-0 (1)",
        ),
        id="crash-rolls-back-every-agent",
    ),
    pytest.param(
        Case(
            state(PROGRESSING),
            agents(1, restarts=1),
            spec={"strategy": {"canary": {"analysis": {"maxCrashes": 1}}}},
            phase=RolloutPhase.STEP_PAUSED,
            pause=R.STEP_PAUSE,
            on_target=1,
        ),
        id="crashes-within-max-crashes-pass",
    ),
    pytest.param(
        Case(
            state(RolloutPhase.STEP_PAUSED, pause=R.STEP_PAUSE),
            agents(1, phase=AgentPhase.FAILED),
            paused_since=-10,
            phase=RolloutPhase.ABORTED,
            on_target=0,
            events=(EventReason.ROLLOUT_ABORTED,),
        ),
        id="crash-during-pause-rolls-back",
    ),
    pytest.param(
        Case(
            state(PROGRESSING, 1),
            agents(10, restarts=2),
            spec={"strategy": {"canary": {"autoRollback": False}}},
            phase=RolloutPhase.HALTED,
            step=1,
            on_target=10,
            events=(EventReason.ROLLOUT_FAILED,),
            message="halted",
        ),
        id="no-auto-rollback-halts-in-place",
    ),
    pytest.param(
        Case(
            state(RolloutPhase.HALTED, 1),
            agents(10),
            abort=True,
            phase=RolloutPhase.ABORTED,
            step=1,
            on_target=0,
            abort_handled=True,
            events=(EventReason.ROLLOUT_ABORTED,),
        ),
        id="abort-rolls-back-a-halted-rollout",
    ),
    pytest.param(
        Case(
            state(PROGRESSING),
            agents(1, phase=AgentPhase.STARTING, started=None, updated=-601),
            phase=RolloutPhase.ABORTED,
            on_target=0,
            events=(EventReason.ROLLOUT_ABORTED,),
            message="web-dev-0 not Ready within progressDeadlineSeconds",
        ),
        id="progress-deadline-rolls-back",
    ),
    pytest.param(
        Case(
            state(PROGRESSING),
            agents(1, phase=AgentPhase.STARTING, started=None, updated=-601),
            resumed_at=-10,
            on_target=1,
            wake_at=at(590),
        ),
        id="deadline-restarts-when-a-pause-ends",
    ),
    pytest.param(
        Case(state(PROGRESSING), agents(1, live=False, updated=-3600), on_target=1, message="waiting for 1"),
        id="time-on-a-lost-node-does-not-count",
    ),
    pytest.param(
        Case(
            state(PROGRESSING, 1),
            agents(10),
            abort=True,
            phase=RolloutPhase.ABORTED,
            step=1,
            on_target=0,
            abort_handled=True,
            events=(EventReason.ROLLOUT_ABORTED,),
            message="abort requested",
        ),
        id="abort-annotation",
    ),
    pytest.param(
        Case(
            state(RolloutPhase.COMPLETE, 2, current=NEW, stable=NEW),
            agents(20),
            abort=True,
            promote=True,
            phase=RolloutPhase.COMPLETE,
            step=2,
            stable=NEW,
            on_target=20,
            abort_handled=True,
            promote_handled=True,
        ),
        id="controls-without-a-rollout-are-consumed",
    ),
    pytest.param(
        Case(
            state(RolloutPhase.ABORTED, 1),
            agents(0),
            phase=RolloutPhase.ABORTED,
            step=1,
            on_target=0,
        ),
        id="aborted-stays-rolled-back",
    ),
    pytest.param(
        Case(
            state(RolloutPhase.ABORTED, 1),
            agents(0),
            target=NEWER,
            current=NEWER,
            on_target=1,
            events=(EventReason.ROLLOUT_STARTED,),
        ),
        id="next-template-change-starts-from-stable",
    ),
    pytest.param(
        Case(
            state(PROGRESSING),
            agents(0),
            spec={"paused": True},
            pause=R.SPEC_PAUSED,
            on_target=0,
            message="paused by spec.paused",
        ),
        id="spec-paused-freezes",
    ),
    pytest.param(
        Case(state(PROGRESSING, pause=R.SPEC_PAUSED), agents(0), on_target=1, message="resumed"),
        id="resume",
    ),
    pytest.param(
        Case(
            state(PROGRESSING, 1),
            agents(10),
            target=OLD,
            phase=RolloutPhase.COMPLETE,
            current=OLD,
            on_target=20,
            events=(EventReason.ROLLOUT_REVERTED,),
        ),
        id="template-reverted-to-stable-returns-at-once",
    ),
    pytest.param(
        Case(
            state(PROGRESSING, 1, current=MID),
            agents(10, new=MID),
            target=NEWER,
            current=NEWER,
            on_target=1,
            events=(EventReason.ROLLOUT_STARTED,),
        ),
        id="superseded-rollout-restarts-at-canary",
    ),
    pytest.param(
        Case(None, agents(5), step=1, on_target=10),
        id="status-lost-resumes-at-the-step-covering-updated-agents",
    ),
    pytest.param(
        Case(None, agents(20), phase=RolloutPhase.COMPLETE, stable=NEW, on_target=20),
        id="status-lost-all-current",
    ),
    pytest.param(
        Case(
            state(RolloutPhase.COMPLETE, current=OLD),
            agents(0),
            spec={"strategy": {"type": "AllAtOnce"}},
            on_target=20,
            events=(EventReason.ROLLOUT_STARTED,),
        ),
        id="all-at-once-moves-everyone",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_rollout_transition(case: Case) -> None:
    decision = run(case)
    got = decision.state
    assert (got.phase, got.step_index, got.pause) == (case.phase, case.step, case.pause)
    assert (got.current_revision, got.stable_revision) == (case.current, case.stable)
    if case.on_target is not None:
        assert sum(1 for r in decision.targets.values() if r == case.current) == case.on_target
    assert tuple(e.reason for e in decision.events) == case.events
    assert (decision.promote_handled, decision.abort_handled) == (case.promote_handled, case.abort_handled)
    assert case.message in got.message
    if case.wake_at is not None:
        assert decision.wake_at == case.wake_at


@pytest.mark.parametrize(
    ("step", "pm_on_new"),
    [
        pytest.param(0, False, id="canary"),
        pytest.param(1, False, id="beta"),
        pytest.param(2, True, id="production"),
    ],
)
def test_pm_moves_only_in_the_last_step(step: int, pm_on_new: bool) -> None:
    decision = run(Case(state(PROGRESSING, step), agents(0)))
    assert (decision.targets["web-pm-0"] == NEW) is pm_on_new


def test_superseded_rollout_moves_its_own_agents_first() -> None:
    decision = run(Case(state(PROGRESSING, 1, current=MID), agents(10, new=MID), target=NEWER))
    moved = [name for name, revision in decision.targets.items() if revision == NEWER]
    assert moved == ["web-dev-0"]
    assert decision.targets["web-dev-10"] == OLD and decision.targets["web-dev-1"] == MID


def test_agents_already_on_the_new_revision_are_never_moved_back_during_a_rollout() -> None:
    decision = run(Case(state(PROGRESSING, 0), agents(10)))  # more than the canary asks for
    assert sum(1 for r in decision.targets.values() if r == NEW) == 10


def condition(kind: str, status: bool, reason: R, since: float = -5) -> Condition:
    value = ConditionStatus.TRUE if status else ConditionStatus.FALSE
    return Condition(type=kind, status=value, reason=reason, last_transition_time=stamp(since))


@pytest.mark.parametrize(
    ("progressing", "paused", "phase", "pause"),
    [
        pytest.param(
            (False, R.ROLLOUT_COMPLETE), (False, R.NOT_PAUSED), RolloutPhase.COMPLETE, None, id="complete"
        ),
        pytest.param(
            (True, R.ROLLOUT_IN_PROGRESS), (False, R.NOT_PAUSED), PROGRESSING, None, id="progressing"
        ),
        pytest.param(
            (True, R.ROLLOUT_IN_PROGRESS),
            (True, R.STEP_PAUSE),
            RolloutPhase.STEP_PAUSED,
            R.STEP_PAUSE,
            id="step-pause",
        ),
        pytest.param(
            (True, R.ROLLOUT_IN_PROGRESS),
            (True, R.WAITING_FOR_PROMOTE),
            RolloutPhase.WAITING_FOR_PROMOTE,
            R.WAITING_FOR_PROMOTE,
            id="waiting-for-promote",
        ),
        pytest.param(
            (True, R.ROLLOUT_IN_PROGRESS), (True, R.SPEC_PAUSED), PROGRESSING, R.SPEC_PAUSED, id="spec-paused"
        ),
        pytest.param(
            (False, R.ROLLOUT_ABORTED), (False, R.NOT_PAUSED), RolloutPhase.ABORTED, None, id="aborted"
        ),
        pytest.param(
            (False, R.ROLLOUT_FAILED), (False, R.NOT_PAUSED), RolloutPhase.HALTED, None, id="halted"
        ),
    ],
)
def test_record_is_read_back_from_status(
    progressing: tuple[bool, R], paused: tuple[bool, R], phase: RolloutPhase, pause: R | None
) -> None:
    status = AgentTeamStatus(
        current_revision=NEW,
        stable_revision=OLD,
        rollout=RolloutStatus(step_index=1, message="m"),
        conditions=[
            condition("Progressing", *progressing, since=-100),
            condition("Paused", *paused, since=-7),
        ],
    )
    record = RolloutRecord.from_status(status)
    assert record.state == RolloutState(NEW, OLD, phase, 1, pause, "m")
    assert (record.paused_since, record.resumed_at) == ((at(-7), None) if pause else (None, at(-7)))


@pytest.mark.parametrize(
    "status",
    [
        pytest.param(AgentTeamStatus(), id="empty"),
        pytest.param(AgentTeamStatus(current_revision=NEW, stable_revision=OLD), id="no-conditions"),
        pytest.param(
            AgentTeamStatus(
                current_revision=NEW,
                stable_revision=OLD,
                conditions=[condition("Progressing", True, R.SCALING)],
            ),
            id="foreign-reason",
        ),
    ],
)
def test_unreadable_record_means_reconstruct(status: AgentTeamStatus) -> None:
    assert RolloutRecord.from_status(status).state is None
