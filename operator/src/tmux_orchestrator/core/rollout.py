"""The staged rollout state machine (Argo Rollouts' canary, reduced to what a team of agents needs).

State lives only in the team status, written before any agent is touched (see plan.py), plus facts stamped
on Agents in the same patch that moves them (revision-updated-at, restarts-at-update):

- currentRevision / stableRevision, rollout.stepIndex and rollout.message (why a rollout stopped);
- the Progressing condition's reason tells the phase: RolloutInProgress, RolloutComplete, RolloutAborted
  (rolled back), RolloutFailed (halted, autoRollback off); its lastTransitionTime is when the rollout began;
- the Paused condition (True while spec.paused, in a step pause, or waiting for a promote); its
  lastTransitionTime is when the pause began (True) or ended (False). A step's pause therefore ends at
  Paused.lastTransitionTime + pauseSeconds, with no extra field.

Each pass makes at most one transition. Which agents a step moves is a pure function of the step and what
agents carry: agents already on currentRevision are never picked again and never moved back except by a
rollback, so a pass replayed after a crash cannot update an agent twice or skip a step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from tmux_orchestrator.api.constants import ANNOTATION_ABORT, ANNOTATION_PROMOTE
from tmux_orchestrator.api.team import AgentTeamSpec, AgentTeamStatus, RolloutStatus, StrategyType

from .agents import AgentView
from .clock import format_time
from .conditions import ConditionReason, ConditionType, condition_since, find_condition, is_true
from .events import EventReason, TeamEvent, team_event


class RolloutPhase(StrEnum):
    COMPLETE = "Complete"
    PROGRESSING = "Progressing"
    STEP_PAUSED = "StepPaused"
    WAITING_FOR_PROMOTE = "WaitingForPromote"
    ABORTED = "Aborted"
    HALTED = "Halted"


IN_PROGRESS: Final = frozenset(
    {RolloutPhase.PROGRESSING, RolloutPhase.STEP_PAUSED, RolloutPhase.WAITING_FOR_PROMOTE}
)
ABORTED_STAGE: Final = "aborted"
_PAUSED_BY_SPEC: Final = "paused by spec.paused"

_PROGRESSING_REASON = {
    RolloutPhase.COMPLETE: ConditionReason.ROLLOUT_COMPLETE,
    RolloutPhase.ABORTED: ConditionReason.ROLLOUT_ABORTED,
    RolloutPhase.HALTED: ConditionReason.ROLLOUT_FAILED,
}
_PHASE_OF_REASON = {reason: phase for phase, reason in _PROGRESSING_REASON.items()} | {
    # A complete rollout whose agents are not all Ready (or one of them Failed): Progressing says why.
    ConditionReason.AGENTS_NOT_READY: RolloutPhase.COMPLETE,
    ConditionReason.AGENT_FAILED: RolloutPhase.COMPLETE,
}
_PHASE_OF_PAUSE = {
    ConditionReason.STEP_PAUSE: RolloutPhase.STEP_PAUSED,
    ConditionReason.WAITING_FOR_PROMOTE: RolloutPhase.WAITING_FOR_PROMOTE,
}


@dataclass(frozen=True)
class RolloutStep:
    name: str
    weight: int
    pause_seconds: int | None = None
    """Pause after the step is healthy; None waits for a promote. Ignored on the last step."""


ALL_AT_ONCE_STEP: Final = RolloutStep("all-at-once", 100, 0)


def agents_for_weight(total: int, weight: int) -> int:
    """Agents on the new revision once a step of `weight` percent is reached: max(1, ceil(N*w/100))."""
    if total == 0:
        return 0
    return min(total, max(1, -(-total * weight // 100)))


@dataclass(frozen=True)
class RolloutPolicy:
    steps: tuple[RolloutStep, ...]
    min_ready_seconds: int = 0
    max_crashes: int = 0
    auto_rollback: bool = True
    progress_deadline_seconds: int = 600
    paused: bool = False

    @classmethod
    def from_spec(cls, spec: AgentTeamSpec) -> RolloutPolicy:
        """AllAtOnce is a single step of 100%, with the same analysis and rollback as a canary."""
        canary = spec.strategy.canary
        steps = (
            (ALL_AT_ONCE_STEP,)
            if spec.strategy.type is StrategyType.ALL_AT_ONCE
            else tuple(RolloutStep(s.name, s.weight, s.pause_seconds) for s in canary.steps)
        )
        return cls(
            steps=steps,
            min_ready_seconds=canary.analysis.min_ready_seconds,
            max_crashes=canary.analysis.max_crashes,
            auto_rollback=canary.auto_rollback,
            progress_deadline_seconds=spec.progress_deadline_seconds,
            paused=spec.paused,
        )

    def step(self, index: int) -> RolloutStep:
        return self.steps[min(index, len(self.steps) - 1)]

    def is_last(self, index: int) -> bool:
        return index >= len(self.steps) - 1


@dataclass(frozen=True)
class RolloutState:
    current_revision: str
    stable_revision: str
    phase: RolloutPhase
    step_index: int = 0
    pause: ConditionReason | None = None
    """Why the rollout is paused (the Paused condition's reason), None when it is not."""
    message: str = ""

    @property
    def in_progress(self) -> bool:
        return self.phase in IN_PROGRESS

    @property
    def progressing_reason(self) -> ConditionReason:
        return _PROGRESSING_REASON.get(self.phase, ConditionReason.ROLLOUT_IN_PROGRESS)

    def to_status(self, policy: RolloutPolicy) -> RolloutStatus:
        step = policy.step(self.step_index)
        index = min(self.step_index, len(policy.steps) - 1)
        if self.phase is RolloutPhase.COMPLETE:
            last = policy.steps[-1]
            return RolloutStatus(stage=last.name, step_index=len(policy.steps) - 1, weight=100, message="")
        if self.phase is RolloutPhase.ABORTED:
            return RolloutStatus(stage=ABORTED_STAGE, step_index=index, weight=0, message=self.message)
        return RolloutStatus(stage=step.name, step_index=index, weight=step.weight, message=self.message)


@dataclass(frozen=True)
class RolloutRecord:
    """The previous pass's rollout, read back from the team status."""

    state: RolloutState | None = None
    paused_since: datetime | None = None
    """Paused.lastTransitionTime while Paused is True."""
    resumed_at: datetime | None = None
    """Paused.lastTransitionTime while Paused is False: when the last pause ended."""
    started_at: datetime | None = None
    """Progressing.lastTransitionTime while a rollout is in progress."""

    @classmethod
    def from_status(cls, status: AgentTeamStatus) -> RolloutRecord:
        conditions = status.conditions
        progressing = find_condition(conditions, ConditionType.PROGRESSING)
        paused = find_condition(conditions, ConditionType.PAUSED)
        if status.current_revision is None or status.stable_revision is None or progressing is None:
            return cls()
        reason = _reason(progressing.reason)
        pause = _reason(paused.reason) if is_true(conditions, ConditionType.PAUSED) and paused else None
        if reason in _PHASE_OF_REASON:
            phase = _PHASE_OF_REASON[reason]
        elif reason is ConditionReason.ROLLOUT_IN_PROGRESS:
            phase = (
                _PHASE_OF_PAUSE.get(pause, RolloutPhase.PROGRESSING) if pause else RolloutPhase.PROGRESSING
            )
        else:
            return cls()
        rollout = status.rollout or RolloutStatus()
        state = RolloutState(
            current_revision=status.current_revision,
            stable_revision=status.stable_revision,
            phase=phase,
            step_index=rollout.step_index or 0,
            pause=pause,
            message=rollout.message or "",
        )
        since = condition_since(conditions, ConditionType.PAUSED)
        return cls(
            state=state,
            paused_since=since if pause else None,
            resumed_at=None if pause else since,
            started_at=condition_since(conditions, ConditionType.PROGRESSING) if state.in_progress else None,
        )


def _reason(text: str | None) -> ConditionReason | None:
    return ConditionReason(text) if text is not None and text in ConditionReason._value2member_map_ else None


@dataclass(frozen=True)
class RolloutDecision:
    state: RolloutState
    targets: Mapping[str, str]
    """Revision each declared agent should carry after this pass, by agent name."""
    transitioned: bool = False
    promote_handled: bool = False
    """The pending promote annotation was acted on (echo it into status.lastHandled)."""
    abort_handled: bool = False
    events: tuple[TeamEvent, ...] = ()
    wake_at: datetime | None = None
    """When the rollout may change on its own (pause end, minReadySeconds, deadline)."""


@dataclass(frozen=True)
class _Pass:
    policy: RolloutPolicy
    target: str
    record: RolloutRecord
    agents: Sequence[AgentView]
    promote_pending: bool
    abort_pending: bool
    now: datetime


@dataclass(frozen=True)
class _Outcome:
    state: RolloutState
    transitioned: bool = False
    promote_used: bool = False
    abort_used: bool = False
    events: tuple[TeamEvent, ...] = ()
    wake_at: datetime | None = None


@dataclass(frozen=True)
class _Health:
    healthy: bool
    message: str
    wake_at: datetime | None = None


def rollout_order(agents: Sequence[AgentView], stable: str) -> list[AgentView]:
    """Order in which agents move: PM agents last; agents left on an older, superseded rollout's revision
    first (they already run neither stable nor current); then by ordinal across members, so a canary
    samples every member before a second agent of any one."""
    return sorted(
        agents,
        key=lambda a: (a.key.is_pm, a.revision in (None, stable), a.key.ordinal, a.key.member_index),
    )


def advance_rollout(
    *,
    policy: RolloutPolicy,
    target: str,
    record: RolloutRecord,
    agents: Sequence[AgentView],
    promote_pending: bool = False,
    abort_pending: bool = False,
    now: datetime,
) -> RolloutDecision:
    """One pass of the machine: at most one transition from `record`, then the revision of every agent.

    `target` is the revision of the current spec; `agents` the declared agents; `*_pending` whether the
    promote/abort annotation holds a value not yet in status.lastHandled."""
    ctx = _Pass(policy, target, record, agents, promote_pending, abort_pending, now)
    outcome = _transition(ctx)
    return RolloutDecision(
        state=outcome.state,
        targets=_targets(ctx, outcome.state),
        transitioned=outcome.transitioned,
        promote_handled=outcome.promote_used,
        abort_handled=outcome.abort_used,
        events=outcome.events,
        wake_at=outcome.wake_at,
    )


def _transition(ctx: _Pass) -> _Outcome:
    previous = ctx.record.state
    if previous is None:
        return _reconstruct(ctx)
    if ctx.target != previous.current_revision:
        return _new_revision(ctx, previous)
    spec_pause = ConditionReason.SPEC_PAUSED if ctx.policy.paused else None
    if previous.phase in (RolloutPhase.COMPLETE, RolloutPhase.ABORTED):
        state = replace(previous, pause=spec_pause)
        return _Outcome(state, state != previous, ctx.promote_pending, ctx.abort_pending)
    if previous.phase is RolloutPhase.HALTED:
        if ctx.abort_pending:
            return _abort(ctx, previous, "abort requested", requested=True)
        return _Outcome(
            replace(previous, pause=spec_pause), previous.pause != spec_pause, ctx.promote_pending
        )
    return _in_progress(ctx, previous)


def _reconstruct(ctx: _Pass) -> _Outcome:
    """First pass, or a status lost (e.g. restored from a backup without status): read the revisions
    agents carry. The majority is taken as stable; if the spec's revision is not it, the rollout resumes
    at the first step that already covers the agents carrying the spec's revision."""
    counts = Counter(a.revision for a in ctx.agents if a.revision)
    stable = max(counts, key=lambda r: (counts[r], r == ctx.target, r), default=ctx.target)
    if stable == ctx.target:
        state = RolloutState(ctx.target, ctx.target, RolloutPhase.COMPLETE, pause=_spec_pause(ctx))
        return _Outcome(state, transitioned=True)
    updated = counts[ctx.target]
    total = len(ctx.agents)
    index = next(
        (i for i, step in enumerate(ctx.policy.steps) if agents_for_weight(total, step.weight) >= updated),
        len(ctx.policy.steps) - 1,
    )
    state = RolloutState(ctx.target, stable, RolloutPhase.PROGRESSING, index, _spec_pause(ctx))
    return _Outcome(state, transitioned=True)


def _spec_pause(ctx: _Pass) -> ConditionReason | None:
    return ConditionReason.SPEC_PAUSED if ctx.policy.paused else None


def _new_revision(ctx: _Pass, previous: RolloutState) -> _Outcome:
    stable = previous.stable_revision
    when = format_time(ctx.now)
    if ctx.target == stable:
        state = RolloutState(ctx.target, ctx.target, RolloutPhase.COMPLETE, pause=_spec_pause(ctx))
        event = team_event(
            EventReason.ROLLOUT_REVERTED,
            f"template reverted to stable revision {stable}; "
            f"agents on {previous.current_revision} return to it",
            occasion=when,
        )
        return _Outcome(state, True, events=(event,))
    first = ctx.policy.steps[0]
    count = agents_for_weight(len(ctx.agents), first.weight)
    message = _PAUSED_BY_SPEC if ctx.policy.paused else _moving(first, count)
    state = RolloutState(ctx.target, stable, RolloutPhase.PROGRESSING, 0, _spec_pause(ctx), message)
    event = team_event(
        EventReason.ROLLOUT_STARTED,
        f"rolling out revision {ctx.target} over stable {stable}: step {first.name} ({first.weight}%)",
        occasion=when,
    )
    return _Outcome(state, True, events=(event,))


def _moving(step: RolloutStep, count: int) -> str:
    return f"step {step.name} ({step.weight}%): moving {count} agent(s) to the new revision"


def _in_progress(ctx: _Pass, previous: RolloutState) -> _Outcome:
    if ctx.abort_pending:
        return _abort(ctx, previous, "abort requested", requested=True)
    failure = _crash_failure(ctx, previous)
    if failure:
        return _abort(ctx, previous, failure, requested=False)
    if ctx.policy.paused:
        state = replace(
            previous,
            phase=RolloutPhase.PROGRESSING,
            pause=ConditionReason.SPEC_PAUSED,
            message=_PAUSED_BY_SPEC,
        )
        return _Outcome(state, state != previous)
    if previous.pause is ConditionReason.SPEC_PAUSED:
        state = replace(previous, phase=RolloutPhase.PROGRESSING, pause=None, message="resumed")
        return _Outcome(state, True)
    health = _step_health(ctx, previous)
    if previous.phase is RolloutPhase.PROGRESSING:
        failure, deadline_wake = _deadline_failure(ctx, previous)
        if failure:
            return _abort(ctx, previous, failure, requested=False)
        if not health.healthy:
            state = replace(previous, message=health.message)
            return _Outcome(state, wake_at=_earliest(health.wake_at, deadline_wake))
        return _step_healthy(ctx, previous)
    pause_end = None
    if previous.phase is RolloutPhase.STEP_PAUSED:
        pause_seconds = ctx.policy.step(previous.step_index).pause_seconds or 0
        # A pause whose start was not recorded cannot be timed; it counts as over rather than endless.
        since = ctx.record.paused_since
        pause_end = since + timedelta(seconds=pause_seconds) if since else ctx.now
    pause_over = ctx.promote_pending or (pause_end is not None and ctx.now >= pause_end)
    if not pause_over:
        return _Outcome(previous, wake_at=pause_end)
    if not health.healthy:
        # The pause is over but the step is no longer healthy: wait for it again, deadline running.
        return _Outcome(
            replace(previous, phase=RolloutPhase.PROGRESSING, pause=None, message=health.message), True
        )
    return _advance(ctx, previous, promoted=ctx.promote_pending)


def _step_healthy(ctx: _Pass, previous: RolloutState) -> _Outcome:
    index = previous.step_index
    step = ctx.policy.step(index)
    if ctx.policy.is_last(index):
        state = RolloutState(previous.current_revision, previous.current_revision, RolloutPhase.COMPLETE)
        event = team_event(
            EventReason.ROLLOUT_COMPLETED,
            f"revision {previous.current_revision} rolled out to every agent",
            occasion=format_time(ctx.now),
        )
        return _Outcome(state, True, events=(event,))
    if ctx.promote_pending or step.pause_seconds == 0:
        return _advance(ctx, previous, promoted=ctx.promote_pending)
    if step.pause_seconds is None:
        state = replace(
            previous,
            phase=RolloutPhase.WAITING_FOR_PROMOTE,
            pause=ConditionReason.WAITING_FOR_PROMOTE,
            message=f"step {step.name} healthy; waiting for a promote (annotate {ANNOTATION_PROMOTE})",
        )
        event = team_event(EventReason.ROLLOUT_PAUSED, state.message, occasion=format_time(ctx.now))
        return _Outcome(state, True, events=(event,))
    end = ctx.now + timedelta(seconds=step.pause_seconds)
    state = replace(
        previous,
        phase=RolloutPhase.STEP_PAUSED,
        pause=ConditionReason.STEP_PAUSE,
        message=f"step {step.name} healthy; paused until {format_time(end)} (promote to skip)",
    )
    return _Outcome(state, True, wake_at=end)


def _advance(ctx: _Pass, previous: RolloutState, *, promoted: bool) -> _Outcome:
    index = previous.step_index + 1
    step = ctx.policy.step(index)
    count = agents_for_weight(len(ctx.agents), step.weight)
    state = replace(
        previous, phase=RolloutPhase.PROGRESSING, step_index=index, pause=None, message=_moving(step, count)
    )
    reason = EventReason.ROLLOUT_PROMOTED if promoted else EventReason.ROLLOUT_STEP_ADVANCED
    verb = "promoted to" if promoted else "advanced to"
    event = team_event(
        reason,
        f"revision {previous.current_revision} {verb} step {step.name} ({step.weight}%, {count} agent(s))",
        occasion=format_time(ctx.now),
    )
    return _Outcome(state, True, promote_used=promoted, events=(event,))


def _abort(ctx: _Pass, previous: RolloutState, why: str, *, requested: bool) -> _Outcome:
    when = format_time(ctx.now)
    if requested or ctx.policy.auto_rollback:
        message = f"rolled back to {previous.stable_revision}: {why}"
        state = replace(previous, phase=RolloutPhase.ABORTED, pause=_spec_pause(ctx), message=message)
        event = team_event(
            EventReason.ROLLOUT_ABORTED, f"revision {previous.current_revision} {message}", occasion=when
        )
    else:
        message = f"halted: {why}; annotate {ANNOTATION_ABORT} to roll back"
        state = replace(previous, phase=RolloutPhase.HALTED, pause=_spec_pause(ctx), message=message)
        event = team_event(
            EventReason.ROLLOUT_FAILED, f"revision {previous.current_revision} {message}", occasion=when
        )
    return _Outcome(state, True, abort_used=requested, events=(event,))


def _updated(ctx: _Pass, state: RolloutState) -> list[AgentView]:
    return [a for a in ctx.agents if a.revision == state.current_revision]


def _crash_failure(ctx: _Pass, state: RolloutState) -> str:
    crashes = {a.name: a.crashes_since_update for a in _updated(ctx, state)}
    total = sum(crashes.values())
    if total <= ctx.policy.max_crashes:
        return ""
    detail = ", ".join(f"{name} ({n})" for name, n in sorted(crashes.items()) if n)
    return (
        f"{total} crash(es) on revision {state.current_revision} "
        f"exceed maxCrashes {ctx.policy.max_crashes}: {detail}"
    )


def _deadline_failure(ctx: _Pass, state: RolloutState) -> tuple[str, datetime | None]:
    """An updated agent on a live node not Ready within progressDeadlineSeconds of its update, of its
    process start, or of the end of the last pause, whichever is latest. Time with the team's node lost
    does not count against the revision (agents restart on the new node)."""
    deadline = timedelta(seconds=ctx.policy.progress_deadline_seconds)
    wake: datetime | None = None
    for agent in _updated(ctx, state):
        if not agent.node_live or agent.ready_at(state.current_revision):
            continue
        since = [agent.updated_at, agent.started_at, ctx.record.resumed_at, ctx.record.started_at]
        reference = max((t for t in since if t is not None), default=ctx.now)
        if ctx.now >= reference + deadline:
            return (
                f"agent {agent.name} not Ready within progressDeadlineSeconds "
                f"({ctx.policy.progress_deadline_seconds}s)",
                None,
            )
        wake = _earliest(wake, reference + deadline)
    return "", wake


def _step_health(ctx: _Pass, state: RolloutState) -> _Health:
    step = ctx.policy.step(state.step_index)
    wanted = agents_for_weight(len(ctx.agents), step.weight)
    updated = _updated(ctx, state)
    if len(updated) < wanted:
        return _Health(False, _moving(step, wanted - len(updated)))
    not_ready = sorted(a.name for a in updated if not a.ready_at(state.current_revision))
    if not_ready:
        names = ", ".join(not_ready)
        return _Health(
            False, f"step {step.name}: waiting for {len(not_ready)} updated agent(s) to be Ready: {names}"
        )
    min_ready = timedelta(seconds=ctx.policy.min_ready_seconds)
    # An agent that reports no time it became Ready is taken as Ready long enough: nothing could be measured.
    passes = [a.ready_since + min_ready for a in updated if a.ready_since is not None]
    analysis_end = max(passes, default=ctx.now)
    if analysis_end > ctx.now:
        return _Health(
            False,
            f"step {step.name}: agents Ready; analysis passes at {format_time(analysis_end)}",
            analysis_end,
        )
    return _Health(True, "")


def _targets(ctx: _Pass, state: RolloutState) -> dict[str, str]:
    current, stable = state.current_revision, state.stable_revision
    if state.phase is RolloutPhase.COMPLETE:
        return {a.name: current for a in ctx.agents}
    if state.phase is RolloutPhase.ABORTED:
        return {a.name: stable for a in ctx.agents}
    targets = {a.name: a.revision or stable for a in ctx.agents}
    if state.phase is not RolloutPhase.PROGRESSING or state.pause is not None:
        return targets
    wanted = agents_for_weight(len(ctx.agents), ctx.policy.step(state.step_index).weight)
    missing = wanted - sum(1 for a in ctx.agents if a.revision == current)
    for agent in rollout_order([a for a in ctx.agents if a.revision != current], stable):
        if missing <= 0:
            break
        targets[agent.name] = current
        missing -= 1
    return targets


def _earliest(*moments: datetime | None) -> datetime | None:
    return min((m for m in moments if m is not None), default=None)
