"""What the operator tells the PM, as AgentMessages, and the Warning events about failed agents.

Every notification is wanted *as long as its cause is observed* and is named after that cause, so creating
it again (operator restarted, stale cache) is an AlreadyExists, never a second message:
- recovery briefing: per PM incarnation (node, process start, restart count) not yet briefed; the incarnation
  briefed last is stamped on the PM Agent (annotation) after the message is created;
- failed agent: per agent failure (the agent's incarnation when it reached Failed);
- rollout stopped: per rollout (revisions and the time it stopped, i.e. Progressing.lastTransitionTime);
- idle report: per batch of idle episodes (agent + lastActivityTime) not covered by the previous report,
  at most one per monitoring.reportCooldownSeconds, measured from the previous report's creation.
"""

from __future__ import annotations

import textwrap
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from tmux_orchestrator.api.agent import Activity, AgentPhase
from tmux_orchestrator.api.constants import ANNOTATION_RESTARTED_AT, API_VERSION, LABEL_NODE, LABEL_TEAM
from tmux_orchestrator.api.message import AgentMessageSpec, DeliverWhen, MessagePhase
from tmux_orchestrator.api.team import AgentTeamSpec

from .agents import AgentView
from .clock import format_time
from .events import EventReason, TeamEvent, team_event
from .naming import (
    ANNOTATION_BRIEFED_INCARNATION,
    BRIEFED_INITIAL,
    LABEL_ABOUT,
    LABEL_AGENT,
    LABEL_NOTIFICATION,
    MESSAGE_KIND,
    bounded_name,
    short_hash,
)
from .observed import ObservedMessage
from .rollout import RolloutPhase, RolloutState

MESSAGE_HISTORY_PER_KIND: Final = 10
"""Finished notifications kept per kind; older ones are deleted."""

_IDLE = frozenset({Activity.IDLE, Activity.WAITING_FOR_INPUT})
_FINISHED = frozenset({MessagePhase.DELIVERED, MessagePhase.FAILED, MessagePhase.EXPIRED})
_HEADER: Final = "[tmux-orchestrator]"


class NotificationKind(StrEnum):
    RECOVERY_BRIEFING = "recovery-briefing"
    AGENT_FAILED = "agent-failed"
    IDLE_REPORT = "idle-report"
    ROLLOUT_STOPPED = "rollout-stopped"
    CHECK_IN = "check-in"


@dataclass(frozen=True)
class Notification:
    """An AgentMessage to create."""

    name: str
    kind: NotificationKind
    spec: AgentMessageSpec
    about: str | None = None
    """The agent the notification is about, if one."""
    node: str | None = None
    """Node of the target agent: the message is routed to its node agent from creation on."""

    def to_wire(self, team: str, namespace: str, owner: Mapping[str, Any]) -> dict[str, Any]:
        labels = {LABEL_TEAM: team, LABEL_NOTIFICATION: self.kind.value}
        if self.about:
            labels[LABEL_ABOUT] = self.about
        if self.spec.agent:
            labels[LABEL_AGENT] = self.spec.agent
            labels[LABEL_NODE] = self.node or ""
        return {
            "apiVersion": API_VERSION,
            "kind": MESSAGE_KIND,
            "metadata": {
                "name": self.name,
                "namespace": namespace,
                "labels": labels,
                "ownerReferences": [dict(owner)],
            },
            "spec": self.spec.to_wire(),
        }


@dataclass(frozen=True)
class NotificationPlan:
    messages: tuple[Notification, ...] = ()
    """Notifications wanted now; each may already exist (then creating it is a no-op)."""
    briefed: Mapping[str, str] | None = None
    """PM agent name → incarnation to stamp as briefed (ANNOTATION_BRIEFED_INCARNATION)."""
    events: tuple[TeamEvent, ...] = ()
    to_delete: tuple[str, ...] = ()
    """Finished notifications beyond the history kept per kind."""
    wake_at: datetime | None = None


def _message(
    name: str, kind: NotificationKind, to: AgentView, text: str, about: str | None = None
) -> Notification:
    spec = AgentMessageSpec(agent=to.name, text=text, deliver=DeliverWhen.WHEN_IDLE)
    return Notification(name, kind, spec, about, to.node)


def _describe(agent: AgentView) -> str:
    activity = agent.activity.value if agent.activity else "Unknown"
    status = agent.status
    if status is not None and status.activity_source is not None:
        activity += f" (by {status.activity_source.value.lower()})"  # its own hooks, or its screen
    state = f"{agent.phase.value}, {activity}, revision {agent.revision or '-'}"
    line = f"- {agent.name} ({agent.key.member}, {agent.key.role}): {state}"
    if status is not None and status.last_assistant_message:
        line += "\n  last answer: " + textwrap.shorten(status.last_assistant_message, 200, placeholder="…")
    return line


def _branch_line(agent: AgentView) -> str | None:
    """Where a developer's work is, for the PM to review and merge; None for agents without a branch."""
    workspace = agent.workspace
    if agent.key.is_pm or workspace is None or not workspace.branch:
        return None
    template = agent.observed.spec.template if agent.observed else None
    base = template.workspace.base_branch if template and template.workspace else "the base branch"
    ahead = (
        f"{workspace.ahead_of_base} commit(s) ahead of {base}" if workspace.ahead_of_base is not None else ""
    )
    dirty = "uncommitted changes" if workspace.dirty else ""
    details = ", ".join(part for part in (ahead, dirty) if part)
    return f"- {workspace.branch} ({agent.name}{': ' + details if details else ''}) in {workspace.path}"


def recovery_briefing_text(team: str, spec: AgentTeamSpec, pm: AgentView, roster: Sequence[AgentView]) -> str:
    member = next((m for m in spec.members if m.name == pm.key.member), None)
    lines = [
        f"{_HEADER} Recovery briefing for {pm.name}, PM of team {team}.",
        "You were restarted or replaced and have lost your previous context. This is where the team stands.",
        "",
        "Team mission:",
        spec.mission or "(no mission given)",
        "",
        "Your briefing:",
        (member.briefing if member else None) or "(no briefing given)",
        "",
        f"Team roster ({len(roster)} agents: name (member, role): phase, activity, revision):",
        *(_describe(agent) for agent in roster),
    ]
    branches = [line for agent in roster if (line := _branch_line(agent)) is not None]
    if branches:
        lines += ["", "Agent branches (review and merge them from your checkout):", *branches]
    return "\n".join(lines)


def _failure_summary(agent: AgentView) -> str:
    return f"Agent {agent.name} ({agent.key.member}, {agent.key.role}) Failed: it will not be restarted"


def failed_agent_text(agent: AgentView) -> str:
    status = agent.status
    exit_code = status.last_exit_code if status and status.last_exit_code is not None else "unknown"
    restarts = status.restart_count if status and status.restart_count is not None else 0
    reason = (
        status.last_crash_message or status.last_crash_reason if status else None
    ) or "no reason reported"
    return "\n".join(
        [
            f"{_HEADER} {_failure_summary(agent)}.",
            f"Restarts: {restarts}; last exit code: {exit_code}.",
            f"Last crash: {reason}",
            f"A rolling restart (annotation {ANNOTATION_RESTARTED_AT}) starts it again.",
        ]
    )


def idle_report_text(new: Sequence[AgentView], still: Sequence[AgentView], idle_after: int) -> str:
    def line(agent: AgentView) -> str:
        since = agent.last_activity_time
        state = "waiting for input" if agent.activity is Activity.WAITING_FOR_INPUT else "idle"
        return (
            f"- {agent.name} ({agent.key.member}): {state} since {format_time(since) if since else 'unknown'}"
        )

    lines = [f"{_HEADER} Agents idle for more than {idle_after}s:", *(line(a) for a in new)]
    if still:
        lines += ["Still idle since the last report:", *(line(a) for a in still)]
    return "\n".join(lines)


def rollout_stopped_text(state: RolloutState) -> str:
    outcome = (
        f"was rolled back; every agent returns to revision {state.stable_revision}"
        if state.phase is RolloutPhase.ABORTED
        else "is halted; agents stay where they are"
    )
    return f"{_HEADER} The rollout of revision {state.current_revision} {outcome}.\n{state.message}"


def _pm(agents: Sequence[AgentView]) -> AgentView | None:
    return next((a for a in agents if a.key.is_pm and a.key.ordinal == 0), None)


def _failure_id(agent: AgentView) -> str:
    uid = agent.observed.uid if agent.observed else ""
    return f"{agent.name}/{uid}/{agent.incarnation}"


def _recovery_briefings(
    team: str, spec: AgentTeamSpec, agents: Sequence[AgentView]
) -> tuple[list[Notification], dict[str, str]]:
    """A briefing for each ready PM incarnation not briefed yet, except the first one of a new team's PM
    (its member briefing covers it) — unless it has already crashed and restarted."""
    messages: list[Notification] = []
    briefed: dict[str, str] = {}
    for agent in agents:
        if not (agent.key.is_pm and agent.ready and agent.observed is not None):
            continue
        recorded = agent.observed.annotations.get(ANNOTATION_BRIEFED_INCARNATION)
        incarnation = agent.incarnation
        if recorded == incarnation:
            continue
        briefed[agent.name] = incarnation
        if recorded == BRIEFED_INITIAL and not (agent.status and agent.status.restart_count):
            continue
        name = bounded_name(agent.name, f"briefing-{short_hash(agent.observed.uid, incarnation)}")
        text = recovery_briefing_text(team, spec, agent, agents)
        messages.append(_message(name, NotificationKind.RECOVERY_BRIEFING, agent, text, agent.name))
    return messages, briefed


def _idle_report(
    *,
    team: str,
    spec: AgentTeamSpec,
    agents: Sequence[AgentView],
    pm: AgentView,
    sent: Sequence[ObservedMessage],
    now: datetime,
) -> tuple[list[Notification], datetime | None]:
    idle_after = timedelta(seconds=spec.monitoring.idle_after_seconds)
    idle: list[AgentView] = []
    wake_at: datetime | None = None
    for agent in agents:
        since = agent.last_activity_time
        if (
            agent.key.is_pm
            or agent.activity not in _IDLE
            or since is None
            or agent.phase is not AgentPhase.RUNNING
        ):
            continue
        if now - since >= idle_after:
            idle.append(agent)
        else:
            wake_at = min(wake_at or since + idle_after, since + idle_after)
    last = max(
        (m.created_at for m in sent if m.kind == NotificationKind.IDLE_REPORT and m.created_at), default=None
    )

    def reported(agent: AgentView) -> bool:
        # The previous report listed every agent idle for idleAfterSeconds when it was made.
        since = agent.last_activity_time
        return last is not None and since is not None and since <= last - idle_after

    new = [a for a in idle if not reported(a)]
    if not new:
        return [], wake_at
    cooldown_end = last + timedelta(seconds=spec.monitoring.report_cooldown_seconds) if last else now
    if now < cooldown_end:
        return [], cooldown_end
    key = short_hash(*sorted(f"{a.name}@{a.last_activity_time}" for a in new))
    text = idle_report_text(new, [a for a in idle if reported(a)], spec.monitoring.idle_after_seconds)
    return [_message(bounded_name(team, f"idle-{key}"), NotificationKind.IDLE_REPORT, pm, text)], wake_at


def _prune(sent: Sequence[ObservedMessage], wanted: Collection[str]) -> tuple[str, ...]:
    doomed: list[str] = []
    for kind in NotificationKind:
        finished = sorted(
            (m for m in sent if m.kind == kind and m.phase in _FINISHED and m.name not in wanted),
            key=lambda m: (m.created_at.timestamp() if m.created_at else 0.0, m.name),
            reverse=True,
        )
        doomed.extend(m.name for m in finished[MESSAGE_HISTORY_PER_KIND:])
    return tuple(sorted(doomed))


def plan_notifications(
    *,
    team: str,
    spec: AgentTeamSpec,
    agents: Sequence[AgentView],
    rollout: RolloutState,
    rollout_stopped_at: datetime | None,
    sent: Sequence[ObservedMessage],
    now: datetime,
) -> NotificationPlan:
    """Notifications and failure events for one pass. `agents` are the declared agents in spec order;
    `rollout_stopped_at` is when an aborted or halted rollout stopped (its Progressing transition)."""
    failed = [a for a in agents if a.phase is AgentPhase.FAILED]
    events = tuple(
        team_event(EventReason.AGENT_FAILED, _failure_summary(a), occasion=_failure_id(a), agent=a.name)
        for a in failed
    )
    pm = _pm(agents)
    if pm is None or pm.observed is None or not spec.monitoring.notify_pm:
        return NotificationPlan(events=events, to_delete=_prune(sent, ()))
    messages, briefed = _recovery_briefings(team, spec, agents)
    for agent in failed:
        if agent is not pm:
            name = bounded_name(agent.name, f"failed-{short_hash(_failure_id(agent))}")
            text = failed_agent_text(agent)
            messages.append(_message(name, NotificationKind.AGENT_FAILED, pm, text, agent.name))
    if rollout.phase in (RolloutPhase.ABORTED, RolloutPhase.HALTED) and rollout_stopped_at is not None:
        stop = (
            rollout.phase,
            rollout.current_revision,
            rollout.stable_revision,
            format_time(rollout_stopped_at),
        )
        key = short_hash(*stop)
        text = rollout_stopped_text(rollout)
        messages.append(
            _message(bounded_name(team, f"rollout-{key}"), NotificationKind.ROLLOUT_STOPPED, pm, text)
        )
    idle, wake_at = _idle_report(team=team, spec=spec, agents=agents, pm=pm, sent=sent, now=now)
    messages.extend(idle)
    return NotificationPlan(
        tuple(messages), briefed, events, _prune(sent, {m.name for m in messages}), wake_at
    )
