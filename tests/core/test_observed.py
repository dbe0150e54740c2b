"""Reading API objects into observed values, node liveness, and how one agent is read."""

from __future__ import annotations

from typing import Any

import pytest

from tmux_orchestrator.api import AgentPhase, MessagePhase
from tmux_orchestrator.core.naming import ANNOTATION_RESTARTS_AT_UPDATE
from tmux_orchestrator.core.observed import (
    ObservedAgent,
    ObservedMessage,
    ObservedNode,
    ObservedRevision,
    ObservedTeam,
)
from tmux_orchestrator.core.patch import merge_patch

from .builders import agent_status, at, node, observed_agent, stamp, team_spec, view
from .sim import apply_merge_patch

SPEC = team_spec()


def test_team_from_object() -> None:
    team = ObservedTeam.from_object(
        {
            "metadata": {
                "name": "web",
                "namespace": "ns",
                "uid": "u",
                "generation": 4,
                "resourceVersion": "77",
                "annotations": {"orchestrator.tmux.dev/promote": "n1", "empty": ""},
            },
            "spec": {"members": [{"name": "dev", "command": ["claude"]}]},
            "status": {"phase": "Running", "node": "node-a"},
        }
    )
    assert (team.name, team.namespace, team.generation, team.resource_version) == ("web", "ns", 4, "77")
    assert team.annotation("orchestrator.tmux.dev/promote") == "n1"
    assert team.annotation("empty") is None
    assert team.status.node == "node-a"
    assert not team.deleting


def test_agent_from_object_reads_controller_and_deletion() -> None:
    body = {
        "metadata": {
            "name": "web-dev-0",
            "uid": "a1",
            "generation": 2,
            "resourceVersion": "9",
            "deletionTimestamp": stamp(0),
            "ownerReferences": [{"uid": "other"}, {"uid": "team", "controller": True}],
        },
        "spec": observed_agent(SPEC, "dev", 0).spec.to_wire(),
        "status": {"phase": "Running"},
    }
    agent = ObservedAgent.from_object(body)
    assert agent.controller_uid == "team"
    assert agent.deleting
    assert agent.status is not None and agent.status.phase is AgentPhase.RUNNING
    assert len(agent.owner_references) == 2


@pytest.mark.parametrize(
    ("lease", "expected_renewal", "expected_duration"),
    [
        pytest.param({"spec": {"renewTime": "2026-03-01T12:00:00.000000Z"}}, at(0), None, id="micro-time"),
        pytest.param(
            {"spec": {"acquireTime": stamp(-5), "leaseDurationSeconds": 60}}, at(-5), 60, id="acquired"
        ),
        pytest.param(None, None, None, id="no-lease"),
        pytest.param({"spec": {"renewTime": "garbage"}}, None, None, id="unreadable-time"),
    ],
)
def test_node_from_objects(
    lease: dict[str, Any] | None, expected_renewal: Any, expected_duration: int | None
) -> None:
    observed = ObservedNode.from_objects(
        {"metadata": {"name": "n", "labels": {"zone": "a"}}, "spec": {"capacity": 7}}, lease, agent_count=3
    )
    assert (observed.lease_renewed_at, observed.lease_duration_seconds) == (
        expected_renewal,
        expected_duration,
    )
    assert (observed.spec.capacity, observed.labels, observed.agent_count) == (7, {"zone": "a"}, 3)


@pytest.mark.parametrize(
    ("renewed", "duration", "live"),
    [
        pytest.param(-39, 40, True, id="renewed-39s-ago"),
        pytest.param(-40, 40, True, id="exactly-at-expiry"),
        pytest.param(-41, 40, False, id="expired"),
        pytest.param(-50, 60, True, id="longer-lease-duration-honoured"),
        pytest.param(-41, 10, False, id="short-duration-still-40s"),
        pytest.param(None, 40, False, id="never-renewed"),
    ],
)
def test_node_liveness(renewed: float | None, duration: int, live: bool) -> None:
    observed = ObservedNode(
        name="n", lease_renewed_at=None if renewed is None else at(renewed), lease_duration_seconds=duration
    )
    assert observed.is_live(at(0)) is live


@pytest.mark.parametrize(
    ("tmux_ready", "ready"),
    [
        pytest.param(None, True, id="no-condition"),
        pytest.param(True, True, id="true"),
        pytest.param(False, False, id="false"),
    ],
)
def test_node_ready_needs_tmux_not_reported_broken(tmux_ready: bool | None, ready: bool) -> None:
    assert node(tmux_ready=tmux_ready).is_ready(at(0)) is ready


def test_revision_and_message_from_object() -> None:
    revision = ObservedRevision.from_object(
        {
            "metadata": {"name": "web-abc", "labels": {"orchestrator.tmux.dev/revision": "abc"}},
            "revision": 3,
            "data": {"members": {}},
        }
    )
    assert (revision.revision, revision.number) == ("abc", 3)
    message = ObservedMessage.from_object(
        {
            "metadata": {
                "name": "m",
                "creationTimestamp": stamp(5),
                "labels": {"orchestrator.tmux.dev/notification": "idle-report"},
            },
            "status": {"phase": "Delivered"},
        }
    )
    assert (message.kind, message.created_at, message.phase) == ("idle-report", at(5), MessagePhase.DELIVERED)


@pytest.mark.parametrize(
    ("agent_kwargs", "live", "phase"),
    [
        pytest.param({}, True, AgentPhase.RUNNING, id="running"),
        pytest.param({}, False, AgentPhase.LOST, id="node-lease-expired"),
        pytest.param({"node_name": None, "status": None}, True, AgentPhase.PENDING, id="unscheduled"),
        pytest.param({"status": None}, True, AgentPhase.PENDING, id="no-status-yet"),
        pytest.param(
            {"status": agent_status(revision="r", node_name="node-old")},
            True,
            AgentPhase.PENDING,
            id="status-from-old-node",
        ),
        pytest.param({"phase": AgentPhase.CRASHED}, True, AgentPhase.CRASHED, id="crashed"),
    ],
)
def test_effective_agent_phase(agent_kwargs: dict[str, Any], live: bool, phase: AgentPhase) -> None:
    assert view(observed_agent(SPEC, "dev", 0, **agent_kwargs), live=live).phase is phase


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({"ready_since": -100, "started": -200}, at(-100), id="ready-condition-time"),
        pytest.param({"ready_since": None, "started": -200}, at(-200), id="falls-back-to-start"),
        pytest.param({"ready_since": None, "started": None}, None, id="unknown"),
        pytest.param({"phase": AgentPhase.STARTING}, None, id="not-ready"),
    ],
)
def test_ready_since(kwargs: dict[str, Any], expected: Any) -> None:
    assert view(observed_agent(SPEC, "dev", 0, **kwargs)).ready_since == expected


@pytest.mark.parametrize(
    ("restarts", "baseline", "phase", "running_other_revision", "crashes"),
    [
        pytest.param(0, 0, AgentPhase.RUNNING, False, 0, id="healthy"),
        pytest.param(3, 1, AgentPhase.RUNNING, False, 2, id="restarts-since-update"),
        pytest.param(1, 1, AgentPhase.CRASHED, False, 1, id="down-now-counts-once"),
        pytest.param(2, 0, AgentPhase.FAILED, False, 3, id="failed-counts-the-last-crash"),
        pytest.param(0, 4, AgentPhase.RUNNING, False, 0, id="counter-reset-on-new-node"),
        pytest.param(5, 0, AgentPhase.CRASHED, True, 0, id="old-revision-crashes-not-counted"),
    ],
)
def test_crashes_since_update(
    restarts: int, baseline: int, phase: AgentPhase, running_other_revision: bool, crashes: int
) -> None:
    agent = observed_agent(SPEC, "dev", 0, restarts=restarts, baseline=baseline, phase=phase)
    if running_other_revision:
        agent = observed_agent(
            SPEC,
            "dev",
            0,
            status=agent_status(revision="older", restarts=restarts, phase=phase),
            baseline=baseline,
        )
    assert view(agent).crashes_since_update == crashes


def test_crashes_without_a_stamped_baseline_count_only_a_current_crash() -> None:
    agent = observed_agent(SPEC, "dev", 0, restarts=4, phase=AgentPhase.CRASHED)
    unstamped = ObservedAgent(
        name=agent.name,
        spec=agent.spec,
        status=agent.status,
        annotations={k: v for k, v in agent.annotations.items() if k != ANNOTATION_RESTARTS_AT_UPDATE},
    )
    assert view(unstamped).crashes_since_update == 1


@pytest.mark.parametrize(
    ("old", "new", "patch"),
    [
        pytest.param({"a": 1}, {"a": 1}, {}, id="unchanged"),
        pytest.param({"a": 1}, {"a": 2}, {"a": 2}, id="scalar-changed"),
        pytest.param({"a": 1, "b": 2}, {"a": 1}, {"b": None}, id="removed-is-null"),
        pytest.param({"m": {"x": 1, "y": 2}}, {"m": {"x": 1, "y": 3}}, {"m": {"y": 3}}, id="nested"),
        pytest.param({"l": [1, 2]}, {"l": [2]}, {"l": [2]}, id="list-replaced-whole"),
        pytest.param({}, {"m": {"x": 1}}, {"m": {"x": 1}}, id="added-mapping"),
    ],
)
def test_merge_patch(old: dict[str, Any], new: dict[str, Any], patch: dict[str, Any]) -> None:
    assert merge_patch(old, new) == patch
    assert apply_merge_patch(old, patch) == new
