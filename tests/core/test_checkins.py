"""spec.monitoring.checkIn: the operator keeps the next check-in waiting, named by its due time (pure)."""

from __future__ import annotations

from datetime import datetime

import pytest

from tmux_orchestrator.api import CheckIn, MessagePhase
from tmux_orchestrator.core.agents import AgentView
from tmux_orchestrator.core.checkins import CHECK_IN_HEADER, CheckInPlan, next_due, plan_check_ins
from tmux_orchestrator.core.clock import format_time
from tmux_orchestrator.core.notifications import NotificationKind
from tmux_orchestrator.core.observed import ObservedMessage

from .builders import NOW, at, dev_key, member, observed_agent, pm_key, team_spec

SPEC = team_spec(member("pm", role="pm"), member("dev", 2))
VIEWS = [
    AgentView(pm_key(), observed_agent(SPEC, "pm", 0), True),
    AgentView(dev_key(0), observed_agent(SPEC, "dev", 0), True),
    AgentView(dev_key(1), observed_agent(SPEC, "dev", 1), True),
]


def check_in(every: int = 600, to: str = "@pm", text: str = "How is it going?") -> CheckIn:
    return CheckIn(every_seconds=every, to=to, text=text)


def plan(
    check: CheckIn | None, now: datetime = NOW, sent: list[ObservedMessage] | None = None
) -> CheckInPlan:
    return plan_check_ins(team="web", check_in=check, agents=VIEWS, sent=sent or [], now=now)


def waiting(name: str, due: float, phase: MessagePhase | None = None) -> ObservedMessage:
    return ObservedMessage(name, NotificationKind.CHECK_IN.value, "web-pm-0", at(-1), phase, at(due))


DUE = [
    ("on-a-slot-boundary-the-next-one", 0, 600, 600),
    ("inside-a-slot", 1, 600, 600),
    ("just-before-the-slot", 599.5, 600, 600),
]


@pytest.mark.parametrize(("now", "every", "due"), [c[1:] for c in DUE], ids=[c[0] for c in DUE])
def test_next_due(now: float, every: int, due: float) -> None:
    assert next_due(every, at(now)) == at(due)


def test_next_due_is_a_multiple_of_every_seconds_after_now() -> None:
    due = next_due(7, at(5))
    assert due.timestamp() % 7 == 0 and at(5) < due <= at(12)


def test_the_next_check_in_waits_as_a_message_for_each_target() -> None:
    result = plan(check_in(to="dev"), now=at(30))
    assert [m.spec.agent for m in result.messages] == ["web-dev-0", "web-dev-1"]
    first = result.messages[0]
    assert first.kind is NotificationKind.CHECK_IN and first.node == "node-a"
    assert first.spec.deliver_after == format_time(at(600))
    assert first.spec.text == f"{CHECK_IN_HEADER} How is it going?"
    assert first.spec.ttl_seconds == 600
    assert result.wake_at == at(600)
    assert result.to_delete == ()


def test_planning_again_names_the_same_messages_until_the_check_in_is_due() -> None:
    names = {m.name for m in plan(check_in(), now=at(1)).messages}
    assert names == {m.name for m in plan(check_in(), now=at(599)).messages}
    after = {m.name for m in plan(check_in(), now=at(600)).messages}
    assert after.isdisjoint(names)


def test_a_changed_schedule_removes_the_waiting_check_in_but_keeps_one_already_due() -> None:
    old_waiting = waiting("web-checkin-old", due=300)
    already_due = waiting("web-checkin-due", due=-10)
    result = plan(check_in(text="New question?"), now=at(30), sent=[old_waiting, already_due])
    assert result.to_delete == ("web-checkin-old",)
    assert plan(check_in(), now=at(30), sent=[already_due]).to_delete == ()


def test_no_check_in_removes_waiting_ones() -> None:
    assert plan(None, now=at(30), sent=[waiting("web-checkin-old", due=300)]).to_delete == (
        "web-checkin-old",
    )
    assert plan(None).messages == ()


def test_a_target_that_names_nobody_is_a_problem_not_a_message() -> None:
    result = plan(check_in(to="@qa"))
    assert result.messages == ()
    assert result.problem is not None and "no agent, member or role '@qa'" in result.problem
