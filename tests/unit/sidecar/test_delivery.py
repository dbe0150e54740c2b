"""Which AgentMessage the node agent types now (`judge_message`), as a table."""

from __future__ import annotations

import datetime
from typing import NamedTuple

import pytest

from tmux_orchestrator.api import Activity, AgentMessageSpec, DeliverWhen, MessagePhase
from tmux_sidecar.delivery import (
    MAX_ATTEMPTS,
    DeliveryVerdict,
    PendingMessage,
    judge_message,
    message_text,
)

CREATED = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
TTL = 60


class Case(NamedTuple):
    name: str
    deliver: DeliverWhen
    phase: MessagePhase | None
    attempts: int
    age_seconds: float
    agent_ready: bool
    activity: Activity | None
    verdict: DeliveryVerdict


NOW, WHEN_IDLE = DeliverWhen.NOW, DeliverWhen.WHEN_IDLE
PENDING, DELIVERED, EXPIRED, FAILED = (
    MessagePhase.PENDING,
    MessagePhase.DELIVERED,
    MessagePhase.EXPIRED,
    MessagePhase.FAILED,
)
BUSY, IDLE, DIALOG = Activity.BUSY, Activity.IDLE, Activity.WAITING_FOR_INPUT
V = DeliveryVerdict
LAST = MAX_ATTEMPTS
# fmt: off
CASES = [
    #    name                            deliver    phase      tries   age    ready  activity  verdict
    Case("Now delivers while busy",      NOW,       None,      0,      1,     True,  BUSY,     V.DELIVER),
    Case("WhenIdle delivers when idle",  WHEN_IDLE, None,      0,      1,     True,  IDLE,     V.DELIVER),
    Case("WhenIdle waits while busy",    WHEN_IDLE, None,      0,      1,     True,  BUSY,     V.WAIT),
    Case("WhenIdle waits while unknown", WHEN_IDLE, None,      0,      1,     True,  None,     V.WAIT),
    Case("Now waits until ready",        NOW,       None,      0,      1,     False, IDLE,     V.WAIT),
    Case("Now waits out a dialog",       NOW,       None,      0,      1,     True,  DIALOG,   V.WAIT),
    Case("WhenIdle waits out a dialog",  WHEN_IDLE, None,      0,      1,     True,  DIALOG,   V.WAIT),
    Case("a dialog never answered",      NOW,       None,      0,      TTL,   True,  DIALOG,   V.EXPIRE),
    Case("a retry still delivers",       NOW,       PENDING,   LAST-1, 1,     True,  IDLE,     V.DELIVER),
    Case("EXPIRE after ttlSeconds",      NOW,       None,      0,      TTL,   True,  IDLE,     V.EXPIRE),
    Case("EXPIRE beats FAIL",            NOW,       PENDING,   LAST,   TTL+1, True,  IDLE,     V.EXPIRE),
    Case("FAIL after the last try",      NOW,       PENDING,   LAST,   1,     True,  IDLE,     V.FAIL),
    Case("FAIL even when not ready",     WHEN_IDLE, PENDING,   LAST,   1,     False, None,     V.FAIL),
    Case("Delivered is done",            NOW,       DELIVERED, 1,      1,     True,  IDLE,     V.DONE),
    Case("Expired stays done",           NOW,       EXPIRED,   0,      TTL*2, True,  IDLE,     V.DONE),
    Case("Failed is done",               NOW,       FAILED,    LAST,   1,     True,  IDLE,     V.DONE),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_judge_message(case: Case) -> None:
    message = PendingMessage(
        namespace="ns",
        name="m",
        uid="u",
        spec=AgentMessageSpec(agent="a", text="hello", deliver=case.deliver, ttl_seconds=TTL),
        created_at=CREATED,
        phase=case.phase,
        attempts=case.attempts,
    )
    now = CREATED + datetime.timedelta(seconds=case.age_seconds)
    verdict = judge_message(message, agent_ready=case.agent_ready, activity=case.activity, now=now)
    assert verdict is case.verdict


def test_message_text_turns_carriage_returns_into_line_feeds() -> None:
    assert message_text("a\r\nb\rc\nd") == "a\nb\nc\nd"
