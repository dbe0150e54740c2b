"""Pure decisions about AgentMessages on a node: which to type now, which expired, which failed."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import StrEnum

from tmux_orchestrator.api import Activity, AgentMessageSpec, DeliverWhen, MessagePhase

MAX_ATTEMPTS = 3


class DeliveryVerdict(StrEnum):
    WAIT = "Wait"  # target not ready, waiting for an answer to a dialog, or (WhenIdle) not idle
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
    if not agent_ready or not may_paste(activity):
        return DeliveryVerdict.WAIT
    if message.spec.deliver is DeliverWhen.WHEN_IDLE and activity is not Activity.IDLE:
        return DeliveryVerdict.WAIT
    return DeliveryVerdict.DELIVER


def may_paste(activity: Activity | None) -> bool:
    """Whether text may be pasted into the agent now. Never while a dialog waits for a choice (an approval, a
    question, a first-run screen): the paste would answer the dialog, so even `deliver: Now` waits until the
    agent leaves WaitingForInput, and expires after ttlSeconds if it never does."""
    return activity is not Activity.WAITING_FOR_INPUT


def expiry_reason(activity: Activity | None) -> str:
    """Why a message expired: a dialog that was never answered is named, since a person has to act on it."""
    if activity is Activity.WAITING_FOR_INPUT:
        return "ttlSeconds passed while the agent waited for an answer to a dialog"
    return "ttlSeconds passed"


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
