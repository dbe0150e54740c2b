"""The Argo CD customizations in deploy/gitops/argocd run in Lua 5.1 (Argo CD's VM speaks 5.1) against sample
AgentTeams and Agents: the health each status maps to, and what the actions change."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from lupa import lua51

REPO = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((REPO / "deploy" / "gitops" / "argocd" / "argocd-cm-patch.yaml").read_text())["data"]
HEALTH = "resource.customizations.health.orchestrator.tmux.dev_"
ACTIONS = yaml.safe_load(CONFIG["resource.customizations.actions.orchestrator.tmux.dev_AgentTeam"])


def run_lua(script: str, obj: dict[str, Any]) -> Any:
    """Run `script` as Argo CD does: the resource as the global `obj`, the script's return value back."""
    lua = lua51.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().obj = lua.table_from(obj, recursive=True)
    return to_python(lua.execute(script))


def to_python(value: Any) -> Any:
    if lua51.lua_type(value) != "table":
        return value
    items = dict(value.items())
    if items and all(isinstance(k, int) for k in items) and sorted(items) == list(range(1, len(items) + 1)):
        return [to_python(items[i]) for i in sorted(items)]
    return {k: to_python(v) for k, v in items.items()}


def condition(type_: str, status: str, reason: str = "", message: str = "") -> dict[str, Any]:
    return {"type": type_, "status": status, "reason": reason, "message": message, "observedGeneration": 3}


def team(
    *conditions: dict[str, Any], observed: int | None = 3, paused: bool = False, **status: Any
) -> dict[str, Any]:
    state: dict[str, Any] = {"conditions": list(conditions), **status}
    if observed is not None:
        state["observedGeneration"] = observed
    return {
        "apiVersion": "orchestrator.tmux.dev/v1alpha1",
        "kind": "AgentTeam",
        "metadata": {"name": "webapp", "namespace": "default", "generation": 3},
        "spec": {"paused": paused, "members": [{"name": "pm", "command": ["claude"]}]},
        "status": state,
    }


def agent(
    phase: str | None, *conditions: dict[str, Any], desired: str = "Running", **status: Any
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "orchestrator.tmux.dev/v1alpha1",
        "kind": "Agent",
        "metadata": {"name": "webapp-dev-0", "namespace": "default", "generation": 1},
        "spec": {"nodeName": "node-a", "desiredState": desired},
    }
    if phase is not None:
        obj["status"] = {"phase": phase, "conditions": list(conditions), **status}
    return obj


READY = condition("Ready", "True", "Reconciled", "4/4 agents ready")
NOT_READY = condition("Ready", "False", "AgentsNotReady", "3/4 agents ready")
RECONCILING = condition("Reconciling", "True", "AgentsNotReady", "waiting for 1 agent")
NOT_RECONCILING = condition("Reconciling", "False", "Reconciled")
STALLED = condition("Stalled", "True", "RolloutAborted", "canary crashed; rolled back to 5d8f02")
NOT_STALLED = condition("Stalled", "False", "NoFailure")

# id → (object, Argo CD health status, text the message contains)
HEALTH_CASES: dict[str, tuple[dict[str, Any], str, str]] = {
    "team-ready": (team(READY, NOT_RECONCILING, NOT_STALLED), "Healthy", "4/4 agents ready"),
    "team-no-status-yet": ({**team(), "status": None}, "Progressing", "Waiting for the first status"),
    "team-status-of-older-generation": (team(READY, observed=2), "Progressing", "generation 3"),
    "team-never-observed": (team(READY, observed=None), "Progressing", "generation 3"),
    "team-reconciling": (team(NOT_READY, RECONCILING, NOT_STALLED), "Progressing", "waiting for 1 agent"),
    "team-stalled": (team(NOT_READY, NOT_RECONCILING, STALLED), "Degraded", "rolled back to 5d8f02"),
    "team-paused-by-spec": (team(READY, paused=True), "Suspended", "spec.paused"),
    "team-waiting-for-promote": (
        team(
            READY,
            condition("Reconciling", "True", "WaitingForPromote", "step beta waits for promote"),
            condition("Paused", "True", "WaitingForPromote", "step beta waits for promote"),
        ),
        "Suspended",
        "waits for promote",
    ),
    "team-in-a-timed-step-pause": (
        team(
            READY,
            condition("Reconciling", "True", "StepPause", "canary pause, 40s left"),
            condition("Paused", "True", "StepPause", "canary pause, 40s left"),
        ),
        "Progressing",
        "40s left",
    ),
    "team-not-ready-without-reason": (team(NOT_READY), "Progressing", "3/4 agents ready"),
    "agent-running": (agent("Running", condition("Ready", "True", "Running")), "Healthy", ""),
    "agent-no-status-yet": (agent(None), "Progressing", "Waiting for the first status"),
    "agent-starting": (
        agent("Starting", condition("Ready", "False", "Starting", "starting")),
        "Progressing",
        "starting",
    ),
    "agent-crashed-restarting": (
        agent("Crashed", condition("Ready", "False", "Crashed", "restarting in 10s")),
        "Progressing",
        "restarting in 10s",
    ),
    "agent-failed": (
        agent("Failed", condition("Ready", "False", "Failed"), lastCrashReason="exited with status 3"),
        "Degraded",
        "Failed: exited with status 3",
    ),
    "agent-lost": (agent("Lost"), "Degraded", "Lost"),
    "agent-stopped": (agent("Stopped", desired="Stopped"), "Suspended", "Stopped"),
}


@pytest.mark.parametrize(("obj", "health", "message"), HEALTH_CASES.values(), ids=list(HEALTH_CASES))
def test_health(obj: dict[str, Any], health: str, message: str) -> None:
    result = run_lua(CONFIG[HEALTH + obj["kind"]], obj)
    assert result["status"] == health
    assert message in result["message"]


def test_both_kinds_share_one_health_script() -> None:
    assert CONFIG[HEALTH + "AgentTeam"] == CONFIG[HEALTH + "Agent"]


def action(name: str) -> str:
    return next(str(d["action.lua"]) for d in ACTIONS["definitions"] if d["name"] == name)


RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.mark.parametrize(
    ("name", "annotation"),
    [("promote", "promote"), ("abort", "abort"), ("restart", "restartedAt")],
    ids=["promote", "abort", "restart"],
)
def test_actions_set_a_fresh_control_annotation_and_nothing_else(name: str, annotation: str) -> None:
    before = team(READY)
    before["metadata"]["annotations"] = {"keep": "me", f"orchestrator.tmux.dev/{annotation}": "old"}
    after = run_lua(action(name), before)
    value = after["metadata"]["annotations"].pop(f"orchestrator.tmux.dev/{annotation}")
    assert RFC3339.match(value) and value != "old"
    assert after["metadata"]["annotations"] == {"keep": "me"}
    assert after["spec"] == before["spec"] and after["status"] == before["status"]
    bare = run_lua(action(name), team(READY))  # no annotations at all yet
    assert RFC3339.match(bare["metadata"]["annotations"][f"orchestrator.tmux.dev/{annotation}"])


def test_promote_and_abort_are_offered_only_during_a_rollout() -> None:
    rolling = run_lua(
        ACTIONS["discovery.lua"], team(READY, currentRevision="7c1a9f", stableRevision="5d8f02")
    )
    settled = run_lua(
        ACTIONS["discovery.lua"], team(READY, currentRevision="5d8f02", stableRevision="5d8f02")
    )
    assert {name: bool(a.get("disabled")) for name, a in rolling.items()} == {
        "promote": False,
        "abort": False,
        "restart": False,
    }
    assert {name: bool(a.get("disabled")) for name, a in settled.items()} == {
        "promote": True,
        "abort": True,
        "restart": False,
    }
    assert {d["name"] for d in ACTIONS["definitions"]} == set(rolling)
