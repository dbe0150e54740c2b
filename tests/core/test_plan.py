"""plan_team pass after pass against a simulated cluster: what a user sees happen to a team."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tmux_orchestrator.api import AgentTeamSpec
from tmux_orchestrator.api.constants import (
    ANNOTATION_ABORT,
    ANNOTATION_PROMOTE,
    ANNOTATION_RESTARTED_AT,
    LABEL_NODE,
    LABEL_REVISION,
)
from tmux_orchestrator.core.events import EventReason
from tmux_orchestrator.core.notifications import NotificationKind
from tmux_orchestrator.core.observed import ObservedAgent
from tmux_orchestrator.core.plan import plan_team

from .builders import UID, member, team_spec
from .sim import Cluster, Conflict, SimNode

ENV_V2 = [{"name": "VERSION", "value": "2"}]
TWENTY = team_spec(member("pm", role="pm"), member("dev", 19))


def cluster(spec: AgentTeamSpec | None = None, *nodes: SimNode) -> Cluster:
    return Cluster.create(spec or team_spec(), *nodes)


def running(spec: AgentTeamSpec | None = None, *nodes: SimNode) -> Cluster:
    sim = cluster(spec, *nodes)
    sim.settle()
    assert sim.condition("Ready")["status"] == "True"
    return sim


def reasons(sim: Cluster) -> list[EventReason]:
    return [event.reason for event in sim.events.values()]


def test_new_team_gets_one_agent_per_replica_with_contract_labels() -> None:
    sim = cluster(
        team_spec(
            member("pm", role="pm"),
            member("dev", 2, env=[{"name": "B", "value": "1"}]),
            env=[{"name": "A", "value": "0"}],
        )
    )
    plan = sim.reconcile()
    assert sorted(sim.agents) == ["web-dev-0", "web-dev-1", "web-pm-0"]
    body = sim.agents["web-dev-1"]
    revision = sim.status["currentRevision"]
    assert body["metadata"]["labels"] == {
        "orchestrator.tmux.dev/team": "web",
        "orchestrator.tmux.dev/member": "dev",
        "orchestrator.tmux.dev/role": "developer",
        "orchestrator.tmux.dev/revision": revision,
        "orchestrator.tmux.dev/node": "node-a",
    }
    assert body["metadata"]["ownerReferences"][0]["uid"] == UID
    assert body["metadata"]["ownerReferences"][0]["controller"] is True
    spec = body["spec"]
    assert (spec["session"], spec["window"], spec["nodeName"], spec["ordinal"]) == (
        "web",
        "dev-1",
        "node-a",
        1,
    )
    assert spec["template"]["env"] == [{"name": "A", "value": "0"}, {"name": "B", "value": "1"}]
    assert list(sim.revisions) == [f"web-{revision}"]
    assert reasons(sim) == [EventReason.SCHEDULED]
    assert sim.status["phase"] == "Progressing" and plan.requeue_after == 0


def test_team_becomes_ready_and_then_writes_nothing() -> None:
    sim = running()
    assert (sim.status["phase"], sim.status["ready"], sim.status["node"]) == ("Running", "4/4", "node-a")
    plan = sim.plan()
    assert plan.writes_nothing
    assert plan.requeue_after == 40  # the next moment the node's Lease could expire


@pytest.mark.parametrize(
    ("replicas", "expected"),
    [
        pytest.param(5, ["web-dev-0", "web-dev-1", "web-dev-2", "web-dev-3", "web-dev-4"], id="scale-up"),
        pytest.param(1, ["web-dev-0"], id="scale-down-removes-highest-ordinals"),
        pytest.param(0, [], id="scale-to-zero"),
    ],
)
def test_scaling(replicas: int, expected: list[str]) -> None:
    sim = running()
    sim.edit_spec(members=[member("pm", role="pm"), member("dev", replicas)])
    sim.settle()
    assert sorted(n for n in sim.agents if "-dev-" in n) == expected
    assert sim.status["ready"] == f"{replicas + 1}/{replicas + 1}"


def test_removing_a_member_deletes_its_agents() -> None:
    sim = running()
    sim.edit_spec(members=[member("dev", 3)])
    sim.settle(seconds=10)
    assert sorted(sim.agents) == ["web-dev-0", "web-dev-1", "web-dev-2"]


def test_without_a_node_the_team_is_pending_until_one_registers() -> None:
    sim = cluster(team_spec(), SimNode("node-a", alive=False, capacity=0))
    sim.nodes["node-a"].renewed = sim.now.replace(year=2000)
    sim.reconcile()
    assert sim.status["phase"] == "Pending"
    assert sim.condition("Reconciling")["reason"] == "Unschedulable"
    assert "0/1 nodes fit 4 agent(s): 1 not Ready" in sim.condition("Ready")["message"]
    assert all(
        b["metadata"]["labels"][LABEL_NODE] == "" and "nodeName" not in b["spec"] for b in sim.agents.values()
    )
    sim.reconcile()
    sim.reconcile()
    about = sorted((e.regarding_name or "", e.reason) for e in sim.events.values())
    assert about == [("", EventReason.FAILED_SCHEDULING)] + [
        (name, EventReason.FAILED_SCHEDULING) for name in sorted(sim.agents)
    ]
    assert sim.duplicate_events == 0
    # Like a Pod the scheduler could not place: Pending, not Scheduled, the reason in the message.
    for body in sim.agents.values():
        status = body["status"]
        conditions = {c["type"]: c for c in status["conditions"]}
        assert (status["phase"], status["ready"], status["observedGeneration"]) == ("Pending", False, 1)
        assert (conditions["Scheduled"]["status"], conditions["Scheduled"]["reason"]) == (
            "False",
            "Unschedulable",
        )
        assert "0/1 nodes fit 4 agent(s): 1 not Ready" in conditions["Scheduled"]["message"]
        assert conditions["Reconciling"]["status"] == "True"
    sim.nodes["node-b"] = SimNode("node-b", renewed=sim.now)
    sim.settle()
    assert {b["spec"]["nodeName"] for b in sim.agents.values()} == {"node-b"}
    assert sim.status["phase"] == "Running"


def test_team_moves_off_a_lost_node_and_the_pm_is_briefed() -> None:
    sim = running(team_spec(), SimNode("node-a"), SimNode("node-b"))
    sim.nodes["node-a"].alive = False
    sim.tick(41)
    plan = sim.reconcile()
    assert {u.changes[0] for u in plan.agents_to_update} == {"node"}
    assert {b["spec"]["nodeName"] for b in sim.agents.values()} == {"node-b"}
    assert sim.status["phase"] == "Degraded"
    assert reasons(sim)[-2:] == [EventReason.NODE_LOST, EventReason.RESCHEDULED]
    sim.settle()
    assert (sim.status["phase"], sim.status["node"]) == ("Running", "node-b")
    briefings = [
        m
        for m in sim.messages.values()
        if m["metadata"]["labels"]["orchestrator.tmux.dev/notification"] == "recovery-briefing"
    ]
    assert [m["spec"]["agent"] for m in briefings] == ["web-pm-0"]


def test_a_new_teams_pm_gets_no_recovery_briefing() -> None:
    sim = running()
    assert sim.messages == {}
    assert (
        sim.agents["web-pm-0"]["metadata"]["annotations"]["orchestrator.tmux.dev/briefed-incarnation"]
        != "initial"
    )


def test_restarted_pm_gets_one_recovery_briefing() -> None:
    sim = running(team_spec(member("pm", role="pm", briefing="Lead."), member("dev", 2), mission="Ship it."))
    sim.run_node_agents(crashing={"web-pm-0"})
    sim.reconcile()
    assert sim.messages == {}  # not ready: the briefing waits
    sim.tick(10)
    sim.run_node_agents()
    for _ in range(3):
        sim.reconcile()
    (briefing,) = sim.messages.values()
    assert briefing["spec"]["agent"] == "web-pm-0"
    assert "Ship it." in briefing["spec"]["text"] and "Lead." in briefing["spec"]["text"]


def test_requeue_at_the_end_of_a_step_pause() -> None:
    sim = running(TWENTY)
    sim.edit_spec(env=ENV_V2)
    walk(sim, lambda s: s.condition("Paused")["status"] == "True")
    sim.tick(25)
    assert sim.plan().requeue_after == 35  # sooner than the Lease check (40 s)


def walk(
    sim: Cluster, done: Callable[[Cluster], bool], *, seconds: float = 10, limit: int = 200
) -> list[int]:
    """Reconcile, run node agents and let time pass until `done`; the distinct counts of agents on the
    current revision seen along the way."""
    seen: list[int] = []
    for _ in range(limit):
        sim.reconcile()
        count = len(sim.on_revision(sim.status["currentRevision"]))
        if not seen or seen[-1] != count:
            seen.append(count)
        if done(sim):
            return seen
        sim.run_node_agents()
        sim.tick(seconds)
    raise AssertionError(f"not done; counts seen {seen}")


def complete(sim: Cluster) -> bool:
    return bool(
        sim.status["stableRevision"] == sim.status["currentRevision"]
        and sim.condition("Ready")["status"] == "True"
    )


def test_twenty_agents_roll_out_1_then_10_then_20_with_the_pm_last() -> None:
    sim = running(TWENTY)
    stable = sim.status["currentRevision"]
    sim.edit_spec(env=ENV_V2)
    pm_on_new_at: list[int] = []

    def done(s: Cluster) -> bool:
        if s.revision_of("web-pm-0") == s.status["currentRevision"]:
            pm_on_new_at.append(len(s.on_revision(s.status["currentRevision"])))
        return complete(s)

    assert walk(sim, done) == [1, 10, 20]
    assert pm_on_new_at[0] == 20
    assert sim.status["stableRevision"] != stable
    assert sim.status["rollout"] == {"stage": "production", "stepIndex": 2, "weight": 100, "message": ""}
    assert [r for r in reasons(sim) if r.value.startswith("Rollout")] == [
        EventReason.ROLLOUT_STARTED,
        EventReason.ROLLOUT_STEP_ADVANCED,
        EventReason.ROLLOUT_STEP_ADVANCED,
        EventReason.ROLLOUT_COMPLETED,
    ]
    moved = [name for name, changes in sim.agent_writes if "revision" in changes]
    assert sorted(moved) == sorted(sim.agents)  # every agent moved exactly once


def at_step(sim: Cluster, index: int) -> bool:
    return bool(
        sim.status.get("rollout", {}).get("stepIndex") == index
        and sim.status["stableRevision"] != sim.status["currentRevision"]
    )


def test_operator_killed_between_status_and_agents_moves_each_agent_once() -> None:
    sim = running(TWENTY)
    sim.edit_spec(env=ENV_V2)
    walk(sim, lambda s: s.condition("Paused")["status"] == "True")  # canary healthy, pausing
    sim.tick(61)
    plan = sim.plan()
    sim.apply(plan, stop_after="status")  # the step to beta is recorded; no agent moved yet
    assert sim.status["rollout"]["stage"] == "beta"
    assert len(sim.on_revision(sim.status["currentRevision"])) == 1
    sim.reconcile()  # a restarted operator
    assert len(sim.on_revision(sim.status["currentRevision"])) == 10
    sim.reconcile()
    moved = [name for name, changes in sim.agent_writes if "revision" in changes]
    assert len(moved) == len(set(moved)) == 10


def test_a_plan_made_from_a_stale_team_is_dropped_before_touching_agents() -> None:
    sim = running(TWENTY)
    sim.edit_spec(env=ENV_V2)
    stale = sim.plan()
    sim.apply(sim.plan())
    writes = list(sim.agent_writes)
    with pytest.raises(Conflict):
        sim.apply(stale)
    assert sim.agent_writes == writes


def test_crashing_revision_is_rolled_back_with_condition_event_and_pm_message() -> None:
    sim = running(TWENTY)
    stable = sim.status["currentRevision"]
    sim.edit_spec(env=ENV_V2)
    sim.reconcile()
    (canary,) = sim.on_revision(sim.status["currentRevision"])
    sim.run_node_agents()
    sim.tick(5)
    sim.run_node_agents(crashing={canary})
    sim.reconcile()
    assert sim.on_revision(stable) == sorted(sim.agents)
    assert sim.status["phase"] == "Degraded"
    stalled = sim.condition("Stalled")
    assert (stalled["status"], stalled["reason"]) == ("True", "RolloutAborted")
    assert sim.condition("Reconciling")["status"] == "False"
    assert sim.status["rollout"]["stage"] == "aborted"
    assert EventReason.ROLLOUT_ABORTED in reasons(sim)
    (message,) = sim.messages.values()
    assert (
        message["metadata"]["labels"]["orchestrator.tmux.dev/notification"]
        == NotificationKind.ROLLOUT_STOPPED
    )
    assert message["spec"]["agent"] == "web-pm-0"
    for _ in range(3):
        sim.run_node_agents()
        sim.tick(30)
        sim.reconcile()
    assert len(sim.messages) == 1
    assert sim.on_revision(stable) == sorted(sim.agents)
    sim.edit_spec(env=[{"name": "VERSION", "value": "3"}])
    sim.reconcile()
    assert sim.condition("Stalled")["status"] == "False"
    assert len(sim.on_revision(sim.status["currentRevision"])) == 1


NO_PAUSE = team_spec(
    member("pm", role="pm"),
    member("dev", 19),
    strategy={"canary": {"steps": [{"name": "canary", "weight": 5}, {"name": "production", "weight": 100}]}},
)


def test_promote_ends_an_open_ended_pause_once() -> None:
    sim = running(NO_PAUSE)
    sim.edit_spec(env=ENV_V2)
    walk(sim, lambda s: s.status["phase"] == "Paused")
    assert sim.condition("Paused")["reason"] == "WaitingForPromote"
    sim.tick(3600)
    sim.reconcile()
    assert len(sim.on_revision(sim.status["currentRevision"])) == 1
    sim.annotate(ANNOTATION_PROMOTE, "n1")
    sim.reconcile()
    assert sim.status["lastHandled"]["promote"] == "n1"
    assert len(sim.on_revision(sim.status["currentRevision"])) == 20
    assert walk(sim, complete) == [20]
    assert EventReason.ROLLOUT_PROMOTED in reasons(sim)


def test_abort_mid_rollout_returns_every_agent_to_stable() -> None:
    sim = running(TWENTY)
    stable = sim.status["currentRevision"]
    sim.edit_spec(env=ENV_V2)
    walk(sim, lambda s: at_step(s, 1))
    sim.annotate(ANNOTATION_ABORT, "a1")
    sim.reconcile()
    assert sim.on_revision(stable) == sorted(sim.agents)
    assert sim.status["lastHandled"]["abort"] == "a1"
    assert sim.condition("Stalled")["reason"] == "RolloutAborted"


def test_pause_freezes_and_resume_continues() -> None:
    sim = running(TWENTY)
    sim.edit_spec(env=ENV_V2)
    walk(sim, lambda s: at_step(s, 1))
    sim.edit_spec(paused=True)
    frozen = len(sim.on_revision(sim.status["currentRevision"]))
    for _ in range(5):
        sim.run_node_agents()
        sim.tick(600)
        sim.reconcile()
    assert (sim.status["phase"], sim.condition("Paused")["reason"]) == ("Paused", "SpecPaused")
    assert len(sim.on_revision(sim.status["currentRevision"])) == frozen
    sim.edit_spec(paused=False)
    walk(sim, complete)


def test_restarted_at_restarts_every_agent_once_pm_last() -> None:
    spec = team_spec(member("pm", role="pm"), member("dev", 7))
    sim = running(spec)
    sim.annotate(ANNOTATION_RESTARTED_AT, "2026-03-01T13:00:00Z")
    order: list[str] = []
    for _ in range(20):
        sim.reconcile()
        for name, body in sorted(sim.agents.items()):
            if body["spec"].get("restartedAt") and name not in order:
                order.append(name)
        sim.run_node_agents()
        sim.tick(5)
    assert sim.status["lastHandled"]["restartedAt"] == "2026-03-01T13:00:00Z"
    assert order[-1] == "web-pm-0" and len(order) == 8
    assert [n for n, changes in sim.agent_writes if "restart" in changes].count("web-dev-0") == 1
    assert sim.condition("Ready")["status"] == "True"
    assert EventReason.RESTART_STARTED in reasons(sim)


def test_failed_agent_degrades_the_team_and_is_reported_once() -> None:
    sim = running()
    sim.run_node_agents(failed={"web-dev-1"})
    for _ in range(3):
        sim.reconcile()
        sim.tick(30)
    assert sim.status["phase"] == "Degraded"
    assert sim.condition("Stalled")["reason"] == "AgentFailed"
    assert [m["metadata"]["labels"]["orchestrator.tmux.dev/about"] for m in sim.messages.values()] == [
        "web-dev-1"
    ]
    assert reasons(sim).count(EventReason.AGENT_FAILED) == 1


def test_revision_history_is_bounded() -> None:
    sim = running(team_spec(member("dev", 2), revisionHistoryLimit=1, strategy={"type": "AllAtOnce"}))
    for version in range(3):
        sim.edit_spec(env=[{"name": "V", "value": str(version)}])
        walk(sim, complete)
    sim.reconcile()
    assert len(sim.revisions) == 2
    assert f"web-{sim.status['currentRevision']}" in sim.revisions


def foreign_agent(sim: Cluster, name: str, controller: str | None) -> dict[str, Any]:
    body = {k: v for k, v in sim.agents[name].items() if k != "status"}
    refs = [{"uid": controller, "controller": True}] if controller else []
    body["metadata"] = {**body["metadata"], "ownerReferences": refs, "resourceVersion": "500"}
    return body


def test_orphan_with_the_teams_name_is_adopted() -> None:
    sim = running()
    sim.agents["web-dev-0"] = foreign_agent(sim, "web-dev-0", None)
    plan = sim.plan()
    (update,) = plan.agents_to_update
    assert update.changes == ("owner",)
    assert update.patch["metadata"]["ownerReferences"][0]["uid"] == UID
    assert update.patch["metadata"]["resourceVersion"] == "500"


def test_name_taken_by_another_owner_is_reported_not_overwritten() -> None:
    sim = cluster()
    sim.reconcile()
    sim.agents["web-dev-0"] = foreign_agent(sim, "web-dev-0", "someone-else")
    plan = sim.plan()
    assert "web-dev-0" not in {a.name for a in plan.agents_to_create} | {
        u.name for u in plan.agents_to_update
    }
    assert "web-dev-0" not in {d.name for d in plan.agents_to_delete}
    assert plan.status.conditions is not None
    assert any(c.reason == "NameConflict" for c in plan.status.conditions)


def test_deletions_carry_the_uid_and_updates_the_resource_version() -> None:
    sim = running()
    sim.edit_spec(members=[member("pm", role="pm"), member("dev", 1)])
    plan = sim.plan()
    assert {(d.name, d.uid) for d in plan.agents_to_delete} == {
        (n, sim.agents[n]["metadata"]["uid"]) for n in ("web-dev-1", "web-dev-2")
    }
    assert plan.status_patch is not None
    assert plan.status_patch["metadata"]["resourceVersion"] == sim.team["metadata"]["resourceVersion"]


def test_template_change_patches_only_what_changed() -> None:
    sim = running(team_spec(member("dev", 1), strategy={"type": "AllAtOnce"}))
    sim.tick(10)
    sim.edit_spec(env=ENV_V2)
    (update,) = sim.plan().agents_to_update
    assert set(update.patch["spec"]) == {"revision", "template"}
    assert set(update.patch["metadata"]) == {"labels", "annotations", "resourceVersion"}
    assert set(update.patch["metadata"]["labels"]) == {LABEL_REVISION}


def test_a_team_being_deleted_gets_no_writes() -> None:
    sim = running()
    sim.team["metadata"]["deletionTimestamp"] = "2026-03-01T12:00:00Z"
    sim.edit_spec(members=[member("dev", 9)])
    assert sim.plan().writes_nothing


def test_agents_beyond_node_capacity_stay_unscheduled() -> None:
    sim = running(team_spec(), SimNode("node-a", capacity=5))
    sim.edit_spec(members=[member("pm", role="pm"), member("dev", 6)])
    sim.settle()
    unplaced = sorted(n for n, b in sim.agents.items() if not b["spec"].get("nodeName"))
    assert unplaced == ["web-dev-4", "web-dev-5"]
    assert sim.condition("Reconciling")["reason"] == "Unschedulable"


def test_observed_agents_are_read_from_raw_objects() -> None:
    sim = running()
    agents = [ObservedAgent.from_object(b) for b in sim.agents.values()]
    observed = sim.observe()
    assert plan_team(observed).writes_nothing
    assert {a.name for a in agents} == {a.name for a in observed.agents}
