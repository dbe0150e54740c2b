"""Which AgentMessage the node agent types now (`judge_message`), as a table; and the screen checks."""

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
    screen_fragment,
    typed_on_screen,
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


CASES = [
    Case(
        "Now delivers to a busy agent",
        DeliverWhen.NOW,
        None,
        0,
        1,
        True,
        Activity.BUSY,
        DeliveryVerdict.DELIVER,
    ),
    Case(
        "WhenIdle delivers to an idle agent",
        DeliverWhen.WHEN_IDLE,
        None,
        0,
        1,
        True,
        Activity.IDLE,
        DeliveryVerdict.DELIVER,
    ),
    Case(
        "WhenIdle waits while the agent is busy",
        DeliverWhen.WHEN_IDLE,
        None,
        0,
        1,
        True,
        Activity.BUSY,
        DeliveryVerdict.WAIT,
    ),
    Case(
        "WhenIdle waits while activity is unknown",
        DeliverWhen.WHEN_IDLE,
        None,
        0,
        1,
        True,
        None,
        DeliveryVerdict.WAIT,
    ),
    Case(
        "Now waits for an agent that is not ready",
        DeliverWhen.NOW,
        None,
        0,
        1,
        False,
        Activity.IDLE,
        DeliveryVerdict.WAIT,
    ),
    Case(
        "a retry after a failed attempt still delivers",
        DeliverWhen.NOW,
        MessagePhase.PENDING,
        MAX_ATTEMPTS - 1,
        1,
        True,
        Activity.IDLE,
        DeliveryVerdict.DELIVER,
    ),
    Case(
        "EXPIRE once ttlSeconds passed",
        DeliverWhen.NOW,
        None,
        0,
        TTL,
        True,
        Activity.IDLE,
        DeliveryVerdict.EXPIRE,
    ),
    Case(
        "EXPIRE beats FAIL",
        DeliverWhen.NOW,
        MessagePhase.PENDING,
        MAX_ATTEMPTS,
        TTL + 1,
        True,
        Activity.IDLE,
        DeliveryVerdict.EXPIRE,
    ),
    Case(
        "FAIL after the last attempt",
        DeliverWhen.NOW,
        MessagePhase.PENDING,
        MAX_ATTEMPTS,
        1,
        True,
        Activity.IDLE,
        DeliveryVerdict.FAIL,
    ),
    Case(
        "FAIL even while the agent is not ready",
        DeliverWhen.WHEN_IDLE,
        MessagePhase.PENDING,
        MAX_ATTEMPTS,
        1,
        False,
        None,
        DeliveryVerdict.FAIL,
    ),
    Case(
        "Delivered is done",
        DeliverWhen.NOW,
        MessagePhase.DELIVERED,
        1,
        1,
        True,
        Activity.IDLE,
        DeliveryVerdict.DONE,
    ),
    Case(
        "Expired stays done after its ttl",
        DeliverWhen.NOW,
        MessagePhase.EXPIRED,
        0,
        TTL * 2,
        True,
        Activity.IDLE,
        DeliveryVerdict.DONE,
    ),
    Case(
        "Failed is done",
        DeliverWhen.NOW,
        MessagePhase.FAILED,
        MAX_ATTEMPTS,
        1,
        True,
        Activity.IDLE,
        DeliveryVerdict.DONE,
    ),
]


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


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("hello world", "hello world"),
        ("first line\nsecond line\n", "second line"),
        ("x" * 40, "x" * 24),
        ("\x1b[31m\r\n", "[31m"),
        ("\n\n", None),
    ],
)
def test_screen_fragment_is_the_visible_end_of_the_last_line(text: str, fragment: str | None) -> None:
    assert screen_fragment(text) == fragment


def test_typed_on_screen_finds_a_fragment_wrapped_over_lines() -> None:
    assert typed_on_screen(
        ["> please review the", "change"], "review the change".replace(" change", "change")
    )
    assert not typed_on_screen(["> something else"], "review")
    assert typed_on_screen([], None)


def test_message_text_turns_carriage_returns_into_line_feeds() -> None:
    assert message_text("a\r\nb\rc\nd") == "a\nb\nc\nd"
