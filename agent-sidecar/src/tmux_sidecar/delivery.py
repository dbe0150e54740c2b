"""Pure decisions about AgentMessages on a node: which to type now, which expired, which failed."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import StrEnum

from tmux_orchestrator.api import Activity, AgentMessageSpec, DeliverWhen, MessagePhase

MAX_ATTEMPTS = 3


class DeliveryVerdict(StrEnum):
    WAIT = "Wait"  # target not ready (or not idle for WhenIdle)
    DELIVER = "Deliver"
    EXPIRE = "Expire"
    FAIL = "Fail"  # attempts exhausted
    DONE = "Done"  # already Delivered/Failed/Expired
    HOLD = "Hold"  # spec.deliverAfter is still ahead


@dataclass(frozen=True)
class PendingMessage:
    namespace: str
    name: str
    uid: str
    spec: AgentMessageSpec
    created_at: datetime.datetime
    phase: MessagePhase | None
    attempts: int


def judge_message(
    message: PendingMessage, *, agent_ready: bool, activity: Activity | None, now: datetime.datetime
) -> DeliveryVerdict:
    if message.phase in (MessagePhase.DELIVERED, MessagePhase.FAILED, MessagePhase.EXPIRED):
        return DeliveryVerdict.DONE
    held_until = deliver_after(message.spec)
    start = max(message.created_at, held_until) if held_until is not None else message.created_at
    if now >= start + datetime.timedelta(seconds=message.spec.ttl_seconds):
        return DeliveryVerdict.EXPIRE
    if held_until is not None and now < held_until:
        return DeliveryVerdict.HOLD
    if message.attempts >= MAX_ATTEMPTS:
        return DeliveryVerdict.FAIL
    if not agent_ready:
        return DeliveryVerdict.WAIT
    if message.spec.deliver is DeliverWhen.WHEN_IDLE and activity is not Activity.IDLE:
        return DeliveryVerdict.WAIT
    return DeliveryVerdict.DELIVER


def deliver_after(spec: AgentMessageSpec) -> datetime.datetime | None:
    """spec.deliverAfter as an aware time (the API server has checked it is RFC 3339)."""
    if not spec.deliver_after:
        return None
    moment = datetime.datetime.fromisoformat(spec.deliver_after.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


def typed_text(spec: AgentMessageSpec, team: str) -> str:
    """What the receiver sees: a message from a teammate starts with a header naming it, so it can answer
    (`[from dev-0] …`, the name `team send` takes); a person's message is typed as written."""
    if not spec.from_:
        return spec.text
    sender = spec.from_.removeprefix(f"{team}-") if team else spec.from_
    label = "check-in from" if spec.deliver_after else "from"
    return f"[{label} {sender}] {spec.text}"


def message_text(text: str) -> str:
    """Message text ready for `send_literal`: line breaks as LF, since a CR would press Enter."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
