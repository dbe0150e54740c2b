"""Issue 14, end to end: a team with `spec.workspace` gets one git worktree and branch per developer, the PM
works in the main checkout and hears about the branches, and scaling down keeps every branch.

Real operator, real node agent, real tmux, real git, real control plane."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from support.e2e import FAKE, System, agents, conditions, member, team, wait_status, wait_team_ready
from support.git import git, make_repo
from support.kube import wait_for
from support.processes import project_env


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def plugin_status(system: System, name: str) -> str:
    result = subprocess.run(
        ["kubectl", "agentteam", "-n", system.namespace, "status", name],
        capture_output=True,
        text=True,
        env=project_env(system.kube.kubeconfig),
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_developers_get_worktrees_the_pm_hears_the_branches_and_scaling_down_keeps_them(
    system: System, repo: Path, tmp_path: Path
) -> None:
    kube = system.kube
    setup_log = tmp_path / "setup.log"
    pm_log = tmp_path / "pm.jsonl"
    manifest = team(
        "web",
        system.pool,
        [
            member("pm", role="pm", command=[*FAKE, "--title", "PM", "--log", str(pm_log)]),
            member("dev", replicas=3),
        ],
        workspace={"repo": str(repo), "setup": ["sh", "-c", f"pwd >> {setup_log}"]},
        strategy={"type": "AllAtOnce"},
    )
    kube.apply(manifest)
    wait_team_ready(kube, "web", timeout=90)
    found = agents(kube, "web")
    devs = [f"web-dev-{n}" for n in range(3)]
    for name in devs:
        workspace = found[name]["status"]["workspace"]
        assert workspace["path"] == str(repo / ".worktrees" / name)
        assert workspace["branch"] == f"agents/{name}"
        assert found[name]["spec"]["template"]["workspace"]["repo"] == str(repo)
    assert found["web-pm-0"]["status"]["workspace"]["path"] == str(repo)
    assert sorted(setup_log.read_text().splitlines()) == [str(repo / ".worktrees" / n) for n in devs]

    # A developer commits; kubectl agentteam status shows the branch one ahead.
    worktree = repo / ".worktrees" / "web-dev-1"
    (worktree / "feature.txt").write_text("feature\n")
    git(worktree, "add", "feature.txt")
    git(worktree, "commit", "-q", "-m", "feature")
    wait_for(
        lambda: "agents/web-dev-1 +1" in plugin_status(system, "web"), timeout=60, message="branch +1 shown"
    )

    # The PM crashes: its recovery briefing lists the branches to review.
    os.kill(found["web-pm-0"]["status"]["pid"], signal.SIGKILL)
    wait_for(
        lambda: pm_log.exists() and "Agent branches" in pm_log.read_text(), timeout=60, message="briefing"
    )
    briefing = [json.loads(line)["text"] for line in pm_log.read_text().splitlines() if "branches" in line][
        -1
    ]
    assert "agents/web-dev-1 (web-dev-1: 1 commit(s) ahead of main" in briefing
    assert all(f"agents/{name}" in briefing for name in devs)

    # Scaling down removes web-dev-2's worktree; its unfinished work stays on its branch.
    (repo / ".worktrees" / "web-dev-2" / "unfinished.txt").write_text("half\n")
    manifest["spec"]["members"][1]["replicas"] = 2
    kube.apply(manifest)
    wait_for(lambda: not (repo / ".worktrees" / "web-dev-2").exists(), timeout=60, message="worktree removed")
    assert git(repo, "show", "agents/web-dev-2:unfinished.txt") == "half"
    assert git(repo, "log", "-1", "--format=%s", "agents/web-dev-2").startswith("WIP:")
    assert (repo / ".worktrees" / "web-dev-1" / "feature.txt").exists()
    wait_status(kube, "web", lambda s: s.get("ready") == "3/3", message="3/3 after scale down")


def test_a_repository_that_is_not_one_stalls_the_team_naming_the_problem(
    system: System, tmp_path: Path
) -> None:
    kube = system.kube
    plain = tmp_path / "not-a-repo"
    plain.mkdir()
    manifest = team(
        "web",
        system.pool,
        [member("pm", role="pm"), member("dev", replicas=1)],
        workspace={"repo": str(plain)},
    )
    kube.apply(manifest)

    def stalled() -> dict[str, Any] | None:
        found = conditions(kube.get("agentteam", "web")).get("Stalled")
        return found if found and found["status"] == "True" else None

    condition = wait_for(stalled, timeout=60, message="team Stalled")
    assert condition["reason"] == "WorkspaceNotReady"
    assert "NotAGitRepository" in condition["message"] and str(plain) in condition["message"]
    status = kube.get("agentteam", "web")["status"]
    assert status["phase"] == "Degraded" and status["ready"] == "0/2"
    assert list(plain.iterdir()) == []


def test_team_status_and_a_needs_review_report_carry_the_branch(
    system: System, repo: Path, tmp_path: Path
) -> None:
    kube = system.kube
    logs = tmp_path / "agents"
    logs.mkdir()

    def scripted(*steps: str) -> list[str]:
        script = ";".join(steps)
        return [
            "sh",
            "-c",
            f"exec {' '.join(FAKE)} --log \"{logs}/$TMUX_ORCHESTRATOR_AGENT.log\" --step '{script}'",
        ]

    dev = scripted(
        "idle",
        "run tmux-orchestrator team status",
        "run tmux-orchestrator team report needs-review ready",
        "idle",
    )
    pm = scripted("idle")
    manifest = team(
        "ws",
        system.pool,
        [member("pm", role="pm", command=pm), member("dev", command=dev)],
        workspace={"repo": str(repo)},
    )
    kube.apply(manifest)
    wait_team_ready(kube, "ws", timeout=90)
    kube.run(
        "create",
        "-f",
        "-",
        stdin=json.dumps(
            {
                "apiVersion": "orchestrator.tmux.dev/v1alpha1",
                "kind": "AgentMessage",
                "metadata": {"generateName": "go-"},
                "spec": {"agent": "ws-dev-0", "text": "go"},
            }
        ),
    )

    def entries(agent: str) -> list[dict[str, Any]]:
        path = logs / f"{agent}.log"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    wait_for(lambda: len([e for e in entries("ws-dev-0") if "run" in e]) == 2, timeout=60, message="dev ran")
    status, report = [e for e in entries("ws-dev-0") if "run" in e]
    assert status["status"] == "exit 0" and report["status"] == "exit 0", (status, report)
    header, *rows = status["output"][1:]
    column = header.index("BRANCH")  # the table's columns are aligned: the branch starts under its header
    by_agent = {row.split()[0]: row for row in rows}
    assert by_agent["dev-0"][column:].startswith("agents/ws-dev-0, 0 commit(s) ahead")
    assert by_agent["pm-0"][column:].startswith("main, 0 commit(s) ahead")
    wait_for(
        lambda: any(
            "report needs-review: ready (branch agents/ws-dev-0" in e.get("text", "")
            for e in entries("ws-pm-0")
        ),
        timeout=60,
        message="the PM is told the branch",
    )
