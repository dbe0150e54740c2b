"""judge_message and typed_text: held messages (spec.deliverAfter) and the sender header (spec.from)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tmux_orchestrator.api import Activity, AgentMessageSpec, AgentReport, DesiredState, MessagePhase
from tmux_sidecar.agent_status import PaneState, SupervisorFacts, compute_agent_status, status_patch
from tmux_sidecar.delivery import DeliveryVerdict, PendingMessage, judge_message, typed_text

T0 = datetime.datetime(2026, 11, 24, 10, 0, 0, tzinfo=datetime.UTC)

LATER = "2026-11-24T10:05:00Z"


def pending(phase: MessagePhase | None = None, attempts: int = 0, **spec: Any) -> PendingMessage:
    return PendingMessage(
        namespace="ns",
        name="m",
        uid="u",
        spec=AgentMessageSpec.model_validate({"agent": "web-dev-0", "text": "hi", **spec}),
        created_at=T0,
        phase=phase,
        attempts=attempts,
    )


def at(minutes: float) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minutes)


VERDICTS = [
    ("due-and-idle", pending(), at(1), DeliveryVerdict.DELIVER),
    ("held-before-deliver-after", pending(deliverAfter=LATER), at(4.9), DeliveryVerdict.HOLD),
    ("due-at-deliver-after", pending(deliverAfter=LATER), at(5), DeliveryVerdict.DELIVER),
    # ttlSeconds counts from deliverAfter: a check-in a day ahead does not expire before it is due.
    (
        "ttl-counts-from-deliver-after",
        pending(deliverAfter=LATER, ttlSeconds=60),
        at(5.5),
        DeliveryVerdict.DELIVER,
    ),
    (
        "expired-after-deliver-after-plus-ttl",
        pending(deliverAfter=LATER, ttlSeconds=60),
        at(6),
        DeliveryVerdict.EXPIRE,
    ),
    ("expired-without-deliver-after", pending(ttlSeconds=60), at(1), DeliveryVerdict.EXPIRE),
    ("delivered-is-done", pending(MessagePhase.DELIVERED, deliverAfter=LATER), at(1), DeliveryVerdict.DONE),
    ("attempts-exhausted", pending(attempts=3), at(1), DeliveryVerdict.FAIL),
]


@pytest.mark.parametrize(
    ("message", "now", "verdict"), [c[1:] for c in VERDICTS], ids=[c[0] for c in VERDICTS]
)
def test_judge_message(message: PendingMessage, now: datetime.datetime, verdict: DeliveryVerdict) -> None:
    assert judge_message(message, agent_ready=True, activity=Activity.IDLE, now=now) is verdict


def test_a_held_message_waits_for_its_agent_once_due() -> None:
    message = pending(deliverAfter=LATER)
    assert judge_message(message, agent_ready=True, activity=Activity.BUSY, now=at(6)) is DeliveryVerdict.WAIT


HEADERS = [
    ("person", {}, "hi"),
    ("teammate", {"from": "web-pm-0"}, "[from pm-0] hi"),
    ("check-in", {"from": "web-dev-1", "deliverAfter": LATER}, "[check-in from dev-1] hi"),
    ("multi-line-text-kept", {"from": "web-pm-0", "text": "a\nb"}, "[from pm-0] a\nb"),
]


@pytest.mark.parametrize(("spec", "typed"), [c[1:] for c in HEADERS], ids=[c[0] for c in HEADERS])
def test_typed_text_names_the_sender(spec: dict[str, Any], typed: str) -> None:
    assert (
        typed_text(AgentMessageSpec.model_validate({"agent": "web-dev-0", "text": "hi", **spec}), "web")
        == typed
    )


def test_the_agents_report_survives_observation() -> None:
    """The node agent's status writes keep what the agent reported (one writer, nothing overwritten)."""
    report = AgentReport.model_validate({"state": "done", "note": "tests pass", "time": LATER})
    alive = PaneState(pane_id="%3", pid=4242, dead=False, started_at=T0)
    args: dict[str, Any] = {
        "generation": 1,
        "node": "node-a",
        "revision": "r1",
        "desired_state": DesiredState.RUNNING,
        "process": alive,
        "supervisor": SupervisorFacts(),
        "activity": Activity.IDLE,
        "cli_ready": True,
        "now": T0,
    }
    previous = compute_agent_status(**args, previous=None).model_copy(update={"report": report})
    current = compute_agent_status(**args, previous=previous)
    assert current.report == report
    assert status_patch(previous.to_wire(), current) is None
