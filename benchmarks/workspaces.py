"""Benchmark: what git worktrees cost the node agent (issue 14).

A real control plane, one real node agent process, real git and N fake agents, twice: without a workspace and
with `workspace.worktrees` on a repository of F files. Measures apply → every agent Running, the node agent's
CPU (its own and its git children's) in steady state, where each worktree's status is refreshed every 5 s,
and, with worktrees, delete → every worktree removed with a WIP commit of one changed file each.

    .venv/bin/python benchmarks/workspaces.py [--agents 20] [--files 2000] [--steady 30]

Writes JSON to benchmarks/results/workspaces.json.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import apply_all, cluster_with_crds, kubectl, write_result

from support.kube import Kubectl, wait_for
from support.manifests import agent_manifest
from support.processes import ProjectProcess, start_sidecar, tmux

TICKS = os.sysconf("SC_CLK_TCK")


def git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b"}
    env |= {"GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}
    subprocess.run(["git", *args], cwd=cwd, check=True, env=env, capture_output=True)


def make_repo(path: Path, files: int) -> None:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    for index in range(files):
        folder = path / f"pkg{index % 50}"
        folder.mkdir(exist_ok=True)
        (folder / f"module{index}.py").write_text(f"VALUE = {index}\n" * 20)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process and its reaped children (git runs as children of the node agent)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS


def running(kube: Kubectl, count: int) -> bool:
    items = kube.get_all("agents")
    return sum(1 for a in items if (a.get("status") or {}).get("phase") == "Running") == count


def run_mode(
    cluster: Any, tmp: Path, *, mode: str, agents: int, repo: Path | None, steady: float
) -> dict[str, Any]:
    kube = Kubectl(cluster.kubeconfig, "default")
    node, socket = f"bench-{mode}", f"tmo-bench-ws-{mode}"
    template = {"workspace": {"repo": str(repo)}} if repo else {}
    sidecar: ProjectProcess = start_sidecar(cluster.kubeconfig, node, socket, tmp)
    result: dict[str, Any] = {}
    try:
        manifests = [
            agent_manifest(
                f"{mode}-dev-{i}", node, team=mode, ordinal=i, namespace="default", template=template
            )
            for i in range(agents)
        ]
        started = time.monotonic()
        apply_all(cluster, manifests)
        wait_for(lambda: running(kube, agents), timeout=300, interval=0.2, message="all Running")
        result["apply_to_all_running_s"] = round(time.monotonic() - started, 2)
        assert sidecar.process is not None
        pid = sidecar.process.pid
        time.sleep(5)  # let the first refreshes after start settle
        before, wall = cpu_seconds(pid), time.monotonic()
        time.sleep(steady)
        result["steady_cpu_percent_of_a_core"] = round(
            100 * (cpu_seconds(pid) - before) / (time.monotonic() - wall), 2
        )
        if repo is not None:
            for i in range(agents):
                (repo / ".worktrees" / f"{mode}-dev-{i}" / "draft.txt").write_text("unfinished\n")
            started = time.monotonic()
            kubectl(cluster, "delete", "agents", "--all", "-n", "default", "--wait=false")
            wait_for(
                lambda: not any((repo / ".worktrees").iterdir()), timeout=300, message="worktrees removed"
            )
            result["delete_to_all_worktrees_removed_s"] = round(time.monotonic() - started, 2)
        else:
            kubectl(cluster, "delete", "agents", "--all", "-n", "default")
        wait_for(lambda: not kube.get_all("agents"), timeout=120, message="agents gone")
    finally:
        sidecar.stop()
        tmux(socket, "kill-server")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--steady", type=float, default=30.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tmo-bench-") as tmp, cluster_with_crds(Path(tmp)) as cluster:
        repo = Path(tmp) / "repo"
        make_repo(repo, args.files)
        result = {
            "agents": args.agents,
            "files": args.files,
            "plain": run_mode(
                cluster, Path(tmp), mode="plain", agents=args.agents, repo=None, steady=args.steady
            ),
            "worktrees": run_mode(
                cluster, Path(tmp), mode="wt", agents=args.agents, repo=repo, steady=args.steady
            ),
        }
    write_result("workspaces", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
