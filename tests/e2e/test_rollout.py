"""Issue 5, end to end: template changes roll out in stages, roll back on failure, and obey the controls."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Any

from support.e2e import (
    FAKE,
    System,
    agents,
    conditions,
    events,
    member,
    revisions,
    team,
    wait_status,
    wait_team_ready,
    with_command,
)
from support.kube import Kubectl, wait_for
from support.processes import project_env


def gated(*weights: int, min_ready: int = 1) -> dict[str, Any]:
    """Canary steps that each wait for a promote (no pauseSeconds)."""
    steps = [{"name": f"step-{w}", "weight": w} for w in weights]
    return {"type": "Canary", "canary": {"steps": steps, "analysis": {"minReadySeconds": min_ready}}}


def plugin(kube: Kubectl, *args: str) -> str:
    """`kubectl agentteam ...` exactly as a user runs it: kubectl finds the plugin on PATH."""
    env = project_env(kube.kubeconfig)
    result = subprocess.run(
        ["kubectl", "agentteam", "-n", str(kube.namespace), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def new_revision_count(kube: Kubectl, name: str, stable: str) -> int:
    return sum(count for revision, count in revisions(kube, name).items() if revision != stable)


def settle(kube: Kubectl, name: str, stable: str, expected: int, hold: float = 4.0) -> None:
    """Exactly `expected` agents reach the new revision and no more follow for `hold` seconds."""
    wait_for(
        lambda: new_revision_count(kube, name, stable) == expected, timeout=60, message=f"{expected} updated"
    )
    deadline = time.monotonic() + hold
    while time.monotonic() < deadline:
        assert new_revision_count(kube, name, stable) == expected
        time.sleep(0.5)


def pm_revision(kube: Kubectl, name: str) -> str:
    return str(agents(kube, name)[f"{name}-pm-0"]["metadata"]["labels"]["orchestrator.tmux.dev/revision"])


def test_twenty_agents_move_one_then_ten_then_all_pm_last(system: System) -> None:
    kube = system.kube
    manifest = team(
        "big", system.pool, [member("pm", role="pm"), member("dev", replicas=19)], strategy=gated(5, 50, 100)
    )
    kube.apply(manifest)
    stable = wait_team_ready(kube, "big", timeout=90)["status"]["currentRevision"]
    changed = with_command(
        with_command(manifest, "dev", [*FAKE, "--title", "v2"]), "pm", [*FAKE, "--title", "PM v2"]
    )
    kube.apply(changed)
    settle(kube, "big", stable, 1)
    status = wait_status(
        kube, "big", lambda s: (s.get("rollout") or {}).get("stepIndex") == 0, message="step 0"
    )
    assert status["rollout"]["weight"] == 5 and status["rollout"]["stage"] == "step-5"
    assert pm_revision(kube, "big") == stable
    assert "step-5 5%" in plugin(kube, "status", "big")
    plugin(kube, "promote", "big")
    settle(kube, "big", stable, 10)
    assert pm_revision(kube, "big") == stable  # the PM moves last
    plugin(kube, "promote", "big")
    final = wait_status(
        kube, "big", lambda s: s.get("phase") == "Running" and s.get("stableRevision") != stable, timeout=90
    )
    assert new_revision_count(kube, "big", stable) == 20
    assert final["updatedReplicas"] == 20 and final["ready"] == "20/20"
    assert final["lastHandled"]["promote"]


def test_crashing_revision_is_rolled_back(system: System) -> None:
    kube = system.kube
    strategy = {
        "type": "Canary",
        "canary": {
            "steps": [
                {"name": "canary", "weight": 20, "pauseSeconds": 5},
                {"name": "production", "weight": 100},
            ],
            "analysis": {"minReadySeconds": 3, "maxCrashes": 0},
            "autoRollback": True,
        },
    }
    manifest = team(
        "web", system.pool, [member("pm", role="pm"), member("dev", replicas=4)], strategy=strategy
    )
    kube.apply(manifest)
    stable = wait_team_ready(kube, "web")["status"]["currentRevision"]
    kube.apply(with_command(manifest, "dev", [*FAKE, "--exit-after", "0.5", "--exit-code", "2"]))
    aborted = wait_status(
        kube,
        "web",
        lambda s: any(c["type"] == "Stalled" and c["status"] == "True" for c in s.get("conditions") or []),
        timeout=60,
        message="Stalled",
    )
    assert aborted["phase"] == "Degraded"
    stalled = conditions({"status": aborted})["Stalled"]
    assert stalled["reason"] == "RolloutAborted"
    wait_for(
        lambda: set(revisions(kube, "web")) == {stable}, timeout=60, message="every agent back on stable"
    )
    wait_for(lambda: events(kube, "RolloutAborted"), message="RolloutAborted event")
    assert all(e["type"] == "Warning" for e in events(kube, "RolloutAborted"))
    wait_for(
        lambda: any("roll" in m["spec"]["text"].lower() for m in kube.get_all("agentmessages")),
        message="the PM is told",
    )
    wait_status(kube, "web", lambda s: s.get("ready") == "5/5", message="all ready again on stable")


def test_abort_mid_rollout_returns_to_stable(system: System) -> None:
    kube = system.kube
    manifest = team(
        "web", system.pool, [member("pm", role="pm"), member("dev", replicas=4)], strategy=gated(20, 100)
    )
    kube.apply(manifest)
    stable = wait_team_ready(kube, "web")["status"]["currentRevision"]
    kube.apply(with_command(manifest, "dev", [*FAKE, "--title", "v2"]))
    settle(kube, "web", stable, 1, hold=1)
    plugin(kube, "abort", "web")
    wait_for(lambda: set(revisions(kube, "web")) == {stable}, timeout=60, message="back on stable")
    status = wait_status(kube, "web", lambda s: s.get("phase") == "Degraded", message="Degraded")
    assert conditions({"status": status})["Stalled"]["reason"] == "RolloutAborted"
    assert status["lastHandled"]["abort"]


def test_pause_freezes_and_resume_continues(system: System) -> None:
    kube = system.kube
    strategy = {
        "type": "Canary",
        "canary": {"steps": [{"name": "all", "weight": 100}], "analysis": {"minReadySeconds": 1}},
    }
    manifest = team(
        "web", system.pool, [member("pm", role="pm"), member("dev", replicas=3)], strategy=strategy
    )
    kube.apply(manifest)
    stable = wait_team_ready(kube, "web")["status"]["currentRevision"]
    plugin(kube, "pause", "web")
    kube.apply(with_command(manifest, "dev", [*FAKE, "--title", "v2"]))
    wait_status(kube, "web", lambda s: s.get("phase") == "Paused", message="Paused")
    settle(kube, "web", stable, 0, hold=4)
    plugin(kube, "resume", "web")
    wait_status(
        kube, "web", lambda s: s.get("phase") == "Running" and s.get("stableRevision") != stable, timeout=60
    )
    assert new_revision_count(kube, "web", stable) == 4


def test_operator_killed_between_steps_resumes_without_skipping(system: System) -> None:
    kube = system.kube
    manifest = team(
        "web", system.pool, [member("pm", role="pm"), member("dev", replicas=9)], strategy=gated(10, 50, 100)
    )
    kube.apply(manifest)
    stable = wait_team_ready(kube, "web")["status"]["currentRevision"]
    kube.apply(with_command(manifest, "dev", [*FAKE, "--title", "v2"]))
    settle(kube, "web", stable, 1, hold=1)
    (canary,) = [
        a
        for a in agents(kube, "web").values()
        if a["metadata"]["labels"]["orchestrator.tmux.dev/revision"] != stable
    ]
    wait_for(lambda: agents(kube, "web")[canary["metadata"]["name"]]["status"].get("phase") == "Running")
    canary_pid = agents(kube, "web")[canary["metadata"]["name"]]["status"]["pid"]
    system.operator.kill(signal.SIGKILL)
    system.operator.start()
    settle(kube, "web", stable, 1, hold=5)  # restarted: still waiting at the first step
    plugin(kube, "promote", "web")
    settle(kube, "web", stable, 5, hold=2)
    after = agents(kube, "web")[canary["metadata"]["name"]]["status"]
    assert after["pid"] == canary_pid and os.path.exists(f"/proc/{canary_pid}")  # not updated twice


def test_all_at_once_moves_every_agent(system: System) -> None:
    kube = system.kube
    manifest = team(
        "web",
        system.pool,
        [member("pm", role="pm"), member("dev", replicas=3)],
        strategy={"type": "AllAtOnce"},
    )
    kube.apply(manifest)
    stable = wait_team_ready(kube, "web")["status"]["currentRevision"]
    kube.apply(with_command(manifest, "dev", [*FAKE, "--title", "v2"]))
    wait_status(
        kube, "web", lambda s: s.get("phase") == "Running" and s.get("stableRevision") != stable, timeout=60
    )
    assert new_revision_count(kube, "web", stable) == 4
