"""kubectl agentteam: the patches its verbs send and what `status` shows."""

from __future__ import annotations

from typing import Any

import pytest

from tmux_orchestrator.core.targets import UnknownTargetError
from tmux_orchestrator.plugin_view import attach_command, control_patch, message_bodies, render_status

PATCHES = [
    ("promote", {"metadata": {"annotations": {"orchestrator.tmux.dev/promote": "n1"}}}),
    ("abort", {"metadata": {"annotations": {"orchestrator.tmux.dev/abort": "n1"}}}),
    ("restart", {"metadata": {"annotations": {"orchestrator.tmux.dev/restartedAt": "n1"}}}),
    ("pause", {"spec": {"paused": True}}),
    ("resume", {"spec": {"paused": False}}),
]


@pytest.mark.parametrize(("verb", "patch"), PATCHES, ids=[p[0] for p in PATCHES])
def test_control_verbs_patch_annotations_or_paused(verb: str, patch: dict[str, Any]) -> None:
    assert control_patch(verb, "n1") == patch


def test_unknown_verb_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown verb"):
        control_patch("explode", "n1")


TEAM = {
    "metadata": {"name": "web", "namespace": "ns"},
    "spec": {
        "strategy": {
            "type": "Canary",
            "canary": {
                "steps": [
                    {"name": "canary", "weight": 5},
                    {"name": "beta", "weight": 50},
                    {"name": "prod", "weight": 100},
                ]
            },
        }
    },
    "status": {
        "phase": "Progressing",
        "ready": "3/4",
        "node": "node-a",
        "currentRevision": "new",
        "stableRevision": "old",
        "rollout": {"stage": "beta", "stepIndex": 1, "weight": 50, "message": "waiting 300s pause"},
        "conditions": [
            {"type": "Ready", "status": "False", "reason": "AgentsNotReady", "message": "3/4 ready"}
        ],
    },
}


def _agent(name: str, revision: str, phase: str = "Running") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"orchestrator.tmux.dev/revision": revision}},
        "spec": {"nodeName": "node-a"},
        "status": {"phase": phase, "activity": "Idle", "restartCount": 1},
    }


def test_status_shows_the_step_weights_and_agents_per_revision() -> None:
    out = render_status(
        TEAM, [_agent("web-dev-0", "new"), _agent("web-dev-1", "old"), _agent("web-pm-0", "old")]
    )
    assert "Steps:     canary 5% → [beta 50%] → prod 100%" in out
    assert "stage beta, weight 50% — waiting 300s pause" in out
    assert "  new: 1 (current)" in out and "  old: 2 (stable)" in out
    assert "Ready:     False AgentsNotReady: 3/4 ready" in out
    assert any(line.split()[:3] == ["web-dev-0", "new", "Running"] for line in out.splitlines())


SEND_TEAM = {
    "metadata": {"name": "web", "namespace": "ns"},
    "spec": {
        "members": [
            {"name": "pm", "role": "pm", "command": ["claude"]},
            {"name": "dev", "replicas": 2, "command": ["claude"]},
        ]
    },
}


def test_send_reaches_each_agent_the_target_names_routed_when_known() -> None:
    bodies = message_bodies(SEND_TEAM, "dev", "hello; #{x}", [_agent("web-dev-0", "new")])
    assert [b["spec"] for b in bodies] == [
        {"agent": "web-dev-0", "text": "hello; #{x}", "deliver": "WhenIdle"},
        {"agent": "web-dev-1", "text": "hello; #{x}", "deliver": "WhenIdle"},
    ]
    routed, unrouted = (b["metadata"]["labels"] for b in bodies)
    assert (routed["orchestrator.tmux.dev/node"], routed["orchestrator.tmux.dev/agent"]) == (
        "node-a",
        "web-dev-0",
    )
    assert "orchestrator.tmux.dev/node" not in unrouted  # the operator routes it once the agent exists
    assert [b["spec"]["agent"] for b in message_bodies(SEND_TEAM, "@pm", "x", [])] == ["web-pm-0"]
    assert [b["spec"]["agent"] for b in message_bodies(SEND_TEAM, "all", "x", [])] == [
        "web-pm-0",
        "web-dev-0",
        "web-dev-1",
    ]


def test_send_to_an_unknown_member_lists_the_members() -> None:
    with pytest.raises(UnknownTargetError, match=r"no agent, member or role 'qa'.*Members: dev, pm\."):
        message_bodies(SEND_TEAM, "qa", "hi", [])


def test_a_check_in_carries_its_time() -> None:
    (body,) = message_bodies(SEND_TEAM, "pm", "status?", [], deliver_after="2030-01-01T00:00:00Z")
    assert body["spec"]["deliverAfter"] == "2030-01-01T00:00:00Z"


ATTACH = [
    (
        "socket-name",
        {"status": {"tmuxSocket": "agents"}},
        ["tmux", "-L", "agents", "attach-session", "-t", "=web"],
    ),
    (
        "socket-path",
        {"status": {"tmuxSocket": "/run/tmux/s"}},
        ["tmux", "-S", "/run/tmux/s", "attach-session", "-t", "=web"],
    ),
    ("default-socket", None, ["tmux", "attach-session", "-t", "=web"]),
]


@pytest.mark.parametrize(("node", "argv"), [a[1:] for a in ATTACH], ids=[a[0] for a in ATTACH])
def test_attach_command(node: dict[str, Any] | None, argv: list[str]) -> None:
    assert attach_command("web", node) == argv


def test_status_shows_each_agents_branch_and_how_far_it_is_ahead() -> None:
    dev = _agent("web-dev-0", "new")
    dev["status"]["workspace"] = {"branch": "agents/web-dev-0", "aheadOfBase": 3, "dirty": True}
    pm = _agent("web-pm-0", "new")
    pm["status"]["workspace"] = {"branch": "main", "aheadOfBase": 0, "dirty": False}
    lines = render_status(TEAM, [dev, pm, _agent("web-qa-0", "new")]).splitlines()
    header = next(line for line in lines if line.startswith("AGENT"))
    assert header.split() == ["AGENT", "REVISION", "PHASE", "ACTIVITY", "RESTARTS", "BRANCH", "REPORT"]
    rows = {line.split()[0]: line.split()[5:-1] for line in lines if line.startswith("web-")}  # REPORT: -
    assert rows == {
        "web-dev-0": ["agents/web-dev-0", "+3", "(uncommitted", "changes)"],
        "web-pm-0": ["main", "+0"],
        "web-qa-0": ["-"],
    }
