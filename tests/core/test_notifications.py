"""What the PM is told (recovery briefing, failed agents, idle agents, stopped rollouts) and that a
replayed pass never tells it twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest

from tmux_orchestrator.api import (
    Activity,
    ActivitySource,
    AgentPhase,
    AgentTeamSpec,
    MessagePhase,
    WorkspaceStatus,
)
from tmux_orchestrator.core.agents import AgentView
from tmux_orchestrator.core.events import EventReason, EventType
from tmux_orchestrator.core.naming import ANNOTATION_BRIEFED_INCARNATION, BRIEFED_INITIAL
from tmux_orchestrator.core.notifications import (
    MESSAGE_HISTORY_PER_KIND,
    NotificationKind,
    NotificationPlan,
    plan_notifications,
)
from tmux_orchestrator.core.observed import ObservedMessage
from tmux_orchestrator.core.rollout import RolloutPhase, RolloutState

from .builders import at, dev_key, member, observed_agent, pm_key, team_spec

SPEC = team_spec(
    member("pm", role="pm", briefing="Coordinate the developers."),
    member("dev", 3),
    mission="Ship the billing page.",
    monitoring={"idleAfterSeconds": 300, "reportCooldownSeconds": 600},
)
KEYS = [pm_key(), dev_key(0), dev_key(1), dev_key(2)]
REV = "rev0000000"
COMPLETE = RolloutState(REV, REV, RolloutPhase.COMPLETE)
BRIEFED = {ANNOTATION_BRIEFED_INCARNATION: "node-a/2026-03-01T11:00:00Z/0"}


def team(pm: dict[str, Any] | None = None, devs: dict[int, dict[str, Any]] | None = None) -> list[AgentView]:
    """The PM (its current incarnation already briefed) and three developers, all busy; keyword overrides
    for the PM and by developer ordinal."""
    pm_fields = {"annotations": BRIEFED, **(pm or {})}
    views = [AgentView(KEYS[0], observed_agent(SPEC, "pm", 0, revision=REV, **pm_fields), True)]
    for ordinal in range(3):
        fields = (devs or {}).get(ordinal, {})
        views.append(
            AgentView(KEYS[ordinal + 1], observed_agent(SPEC, "dev", ordinal, revision=REV, **fields), True)
        )
    return views


def notify(
    agents: list[AgentView],
    *,
    spec: AgentTeamSpec = SPEC,
    sent: list[ObservedMessage] | None = None,
    rollout: RolloutState = COMPLETE,
    stopped_at: datetime | None = None,
    now: float = 0,
) -> NotificationPlan:
    return plan_notifications(
        team="web",
        spec=spec,
        agents=agents,
        rollout=rollout,
        rollout_stopped_at=stopped_at,
        sent=sent or [],
        now=at(now),
    )


def kinds(plan: NotificationPlan) -> list[NotificationKind]:
    return [m.kind for m in plan.messages]


@pytest.mark.parametrize(
    ("pm", "briefing_sent", "recorded"),
    [
        pytest.param(
            {"annotations": {ANNOTATION_BRIEFED_INCARNATION: BRIEFED_INITIAL}},
            False,
            True,
            id="new-team-pm-first-start-gets-only-its-member-briefing",
        ),
        pytest.param(
            {"annotations": {ANNOTATION_BRIEFED_INCARNATION: BRIEFED_INITIAL}, "restarts": 1},
            True,
            True,
            id="new-team-pm-that-crashed-before-we-saw-it",
        ),
        pytest.param(
            {"annotations": BRIEFED, "started": -3600}, False, False, id="same-incarnation-already-briefed"
        ),
        pytest.param({"annotations": BRIEFED, "started": -60, "restarts": 1}, True, True, id="pm-restarted"),
        pytest.param({"annotations": {}}, True, True, id="pm-replaced-by-a-new-agent"),
        pytest.param({"phase": AgentPhase.STARTING}, False, False, id="waits-until-ready"),
    ],
)
def test_recovery_briefing(pm: dict[str, Any], briefing_sent: bool, recorded: bool) -> None:
    plan = notify(team(pm))
    assert (NotificationKind.RECOVERY_BRIEFING in kinds(plan)) is briefing_sent
    assert ("web-pm-0" in (plan.briefed or {})) is recorded


def test_recovery_briefing_content_and_target() -> None:
    plan = notify(team({"restarts": 2}, {1: {"activity": Activity.IDLE}}))
    (message,) = [m for m in plan.messages if m.kind is NotificationKind.RECOVERY_BRIEFING]
    assert message.spec.agent == "web-pm-0"
    text = message.spec.text
    for expected in (
        "Ship the billing page.",
        "Coordinate the developers.",
        "Team roster (4 agents",
        "- web-dev-1 (dev, developer): Running, Idle, revision rev0000000",
        "- web-pm-0 (pm, pm): Running, Busy",
    ):
        assert expected in text


def test_recovery_briefing_says_who_reported_each_activity_and_its_last_answer() -> None:
    agents = team({"restarts": 2})
    dev = agents[2]
    assert dev.observed is not None and dev.observed.status is not None
    answered = dev.observed.status.model_copy(
        update={
            "activity": Activity.IDLE,
            "activity_source": ActivitySource.HOOK,
            "last_assistant_message": "Done: the invoice table renders.\nWaiting for review.",
        }
    )
    agents[2] = replace(dev, observed=replace(dev.observed, status=answered))
    (message,) = [m for m in notify(agents).messages if m.kind is NotificationKind.RECOVERY_BRIEFING]
    assert (
        "- web-dev-1 (dev, developer): Running, Idle (by hook), revision rev0000000\n"
        "  last answer: Done: the invoice table renders. Waiting for review.\n"
    ) in message.spec.text
    assert "- web-dev-0 (dev, developer): Running, Busy, revision rev0000000\n" in message.spec.text


def test_briefing_name_is_stable_for_one_incarnation_and_new_for_the_next() -> None:
    first = notify(team({"restarts": 1, "started": -60})).messages[0].name
    assert notify(team({"restarts": 1, "started": -60}), now=30).messages[0].name == first
    assert notify(team({"restarts": 2, "started": -5})).messages[0].name != first


def test_failed_agent_is_reported_to_the_pm_and_as_a_warning_event() -> None:
    plan = notify(team(devs={2: {"phase": AgentPhase.FAILED, "restarts": 5}}))
    (message,) = plan.messages
    assert (message.kind, message.spec.agent, message.about) == (
        NotificationKind.AGENT_FAILED,
        "web-pm-0",
        "web-dev-2",
    )
    assert "Restarts: 5" in message.spec.text
    (event,) = plan.events
    assert (event.reason, event.type, event.regarding_name) == (
        EventReason.AGENT_FAILED,
        EventType.WARNING,
        "web-dev-2",
    )


def test_failure_report_is_named_after_the_failure() -> None:
    failed = {2: {"phase": AgentPhase.FAILED, "restarts": 5, "started": -30}}
    first = notify(team(devs=failed))
    assert notify(team(devs=failed), now=120).messages == first.messages
    assert notify(team(devs=failed), now=120).events == first.events
    again = notify(team(devs={2: {"phase": AgentPhase.FAILED, "restarts": 6, "started": 60}}), now=120)
    assert again.messages[0].name != first.messages[0].name


def test_nothing_is_sent_to_a_pm_that_does_not_exist_yet() -> None:
    agents = [AgentView(KEYS[0], None, False), *team(devs={0: {"phase": AgentPhase.FAILED}})[1:]]
    plan = notify(agents)
    assert plan.messages == ()
    assert [e.regarding_name for e in plan.events] == ["web-dev-0"]


def test_failed_pm_gets_no_message_but_an_event() -> None:
    plan = notify(team({"phase": AgentPhase.FAILED}))
    assert plan.messages == ()
    assert [e.regarding_name for e in plan.events] == ["web-pm-0"]


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(team_spec(member("dev", 3)), id="no-pm-member"),
        pytest.param(
            team_spec(member("pm", role="pm"), member("dev", 3), monitoring={"notifyPM": False}),
            id="notify-off",
        ),
    ],
)
def test_nothing_is_sent_without_a_pm_to_tell(spec: AgentTeamSpec) -> None:
    agents = team({"restarts": 3}, {0: {"phase": AgentPhase.FAILED}})
    plan = notify(agents if spec.members[0].role == "pm" else agents[1:], spec=spec)
    assert plan.messages == ()
    assert [e.reason for e in plan.events] == [EventReason.AGENT_FAILED]


def idle(since: float, activity: Activity = Activity.IDLE) -> dict[str, Any]:
    return {"activity": activity, "active_since": since}


def idle_report(name: str, created: float) -> ObservedMessage:
    return ObservedMessage(
        name, NotificationKind.IDLE_REPORT.value, created_at=at(created), phase=MessagePhase.DELIVERED
    )


@pytest.mark.parametrize(
    ("devs", "sent", "listed", "wake_at"),
    [
        pytest.param({0: idle(-301)}, [], ["web-dev-0"], None, id="idle-past-threshold"),
        pytest.param({0: idle(-100)}, [], [], at(200), id="not-yet-idle-long-enough"),
        pytest.param(
            {0: idle(-400, Activity.WAITING_FOR_INPUT)}, [], ["web-dev-0"], None, id="waiting-for-input"
        ),
        pytest.param(
            {0: idle(-301), 1: idle(-500)}, [], ["web-dev-0", "web-dev-1"], None, id="one-batched-report"
        ),
        pytest.param({0: idle(-1000)}, [idle_report("r1", -650)], [], None, id="already-reported-episode"),
        pytest.param(
            {0: idle(-301)}, [idle_report("r1", -100)], [], at(500), id="cooldown-holds-new-episode"
        ),
        pytest.param(
            {0: idle(-1000), 1: idle(-301)},
            [idle_report("r1", -650)],
            ["web-dev-1"],
            None,
            id="new-episode-after-cooldown",
        ),
        pytest.param(
            {0: {**idle(-400), "phase": AgentPhase.CRASHED}}, [], [], None, id="crashed-is-not-idle"
        ),
    ],
)
def test_idle_report(
    devs: dict[int, dict[str, Any]], sent: list[ObservedMessage], listed: list[str], wake_at: datetime | None
) -> None:
    plan = notify(team(devs=devs), sent=sent)
    reports = [m for m in plan.messages if m.kind is NotificationKind.IDLE_REPORT]
    if listed:
        (report,) = reports
        assert report.spec.agent == "web-pm-0"
        new_part = report.spec.text.split("Still idle")[0]
        assert [name for name in ("web-dev-0", "web-dev-1", "web-dev-2") if name in new_part] == listed
    else:
        assert reports == []
    assert plan.wake_at == wake_at


def test_idle_report_lists_still_idle_agents_separately() -> None:
    plan = notify(team(devs={0: idle(-1000), 1: idle(-301)}), sent=[idle_report("r1", -650)])
    assert "Still idle since the last report:\n- web-dev-0" in plan.messages[0].spec.text


def test_pm_is_not_in_its_own_idle_report() -> None:
    assert notify(team(idle(-1000))).messages == ()


def test_idle_report_name_depends_only_on_the_episodes() -> None:
    agents = team(devs={0: idle(-400)})
    assert notify(agents, now=0).messages[0].name == notify(agents, now=50).messages[0].name


@pytest.mark.parametrize(
    ("phase", "outcome"),
    [
        pytest.param(
            RolloutPhase.ABORTED, "was rolled back; every agent returns to revision old", id="aborted"
        ),
        pytest.param(RolloutPhase.HALTED, "is halted", id="halted"),
    ],
)
def test_stopped_rollout_is_reported_once_per_stop(phase: RolloutPhase, outcome: str) -> None:
    stopped = RolloutState("new", "old", phase, message="1 crash(es)")
    plan = notify(team(), rollout=stopped, stopped_at=at(-5))
    (message,) = plan.messages
    assert message.kind is NotificationKind.ROLLOUT_STOPPED
    assert outcome in message.spec.text and "1 crash(es)" in message.spec.text
    assert notify(team(), rollout=stopped, stopped_at=at(-5), now=60).messages == plan.messages
    assert notify(team(), rollout=stopped, stopped_at=at(-1)).messages[0].name != message.name


def test_rollback_of_a_halted_rollout_is_a_second_message() -> None:
    halted = notify(team(), rollout=RolloutState("new", "old", RolloutPhase.HALTED), stopped_at=at(-5))
    aborted = notify(team(), rollout=RolloutState("new", "old", RolloutPhase.ABORTED), stopped_at=at(-5))
    assert halted.messages[0].name != aborted.messages[0].name


def test_finished_notifications_beyond_the_history_are_deleted() -> None:
    finished = [
        ObservedMessage(
            f"m{i}", NotificationKind.AGENT_FAILED.value, created_at=at(i), phase=MessagePhase.DELIVERED
        )
        for i in range(MESSAGE_HISTORY_PER_KIND + 2)
    ]
    pending = ObservedMessage(
        "p", NotificationKind.AGENT_FAILED.value, created_at=at(-99), phase=MessagePhase.PENDING
    )
    assert notify(team(), sent=[*finished, pending]).to_delete == ("m0", "m1")


def test_a_notification_still_wanted_is_never_deleted() -> None:
    failed = {2: {"phase": AgentPhase.FAILED}}
    wanted = notify(team(devs=failed)).messages[0].name
    old = [
        ObservedMessage(
            name, NotificationKind.AGENT_FAILED.value, created_at=at(-1000), phase=MessagePhase.DELIVERED
        )
        for name in [wanted, *(f"m{i}" for i in range(MESSAGE_HISTORY_PER_KIND))]
    ]
    assert wanted not in notify(team(devs=failed), sent=old).to_delete


def test_message_body_is_an_agent_message_owned_by_the_team_and_routed_to_the_pm() -> None:
    plan = notify(team(devs={2: {"phase": AgentPhase.FAILED}}))
    body = plan.messages[0].to_wire("web", "ns", {"uid": "team-uid"})
    assert body["kind"] == "AgentMessage"
    assert body["metadata"]["labels"] == {
        "orchestrator.tmux.dev/team": "web",
        "orchestrator.tmux.dev/notification": "agent-failed",
        "orchestrator.tmux.dev/about": "web-dev-2",
        "orchestrator.tmux.dev/agent": "web-pm-0",
        "orchestrator.tmux.dev/node": "node-a",
    }
    assert body["spec"]["agent"] == "web-pm-0" and body["spec"]["deliver"] == "WhenIdle"


def test_recovery_briefing_lists_the_developers_branches() -> None:
    spec = team_spec(
        member("pm", role="pm"), member("dev", 2), workspace={"repo": "/src/app", "baseBranch": "develop"}
    )
    views = [AgentView(KEYS[0], observed_agent(spec, "pm", 0, restarts=1), True)]
    for ordinal, (ahead, dirty) in enumerate([(3, False), (0, True)]):
        observed = observed_agent(spec, "dev", ordinal)
        assert observed.status is not None
        workspace = WorkspaceStatus(
            path=f"/src/app/.worktrees/web-dev-{ordinal}",
            branch=f"agents/web-dev-{ordinal}",
            head="abc",
            dirty=dirty,
            ahead_of_base=ahead,
        )
        status = observed.status.model_copy(update={"workspace": workspace})
        views.append(AgentView(KEYS[ordinal + 1], replace(observed, status=status), True))
    plan = notify(views, spec=spec)
    (message,) = [m for m in plan.messages if m.kind is NotificationKind.RECOVERY_BRIEFING]
    assert message.spec.text.endswith(
        "Agent branches (review and merge them from your checkout):\n"
        "- agents/web-dev-0 (web-dev-0: 3 commit(s) ahead of develop) in /src/app/.worktrees/web-dev-0\n"
        "- agents/web-dev-1 (web-dev-1: 0 commit(s) ahead of develop, uncommitted changes)"
        " in /src/app/.worktrees/web-dev-1"
    )
