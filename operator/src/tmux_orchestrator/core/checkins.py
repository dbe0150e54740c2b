"""Periodic check-ins (spec.monitoring.checkIn): which AgentMessage the team should have now (pure).

The schedule is a clock, not a memory: check-ins fall due at the multiples of everySeconds (counted from the
Unix epoch), and the operator always keeps the *next* one waiting as an AgentMessage with deliverAfter set to
that moment, one per target agent. The node agent holds it until then, so a check-in arrives on time even
while the operator is down; the message's name is derived from its due time, target and text, so planning
again (a restart, a stale cache) can only recreate the same message, which is an AlreadyExists. A changed
checkIn removes the waiting check-in of the old schedule; check-ins already due stay until delivered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tmux_orchestrator.api.message import AgentMessageSpec, DeliverWhen
from tmux_orchestrator.api.team import CheckIn

from .agents import AgentView
from .clock import format_time
from .naming import bounded_name, short_hash
from .notifications import Notification, NotificationKind
from .observed import ObservedMessage
from .targets import UnknownTargetError, select_target

CHECK_IN_HEADER = "[tmux-orchestrator check-in]"


@dataclass(frozen=True)
class _Addressee:
    """An AgentView as core.targets sees a team member."""

    view: AgentView

    @property
    def name(self) -> str:
        return self.view.name

    @property
    def member(self) -> str:
        return self.view.key.member

    @property
    def ordinal(self) -> int:
        return self.view.key.ordinal

    @property
    def role(self) -> str:
        return self.view.key.role


@dataclass(frozen=True)
class CheckInPlan:
    messages: tuple[Notification, ...] = ()
    """The waiting check-ins (creating one that exists is a no-op)."""
    to_delete: tuple[str, ...] = ()
    """Waiting check-ins of a schedule that changed."""
    wake_at: datetime | None = None
    """When the next check-in falls due: then the one after it is wanted."""
    problem: str | None = None
    """Why no check-in is wanted although checkIn is set (its target names nobody)."""


def next_due(every_seconds: int, now: datetime) -> datetime:
    """The first multiple of `every_seconds` after `now` (strictly), counted from the Unix epoch."""
    slots = int(now.timestamp() // every_seconds) + 1
    return datetime.fromtimestamp(slots * every_seconds, tz=UTC)


def check_in_text(check_in: CheckIn) -> str:
    return f"{CHECK_IN_HEADER} {check_in.text}"


def plan_check_ins(
    *,
    team: str,
    check_in: CheckIn | None,
    agents: Sequence[AgentView],
    sent: Sequence[ObservedMessage],
    now: datetime,
) -> CheckInPlan:
    waiting = [
        m
        for m in sent
        if m.kind == NotificationKind.CHECK_IN and m.deliver_after is not None and m.deliver_after > now
    ]
    if check_in is None:
        return CheckInPlan(to_delete=tuple(sorted(m.name for m in waiting if m.phase is None)))
    due = next_due(check_in.every_seconds, now)
    try:
        targets = select_target(check_in.to, [_Addressee(view) for view in agents])
    except UnknownTargetError as error:
        return CheckInPlan(to_delete=tuple(sorted(m.name for m in waiting)), wake_at=due, problem=str(error))
    spec_text = check_in_text(check_in)
    messages = []
    for target in targets:
        key = short_hash(format_time(due), target.name, check_in.text)
        spec = AgentMessageSpec(
            agent=target.name,
            text=spec_text,
            deliver=DeliverWhen.WHEN_IDLE,
            deliver_after=format_time(due),
            # Undelivered when the next one falls due: a busy agent gets the latest check-in, not a pile.
            ttl_seconds=check_in.every_seconds,
        )
        name = bounded_name(team, f"checkin-{key}")
        messages.append(Notification(name, NotificationKind.CHECK_IN, spec, None, target.view.node))
    wanted = {m.name for m in messages}
    stale = sorted(m.name for m in waiting if m.name not in wanted)
    return CheckInPlan(tuple(messages), tuple(stale), due)
