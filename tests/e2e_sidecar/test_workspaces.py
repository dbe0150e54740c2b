"""Each agent in its own git worktree: real git, a real node agent process, real tmux, real control plane.

The agents write a file into their working directory as they start, so "where does the agent work" is
answered by the agent itself, not by the node agent's report.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from support.git import git, make_repo
from support.kube import Kubectl, wait_for
from support.manifests import FAKE, agent_manifest
from support.processes import ProjectProcess, tmux
from tmux_orchestrator.api import AgentSpec
from tmux_orchestrator.devcluster.cluster import LocalCluster
from tmux_orchestrator.kube.client import connect
from tmux_sidecar.node.records import AgentRecord, seed_record
from tmux_sidecar.node.workspaces import Workspaces
from tmux_sidecar.profile_plugins import load_profile_or_fallback

RECOVERY = {"backoffSeconds": 1, "maxBackoffSeconds": 4, "maxRestarts": 5, "windowSeconds": 120}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def writes_note(name: str) -> list[str]:
    """The fake agent, after writing a note into the directory it was started in."""
    return ["sh", "-c", f'echo "written by {name}" > note-{name}.txt && exec "$@"', "sh", *FAKE]


def dev(name: str, node: str, repo: Path, *, role: str = "developer", **workspace: Any) -> dict[str, Any]:
    manifest = agent_manifest(
        name,
        node,
        writes_note(name),
        recovery=RECOVERY,
        role=role,
        template={"workspace": {"repo": str(repo), **workspace}},
    )
    return manifest


def status(kube: Kubectl, name: str) -> dict[str, Any]:
    return dict(kube.get("agent", name).get("status") or {})


def running(kube: Kubectl, name: str, timeout: float = 30) -> dict[str, Any]:
    return dict(
        wait_for(
            lambda: (s := status(kube, name)).get("phase") == "Running" and s.get("ready") and s,
            timeout=timeout,
            message=f"{name} Running",
        )
    )


def condition(kube: Kubectl, name: str, reason: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        conditions = {c["type"]: c for c in status(kube, name).get("conditions") or []}
        ready = conditions.get("WorkspaceReady")
        return ready if ready is not None and ready.get("reason") == reason else None

    return dict(wait_for(found, message=f"{name} WorkspaceReady reason {reason}"))


def worktrees(repo: Path) -> dict[str, str]:
    """path → branch of every worktree of `repo`."""
    listed: dict[str, str] = {}
    path = ""
    for line in git(repo, "worktree", "list", "--porcelain").splitlines():
        if line.startswith("worktree "):
            path = line.removeprefix("worktree ")
            listed[path] = ""
        elif line.startswith("branch "):
            listed[path] = line.removeprefix("branch refs/heads/")
    return listed


def pane_path(socket: str, pane: str) -> str:
    return tmux(socket, "display-message", "-p", "-t", pane, "#{pane_current_path}").stdout.strip()


def windows(socket: str) -> list[str]:
    out = tmux(socket, "list-windows", "-a", "-F", "#{session_name}:#{window_name}").stdout
    return sorted(line for line in out.splitlines() if not line.startswith("tmux-orchestrator:"))


def test_three_developers_work_in_three_worktrees_and_the_pm_in_the_main_checkout(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmux_socket: str, repo: Path
) -> None:
    names = ["dev-0", "dev-1", "dev-2"]
    for name in names:
        kube.apply(dev(name, node_name, repo))
    kube.apply(dev("pm-0", node_name, repo, role="pm"))
    reports = {name: running(kube, name) for name in [*names, "pm-0"]}
    base = git(repo, "rev-parse", "main")
    for name in names:
        path = repo / ".worktrees" / name
        assert pane_path(tmux_socket, reports[name]["paneId"]) == str(path)
        assert (path / f"note-{name}.txt").read_text() == f"written by {name}\n"
        others = [other for other in names if other != name]
        assert not any((path / f"note-{other}.txt").exists() for other in others)
        assert not (repo / f"note-{name}.txt").exists()
        assert git(repo, "rev-parse", f"agents/{name}") == base
        expected = {
            "path": str(path),
            "branch": f"agents/{name}",
            "head": base,
            "dirty": True,  # the note is not committed
            "aheadOfBase": 0,
        }
        wait_for(  # refreshed every 15 s while the agent is idle
            lambda n=name, e=expected: status(kube, n).get("workspace") == e,
            timeout=60,
            message=f"{name} workspace",
        )
        assert condition(kube, name, "Ready")["status"] == "True"
    assert worktrees(repo) == {
        str(repo): "main",
        **{str(repo / ".worktrees" / name): f"agents/{name}" for name in names},
    }
    assert pane_path(tmux_socket, reports["pm-0"]["paneId"]) == str(repo)
    assert (repo / "note-pm-0.txt").exists()
    pm_workspace = wait_for(lambda: status(kube, "pm-0").get("workspace"), message="pm workspace")
    assert pm_workspace["path"] == str(repo) and pm_workspace["branch"] == "main"
    # .worktrees/ is excluded locally, so the main checkout shows only the PM's own note.
    assert git(repo, "status", "--porcelain") == "?? note-pm-0.txt"


def test_worktree_and_branch_survive_a_crash_a_node_agent_restart_and_a_template_change(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmux_socket: str, repo: Path
) -> None:
    kube.apply(dev("dev-0", node_name, repo))
    first = running(kube, "dev-0")
    path = repo / ".worktrees" / "dev-0"
    (path / "feature.txt").write_text("work\n")
    git(path, "add", "feature.txt")
    git(path, "commit", "-q", "-m", "feature")
    head = git(path, "rev-parse", "HEAD")
    (path / "draft.txt").write_text("not committed\n")
    wait_for(
        lambda: (status(kube, "dev-0").get("workspace") or {}).get("aheadOfBase") == 1,
        timeout=60,
        message="ahead 1",
    )

    os.kill(first["pid"], signal.SIGKILL)
    again = wait_for(
        lambda: (s := status(kube, "dev-0")).get("phase") == "Running" and s.get("pid") != first["pid"] and s,
        message="restarted after the crash",
    )
    assert pane_path(tmux_socket, again["paneId"]) == str(path)

    sidecar.kill(signal.SIGKILL)
    sidecar.start()
    kube.apply(dev("dev-1", node_name, repo))  # proves the new node agent runs its passes
    running(kube, "dev-1")
    assert status(kube, "dev-0")["pid"] == again["pid"]  # adopted, not restarted

    changed = dev("dev-0", node_name, repo)
    changed["spec"]["template"]["command"] = [*writes_note("dev-0")[:-2], *FAKE, "--title", "Second"]
    changed["spec"]["revision"] = "r2"
    kube.apply(changed)
    third = wait_for(
        lambda: (s := status(kube, "dev-0")).get("revision") == "r2" and s.get("phase") == "Running" and s,
        message="r2 running",
    )
    assert pane_path(tmux_socket, third["paneId"]) == str(path)
    assert "Second" in tmux(tmux_socket, "capture-pane", "-p", "-t", third["paneId"]).stdout
    assert (path / "draft.txt").read_text() == "not committed\n"
    assert git(path, "rev-parse", "HEAD") == head
    assert worktrees(repo) == {
        str(repo): "main",
        str(path): "agents/dev-0",
        str(repo / ".worktrees" / "dev-1"): "agents/dev-1",
    }


def test_a_removed_agent_leaves_its_branch_with_its_uncommitted_work_as_a_wip_commit(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmux_socket: str, repo: Path
) -> None:
    kube.apply(dev("dev-0", node_name, repo))
    running(kube, "dev-0")
    path = repo / ".worktrees" / "dev-0"
    (path / "half-done.txt").write_text("half done\n")
    base = git(repo, "rev-parse", "main")
    kube.run("delete", "agent", "dev-0")
    wait_for(lambda: not path.exists(), message="worktree removed")
    assert windows(tmux_socket) == []
    assert worktrees(repo) == {str(repo): "main"}
    assert git(repo, "log", "-1", "--format=%s", "agents/dev-0").startswith("WIP: uncommitted work of")
    assert git(repo, "rev-parse", "agents/dev-0^") == base
    files = git(repo, "show", "--name-only", "--format=", "agents/dev-0").split()
    assert sorted(files) == ["half-done.txt", "note-dev-0.txt"]
    assert git(repo, "show", "agents/dev-0:half-done.txt") == "half done"
    events = kube.get_all("events.v1.events.k8s.io", "--field-selector", "regarding.name=dev-0")
    notes = [e["note"] for e in events if e.get("reason") == "WorkInProgressCommitted"]
    assert len(notes) == 1 and "agents/dev-0" in notes[0] and "kept" in notes[0]

    kube.apply(dev("dev-0", node_name, repo))  # back again: the branch is reused, with the WIP commit
    running(kube, "dev-0")
    assert (path / "half-done.txt").read_text() == "half done\n"


def test_a_worktree_left_unclaimed_by_a_crash_is_adopted_not_duplicated(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmux_socket: str, repo: Path
) -> None:
    # What a node agent killed between `git worktree add` and writing its owner marker leaves behind.
    path = repo / ".worktrees" / "dev-0"
    git(repo, "worktree", "add", "-q", "-b", "agents/dev-0", str(path), "main")
    (path / "earlier.txt").write_text("from before the crash\n")
    kube.apply(dev("dev-0", node_name, repo))
    current = running(kube, "dev-0")
    assert pane_path(tmux_socket, current["paneId"]) == str(path)
    assert (path / "earlier.txt").exists() and (path / "note-dev-0.txt").exists()
    assert worktrees(repo) == {str(repo): "main", str(path): "agents/dev-0"}


def test_an_agent_deleted_while_the_node_agent_was_down_still_gets_its_wip_commit(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmux_socket: str, repo: Path
) -> None:
    for name in ("dev-0", "dev-1"):
        kube.apply(dev(name, node_name, repo))
        running(kube, name)
    gone = repo / ".worktrees" / "dev-1"
    (gone / "unsaved.txt").write_text("unsaved\n")
    sidecar.kill(signal.SIGKILL)
    kube.run("delete", "agent", "dev-1")
    sidecar.start()
    wait_for(lambda: not gone.exists(), timeout=60, message="orphaned worktree retired")
    assert git(repo, "show", "agents/dev-1:unsaved.txt") == "unsaved"
    assert worktrees(repo) == {str(repo): "main", str(repo / ".worktrees" / "dev-0"): "agents/dev-0"}
    wait_for(lambda: windows(tmux_socket) == ["team:dev-0"], message="its window closed")


def test_setup_runs_once_per_worktree_before_the_agent_starts(
    kube: Kubectl, sidecar: ProjectProcess, node_name: str, tmux_socket: str, repo: Path, tmp_path: Path
) -> None:
    log = tmp_path / "setup.log"
    setup = ["sh", "-c", f"pwd >> {log} && test ! -e note-*.txt && echo ready > .env"]
    for name in ("dev-0", "dev-1"):
        kube.apply(dev(name, node_name, repo, setup=setup))
    first = {name: running(kube, name) for name in ("dev-0", "dev-1")}
    for name in ("dev-0", "dev-1"):
        assert (repo / ".worktrees" / name / ".env").read_text() == "ready\n"
    os.kill(first["dev-0"]["pid"], signal.SIGKILL)
    wait_for(
        lambda: (
            (s := status(kube, "dev-0")).get("phase") == "Running" and s.get("pid") != first["dev-0"]["pid"]
        ),
        message="dev-0 restarted",
    )
    sidecar.kill(signal.SIGKILL)
    sidecar.start()
    kube.apply(dev("dev-2", node_name, repo, setup=setup))
    running(kube, "dev-2")
    assert sorted(log.read_text().splitlines()) == [
        str(repo / ".worktrees" / n) for n in ("dev-0", "dev-1", "dev-2")
    ]


def orphan_branch(repo: Path, branch: str) -> str:
    tree = git(repo, "mktree", "--missing")  # empty tree from empty stdin
    commit = git(repo, "commit-tree", tree, "-m", "unrelated history")
    git(repo, "branch", branch, commit)
    return commit


@pytest.mark.parametrize(
    ("case", "reason", "says"),
    [
        pytest.param("not-a-repo", "NotAGitRepository", "is not a git repository", id="not-a-repository"),
        pytest.param("dirty-main", "MainCheckoutDirty", "README.md", id="dirty-main-checkout"),
        pytest.param("unrelated", "BranchUnrelated", "shares no history with main", id="branch-unrelated"),
        pytest.param("in-use", "BranchInUse", "is checked out in", id="branch-checked-out-elsewhere"),
        pytest.param("setup-fails", "SetupFailed", "exited with status 4: no deps here", id="setup-fails"),
        pytest.param("no-base", "BaseBranchMissing", "base branch trunk does not exist", id="base-missing"),
    ],
)
def test_bad_input_names_the_problem_and_starts_nothing_and_deletes_nothing(
    kube: Kubectl,
    sidecar: ProjectProcess,
    node_name: str,
    tmux_socket: str,
    repo: Path,
    tmp_path: Path,
    case: str,
    reason: str,
    says: str,
) -> None:
    workspace: dict[str, Any] = {}
    target = repo
    unrelated = ""
    if case == "not-a-repo":
        target = tmp_path / "plain"
        target.mkdir()
        (target / "keep.txt").write_text("mine\n")
    elif case == "dirty-main":
        (repo / "README.md").write_text("edited, not committed\n")
    elif case == "unrelated":
        unrelated = orphan_branch(repo, "agents/dev-0")
    elif case == "in-use":
        git(repo, "worktree", "add", "-q", "-b", "agents/dev-0", str(tmp_path / "elsewhere"), "main")
    elif case == "setup-fails":
        workspace["setup"] = ["sh", "-c", "echo no deps here >&2; exit 4"]
    elif case == "no-base":
        workspace["baseBranch"] = "trunk"
    before = worktrees(repo)
    kube.apply(dev("dev-0", node_name, target, **workspace))
    kube.apply(agent_manifest("plain-0", node_name, recovery=RECOVERY))  # an agent without a workspace
    running(kube, "plain-0")
    found = condition(kube, "dev-0", reason)
    assert found["status"] == "False" and says in found["message"], found
    current = status(kube, "dev-0")
    assert current["phase"] == "Pending" and not current.get("ready")
    assert windows(tmux_socket) == ["team:plain-0"]
    if case == "not-a-repo":
        assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]
    elif case == "dirty-main":
        assert (repo / "README.md").read_text() == "edited, not committed\n"
        kube.apply(dev("pm-0", node_name, repo, role="pm"))  # the PM works in the dirty checkout anyway
        running(kube, "pm-0")
        git(repo, "commit", "-q", "-am", "commit the edit")  # fixed: the developer starts without a new spec
        running(kube, "dev-0")
        return
    elif case == "unrelated":
        assert git(repo, "rev-parse", "agents/dev-0") == unrelated
    elif case == "setup-fails":
        # The worktree stays for the user to look at; the agent waits for a setup that works.
        assert worktrees(repo) == {**before, str(repo / ".worktrees" / "dev-0"): "agents/dev-0"}
        return
    assert worktrees(repo) == before


async def test_agents_arriving_one_by_one_keep_their_worktrees_from_the_first_sweep(
    control_plane: LocalCluster, crds: list[str], node_name: str, repo: Path
) -> None:
    """The node agent's first pass over a repository also sweeps worktrees orphaned while it was down. When
    the watch delivers a team's agents one by one, later agents' worktrees are added by prepares queued on the
    repository's lock ahead of that sweep; the sweep must count them as live (CI once saw it remove two)."""
    names = ["dev-0", "dev-1", "dev-2"]
    objects = [dev(name, node_name, repo) for name in names]
    for n, obj in enumerate(objects):
        obj["metadata"].update(namespace="default", uid=f"uid-{n}")
    records = {
        obj["metadata"]["uid"]: seed_record(obj, spec, load_profile_or_fallback(spec.template.profile))
        for obj in objects
        for spec in [AgentSpec.model_validate(obj["spec"])]
    }

    def sweeping() -> bool:
        return any(task.get_name().startswith("workspace sweep") for task in asyncio.all_tasks())

    async with await connect(str(control_plane.kubeconfig)) as kube:
        workspaces = Workspaces(kube=kube, node=node_name, wake=asyncio.Event())
        try:
            seen: dict[str, AgentRecord] = {}
            for uid, record in records.items():  # one pass per watch event, no await between them
                seen[uid] = record
                workspaces.sync(dict(seen))
            async with asyncio.timeout(60):
                while not all(workspaces.directories(records).values()) or sweeping():
                    await asyncio.sleep(0.05)
        finally:
            await workspaces.close()
    expected = {str(repo): "main"} | {str(repo / ".worktrees" / n): f"agents/{n}" for n in names}
    assert worktrees(repo) == expected
