"""What the node agent must do to tmux so that the windows match the Agents of its node (pure).

Like the kubelet's sync: desired Agents and observed windows in, a list of actions out. Windows are matched to
Agents by the agent uid stored in a tmux user option on the window, never by name, so a renamed window is
still adopted and a window we did not create (no uid option) is never touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tmux_orchestrator.api import AgentTemplate, DesiredState


@dataclass(frozen=True)
class DesiredAgent:
    """The parts of an Agent the node agent converges on."""

    uid: str
    namespace: str
    name: str
    session: str
    window: str
    revision: str
    template: AgentTemplate
    desired_state: DesiredState = DesiredState.RUNNING
    restarted_at: str | None = None


@dataclass(frozen=True)
class ObservedWindow:
    """One tmux window as the control client sees it (its first pane holds the agent)."""

    window_id: str
    session: str
    name: str
    pane_id: str
    agent_uid: str | None = None
    revision: str | None = None
    restarted_at: str | None = None
    pane_dead: bool = False
    pid: int | None = None


class ActionKind(StrEnum):
    CREATE = "Create"  # new window running the template
    RESPAWN = "Respawn"  # same window, new process (revision change, restart request, due restart)
    KILL = "Kill"  # close the window (agent deleted or stopped, or a duplicate)
    ADOPT = "Adopt"  # tag an untagged window that is the agent's by session and name


class ActionReason(StrEnum):
    MISSING = "Missing"
    REVISION_CHANGED = "RevisionChanged"
    RESTART_REQUESTED = "RestartRequested"
    RESTART_DUE = "RestartDue"
    DELETED = "AgentDeleted"
    STOPPED = "AgentStopped"
    DUPLICATE = "Duplicate"
    UNTAGGED = "Untagged"


@dataclass(frozen=True)
class TmuxAction:
    kind: ActionKind
    reason: ActionReason
    agent: DesiredAgent | None = None
    window: ObservedWindow | None = None


@dataclass(frozen=True)
class SupervisorChange:
    """What an applied action means for the restart supervisor's memory of the agent."""

    counts_as_restart: bool  # only restarts after an exit: canary analysis reads restartCount as crashes
    takes_restart_request: bool  # the requested restartedAt is now honoured
    clears_failure: bool  # a new template, a requested restart or a recreated window closes the breaker


def supervisor_change(reason: ActionReason) -> SupervisorChange:
    """How starting a program for `reason` changes the supervisor's memory."""
    return SupervisorChange(
        counts_as_restart=reason is ActionReason.RESTART_DUE,
        takes_restart_request=reason is ActionReason.RESTART_REQUESTED,
        clears_failure=reason
        in (ActionReason.REVISION_CHANGED, ActionReason.RESTART_REQUESTED, ActionReason.MISSING),
    )


def plan_windows(
    desired: Iterable[DesiredAgent],
    observed: Sequence[ObservedWindow],
    restart_due: Mapping[str, bool] | None = None,
) -> list[TmuxAction]:
    """Actions that bring tmux to the desired state; empty when it is already there.

    `restart_due[uid]` says the restart supervisor wants a dead pane respawned now (backoff elapsed); a dead
    pane without it is left alone so its exit status stays readable and restarts keep their backoff.
    """
    restart_due = restart_due or {}
    wanted = {agent.uid: agent for agent in desired}
    actions: list[TmuxAction] = []
    adopted: dict[str, ObservedWindow] = {}
    untagged = {
        (w.session, w.name): w
        for w in sorted(observed, key=_window_order, reverse=True)
        if w.agent_uid is None
    }
    for window in sorted(observed, key=_window_order):
        uid = window.agent_uid
        if uid is None:
            continue  # not ours
        agent = wanted.get(uid)
        if agent is None:
            actions.append(TmuxAction(ActionKind.KILL, ActionReason.DELETED, window=window))
        elif agent.desired_state is DesiredState.STOPPED:
            actions.append(TmuxAction(ActionKind.KILL, ActionReason.STOPPED, agent=agent, window=window))
        elif uid in adopted:
            actions.append(TmuxAction(ActionKind.KILL, ActionReason.DUPLICATE, agent=agent, window=window))
        else:
            adopted[uid] = window
    for uid, agent in wanted.items():
        if agent.desired_state is DesiredState.STOPPED:
            continue
        current = adopted.get(uid)
        if current is None:
            orphan = untagged.get((agent.session, agent.window))
            if orphan is not None:
                # Created by us, but the node agent died before tagging it: tag it rather than start a twin.
                actions.append(
                    TmuxAction(ActionKind.ADOPT, ActionReason.UNTAGGED, agent=agent, window=orphan)
                )
            else:
                actions.append(TmuxAction(ActionKind.CREATE, ActionReason.MISSING, agent=agent))
            continue
        reason = _respawn_reason(agent, current, restart_due.get(uid, False))
        if reason is not None:
            actions.append(TmuxAction(ActionKind.RESPAWN, reason, agent=agent, window=current))
    return actions


def _respawn_reason(agent: DesiredAgent, window: ObservedWindow, restart_due: bool) -> ActionReason | None:
    if window.revision != agent.revision:
        return ActionReason.REVISION_CHANGED
    if (agent.restarted_at or None) != (window.restarted_at or None):
        return ActionReason.RESTART_REQUESTED
    if window.pane_dead and restart_due:
        return ActionReason.RESTART_DUE
    return None


def _window_order(window: ObservedWindow) -> tuple[int, str]:
    """Oldest window first (tmux window ids grow), so the original is kept and later duplicates go."""
    digits = window.window_id.lstrip("@")
    return (int(digits) if digits.isdigit() else 1 << 30, window.window_id)
