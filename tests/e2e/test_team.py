"""Issue 4, end to end: teams declared with kubectl become agents in tmux, and stay that way."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

from support.e2e import (
    FAKE,
    System,
    agents,
    conditions,
    demo_team,
    events,
    member,
    team,
    wait_status,
    wait_team_ready,
)
from support.kube import wait_for
from support.processes import tmux

LABELS = ("team", "member", "role", "revision", "node")


def windows(socket: str, session: str) -> list[str]:
    out = tmux(socket, "list-windows", "-t", f"={session}", "-F", "#{window_name}").stdout
    return sorted(out.split())


def test_demo_team_becomes_ready_in_tmux(system: System) -> None:
    kube = system.kube
    kube.apply(demo_team(system.pool))
    ready = wait_team_ready(kube, "demo")
    status = ready["status"]
    assert (status["ready"], status["phase"], status["node"]) == ("4/4", "Running", system.nodes[0].name)
    assert conditions(ready)["Ready"]["observedGeneration"] == ready["metadata"]["generation"]
    row = kube.run("get", "agentteams", "--no-headers").stdout.split()
    assert row[:5] == ["demo", "4/4", "Running", "production", system.nodes[0].name]
    team_uid = ready["metadata"]["uid"]
    found = agents(kube, "demo")
    assert sorted(found) == ["demo-dev-0", "demo-dev-1", "demo-pm-0", "demo-qa-0"]
    for name, agent in found.items():
        labels = agent["metadata"]["labels"]
        assert all(f"orchestrator.tmux.dev/{key}" in labels for key in LABELS), labels
        (owner,) = agent["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["uid"], owner["controller"]) == ("AgentTeam", team_uid, True)
        assert agent["status"]["phase"] == "Running" and agent["status"]["pid"] > 0, name
    assert windows(system.nodes[0].socket, "demo") == ["dev-0", "dev-1", "pm-0", "qa-0"]
    # kopf keeps its state in annotations with our prefix; nothing of it is pruned by the schema.
    annotations = ready["metadata"].get("annotations", {})
    assert not any(key.startswith("kopf.zalando.org") for key in annotations)


def test_scaling_adds_and_removes_the_highest_ordinals(system: System) -> None:
    kube = system.kube
    manifest = team("web", system.pool, [member("pm", role="pm"), member("dev", replicas=2)])
    kube.apply(manifest)
    wait_team_ready(kube, "web")
    manifest["spec"]["members"][1]["replicas"] = 4
    kube.apply(manifest)
    wait_status(kube, "web", lambda s: s.get("ready") == "5/5", message="5/5 after scale up")
    assert sorted(agents(kube, "web")) == ["web-dev-0", "web-dev-1", "web-dev-2", "web-dev-3", "web-pm-0"]
    kept = {
        name: a["status"]["pid"]
        for name, a in agents(kube, "web").items()
        if name in ("web-dev-0", "web-dev-1")
    }
    manifest["spec"]["members"][1]["replicas"] = 2
    kube.apply(manifest)
    wait_status(kube, "web", lambda s: s.get("ready") == "3/3", message="3/3 after scale down")
    wait_for(lambda: windows(system.nodes[0].socket, "web") == ["dev-0", "dev-1", "pm-0"], message="windows")
    remaining = agents(kube, "web")
    assert sorted(remaining) == ["web-dev-0", "web-dev-1", "web-pm-0"]
    assert {n: remaining[n]["status"]["pid"] for n in kept} == kept  # survivors untouched


def test_deleting_the_team_leaves_nothing_behind(system: System) -> None:
    kube = system.kube
    kube.apply(demo_team(system.pool))
    wait_team_ready(kube, "demo")
    kube.run("delete", "agentteam", "demo", "--wait=true", "--timeout=60s", timeout=90)
    wait_for(lambda: not agents(kube, "demo"), timeout=60, message="agents garbage-collected")
    wait_for(lambda: windows(system.nodes[0].socket, "demo") == [], message="windows closed")
    for kind in ("agents", "agentmessages", "controllerrevisions"):
        assert kube.get_all(kind) == [], kind


def test_killed_agent_is_restarted_and_the_team_recovers(system: System) -> None:
    kube = system.kube
    kube.apply(demo_team(system.pool))
    wait_team_ready(kube, "demo")
    victim = agents(kube, "demo")["demo-dev-1"]["status"]["pid"]
    os.kill(victim, signal.SIGKILL)
    wait_for(
        lambda: (
            (a := agents(kube, "demo")["demo-dev-1"]["status"]).get("restartCount") == 1
            and a.get("phase") == "Running"
        ),
        timeout=30,
        message="demo-dev-1 restarted",
    )
    wait_status(
        kube, "demo", lambda s: s.get("ready") == "4/4" and s.get("phase") == "Running", message="4/4"
    )


def test_crashed_pm_gets_a_recovery_briefing_on_screen(system: System, tmp_path: Path) -> None:
    kube = system.kube
    log = tmp_path / "pm.jsonl"
    manifest = demo_team(system.pool)
    manifest["spec"]["members"][0]["command"] = [*FAKE, "--title", "PM", "--log", str(log)]
    kube.apply(manifest)
    wait_team_ready(kube, "demo")
    pm = agents(kube, "demo")["demo-pm-0"]
    os.kill(pm["status"]["pid"], signal.SIGKILL)
    wait_for(
        lambda: log.exists() and "Recovery briefing" in log.read_text(),
        timeout=45,
        message="briefing received",
    )
    screen = tmux(system.nodes[0].socket, "capture-pane", "-p", "-t", pm["status"]["paneId"]).stdout
    assert "Recovery briefing" in screen
    briefing = [json.loads(line)["text"] for line in log.read_text().splitlines() if "Recovery" in line][-1]
    for name in ("demo-dev-0", "demo-dev-1", "demo-qa-0"):
        assert name in briefing  # the roster
    assert manifest["spec"]["mission"] in briefing
    messages = kube.get_all("agentmessages")
    assert any(m["status"].get("phase") == "Delivered" and "Recovery" in m["spec"]["text"] for m in messages)


def test_team_moves_when_its_node_is_lost(system: System) -> None:
    kube = system.kube
    kube.apply(demo_team(system.pool))
    wait_team_ready(kube, "demo")
    first = system.nodes[0]
    second = system.start_node()
    first.process.kill(signal.SIGKILL)  # the node agent dies; its Lease is left to expire (40 s)
    tmux(first.socket, "kill-server")
    moved = wait_status(
        kube,
        "demo",
        lambda s: s.get("node") == second.name and s.get("ready") == "4/4",
        timeout=100,
        message="moved",
    )
    assert moved["phase"] == "Running"
    assert all(a["spec"]["nodeName"] == second.name for a in agents(kube, "demo").values())
    assert windows(second.socket, "demo") == ["dev-0", "dev-1", "pm-0", "qa-0"]
    # Events are posted best effort from a queue beside the reconciles: wait for them.
    wait_for(
        lambda: events(kube, "NodeLost") and events(kube, "Rescheduled"), message="NodeLost and Rescheduled"
    )


def test_operator_killed_mid_reconcile_converges_without_duplicates(system: System) -> None:
    kube = system.kube
    manifest = team("big", system.pool, [member("pm", role="pm"), member("dev", replicas=11)])
    kube.apply(manifest)
    wait_for(lambda: agents(kube, "big"), interval=0.05, message="the operator creating agents")
    system.operator.kill(signal.SIGKILL)
    system.operator.start()
    wait_team_ready(kube, "big", timeout=90)
    names = sorted(agents(kube, "big"))
    assert names == sorted(["big-pm-0", *[f"big-dev-{i}" for i in range(11)]])
    assert len(windows(system.nodes[0].socket, "big")) == 12
    assert all(a["status"].get("restartCount", 0) == 0 for a in agents(kube, "big").values())


def test_agents_of_a_lost_node_show_lost_when_nowhere_else_fits(system: System) -> None:
    kube = system.kube
    kube.apply(demo_team(system.pool))
    wait_team_ready(kube, "demo")
    only = system.nodes[0]
    only.process.kill(signal.SIGKILL)
    tmux(only.socket, "kill-server")

    def all_lost() -> dict[str, dict[str, Any]] | None:
        found = agents(kube, "demo")
        return found if all(a.get("status", {}).get("phase") == "Lost" for a in found.values()) else None

    lost = wait_for(all_lost, timeout=100, message="every agent Lost")
    for agent in lost.values():
        ready = conditions(agent)["Ready"]
        assert (ready["status"], ready["reason"]) == ("False", "NodeLost") and "pid" not in agent["status"]
    status = wait_status(kube, "demo", lambda s: s.get("readyReplicas", 0) == 0, message="no ready agents")
    assert conditions({"status": status})["Ready"]["status"] == "False"
    assert kube.run("get", "agents", "--no-headers").stdout.split()[3] == "Lost"
