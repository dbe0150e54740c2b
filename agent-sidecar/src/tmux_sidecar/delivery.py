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
    if now >= message.created_at + datetime.timedelta(seconds=message.spec.ttl_seconds):
        return DeliveryVerdict.EXPIRE
    if message.attempts >= MAX_ATTEMPTS:
        return DeliveryVerdict.FAIL
    if not agent_ready:
        return DeliveryVerdict.WAIT
    if message.spec.deliver is DeliverWhen.WHEN_IDLE and activity is not Activity.IDLE:
        return DeliveryVerdict.WAIT
    return DeliveryVerdict.DELIVER


def message_text(text: str) -> str:
    """Message text ready for `send_literal`: line breaks as LF, since a CR would press Enter."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
