"""Pure decisions about AgentMessages on a node: which to type now, which expired, how to check the screen."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tmux_orchestrator.api import Activity, AgentMessageSpec, DeliverWhen, MessagePhase

MAX_ATTEMPTS = 3
_FRAGMENT_CHARS = 24


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


def screen_fragment(text: str) -> str | None:
    """A piece of the message that must be visible once it is typed: the end of its last line, printable
    characters only (control characters and escape sequences do not render as themselves)."""
    last_line = text.replace("\r", "\n").rstrip("\n").rsplit("\n", 1)[-1]
    printable = "".join(ch for ch in last_line if ch.isprintable() and ch != "\x1b")
    fragment = printable.strip()[-_FRAGMENT_CHARS:].strip()
    return fragment or None


def typed_on_screen(lines: Sequence[str], fragment: str | None) -> bool:
    if fragment is None:
        return True
    return fragment in "".join(line.rstrip() for line in lines[-12:]) or any(
        fragment in line for line in lines
    )


def message_text(text: str) -> str:
    """Message text ready for `send_literal`: line breaks as LF, since a CR would press Enter."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
