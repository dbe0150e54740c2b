"""Names and labels of the objects the operator writes: what users select on with kubectl."""

from __future__ import annotations

import pytest

from tmux_orchestrator.api.constants import LABEL_MEMBER, LABEL_NODE, LABEL_REVISION, LABEL_ROLE, LABEL_TEAM
from tmux_orchestrator.core.naming import (
    agent_labels,
    agent_name,
    bounded_name,
    owner_reference,
    session_name,
    window_name,
)

from .builders import team_spec


@pytest.mark.parametrize(
    ("team", "member", "ordinal", "expected"),
    [
        pytest.param("webapp", "dev", 0, "webapp-dev-0", id="first-replica"),
        pytest.param("webapp", "dev", 12, "webapp-dev-12", id="ordinal-is-decimal"),
        pytest.param("a.b", "pm", 0, "a.b-pm-0", id="dotted-team-name-kept"),
    ],
)
def test_agent_name_is_team_member_ordinal(team: str, member: str, ordinal: int, expected: str) -> None:
    assert agent_name(team, member, ordinal) == expected


def test_window_is_member_and_ordinal() -> None:
    assert window_name("dev", 2) == "dev-2"


@pytest.mark.parametrize(
    ("team", "session", "expected"),
    [
        pytest.param("webapp", None, "webapp", id="defaults-to-team-name"),
        pytest.param("webapp", "shared", "shared", id="spec-session-wins"),
        pytest.param("team.example", None, "team-example", id="dot-is-a-tmux-separator"),
        pytest.param("x" * 63, None, "x" * 63, id="long-name-within-limit"),
    ],
)
def test_session_name(team: str, session: str | None, expected: str) -> None:
    assert session_name(team, team_spec(session=session) if session else team_spec()) == expected


@pytest.mark.parametrize(
    ("node", "expected_node_label"),
    [pytest.param("node-a", "node-a", id="scheduled"), pytest.param(None, "", id="unscheduled-is-empty")],
)
def test_agent_labels_are_the_contract_labels(node: str | None, expected_node_label: str) -> None:
    assert agent_labels("web", "dev", "developer", "abc123", node) == {
        LABEL_TEAM: "web",
        LABEL_MEMBER: "dev",
        LABEL_ROLE: "developer",
        LABEL_REVISION: "abc123",
        LABEL_NODE: expected_node_label,
    }


def test_owner_reference_makes_the_team_the_controller() -> None:
    ref = owner_reference("web", "uid-1")
    assert ref == {
        "apiVersion": "orchestrator.tmux.dev/v1alpha1",
        "kind": "AgentTeam",
        "name": "web",
        "uid": "uid-1",
        "controller": True,
        "blockOwnerDeletion": True,
    }


@pytest.mark.parametrize(
    ("prefix", "expected_length"),
    [
        pytest.param("short", len("short-0123456789"), id="short"),
        pytest.param("p" * 300, 253, id="cut-to-253"),
    ],
)
def test_bounded_name_keeps_the_suffix(prefix: str, expected_length: int) -> None:
    name = bounded_name(prefix, "0123456789")
    assert name.endswith("-0123456789")
    assert len(name) == expected_length
