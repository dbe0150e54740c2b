"""Agents' git workspaces on this node: prepare them in the background, report them, retire them.

The sync pass asks `directories()` which agents may start and where, and calls `sync()` once it has applied
its window actions. Git work and setup commands run as one background task per agent (never inside the pass:
a setup may take minutes), serialised per repository; each finished task wakes the pass. A workspace that
cannot be prepared is retried every `retry_interval` seconds (the user may fix the repository), except a setup
command that failed, which runs again only when the workspace settings change or the node agent restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hashlib
import json
import logging
import os
import time
from collections.abc import Collection, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tmux_orchestrator.api import API_VERSION, GROUP, AgentWorkspace, WorkspaceStatus
from tmux_orchestrator.kube import Kube, KubeObject
from tmux_orchestrator.kube.client import describe_error
from tmux_orchestrator.kube.events import event_body
from tmux_sidecar.workspace import (
    AgentIdentity,
    RepoFacts,
    Step,
    StepKind,
    WorkspacePlan,
    WorkspaceReason,
    WorkspaceReport,
    WorktreeEntry,
    branch_name,
    orphaned_worktrees,
    plan_retirement,
    plan_workspace,
    uses_worktree,
    worktree_path,
)

from . import git as g
from .records import AgentRecord

log = logging.getLogger(__name__)

_SETUP_TAIL_LINES = 15
_WIP_IDENTITY = ("-c", "user.name=tmux-orchestrator", "-c", "user.email=tmux-orchestrator@localhost")


@dataclass
class _Tracked:
    identity: AgentIdentity
    workspace: AgentWorkspace
    obj: KubeObject  # kept for the Events about a deleted agent
    reason: WorkspaceReason = WorkspaceReason.PREPARING
    message: str = ""
    path: str | None = None  # set once ready
    status: WorkspaceStatus | None = None
    checked_at: float = 0.0
    task: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return self.task is not None and not self.task.done()

    @property
    def ready(self) -> bool:
        return self.reason is WorkspaceReason.READY and self.path is not None


@dataclass
class Workspaces:
    kube: Kube
    node: str
    wake: asyncio.Event
    refresh_interval: float = 5.0  # while the agent is Busy (it is changing its files)
    idle_refresh_interval: float = 15.0  # otherwise; `git status` of every worktree is the main steady cost
    retry_interval: float = 5.0
    tracked: dict[str, _Tracked] = field(default_factory=dict)  # agent uid → workspace
    retiring: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    swept: set[str] = field(default_factory=set)  # repositories checked for orphaned worktrees
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)  # per repository

    # -- what the pass reads -----------------------------------------------------------------------------

    def directories(self, records: Mapping[str, AgentRecord]) -> dict[str, str | None]:
        """Each agent with a workspace → its directory, or None while it may not start."""
        found: dict[str, str | None] = {}
        for uid, record in records.items():
            workspace = record.spec.template.workspace
            if workspace is None:
                continue
            tracked = self.tracked.get(uid)
            current = tracked is not None and tracked.workspace == workspace
            found[uid] = tracked.path if current and tracked is not None and tracked.ready else None
        return found

    def report(self, record: AgentRecord) -> WorkspaceReport | None:
        if record.spec.template.workspace is None:
            return None
        tracked = self.tracked.get(record.uid)
        if tracked is None or tracked.workspace != record.spec.template.workspace:
            return WorkspaceReport(WorkspaceReason.PREPARING, "preparing the workspace")
        return WorkspaceReport(tracked.reason, tracked.message, tracked.status)

    # -- what the pass starts ----------------------------------------------------------------------------

    def sync(self, records: Mapping[str, AgentRecord], busy: Collection[str] = ()) -> None:
        """Start the background work the agents need: prepare, refresh, retire, sweep orphans. Worktrees of
        `busy` agents are refreshed more often."""
        now = time.monotonic()
        for uid, record in records.items():
            workspace = record.spec.template.workspace
            if workspace is None:
                continue
            identity = AgentIdentity(self.node, record.namespace, record.name, record.spec.role)
            tracked = self.tracked.get(uid)
            if tracked is None or tracked.workspace != workspace or tracked.identity != identity:
                if tracked is not None and tracked.task is not None:
                    tracked.task.cancel()
                tracked = _Tracked(identity=identity, workspace=workspace, obj=record.obj)
                self.tracked[uid] = tracked
            tracked.obj = record.obj
            if tracked.busy:
                continue
            if tracked.ready:
                interval = self.refresh_interval if uid in busy else self.idle_refresh_interval
                if now - tracked.checked_at >= interval:
                    tracked.task = self._spawn(self._refresh(tracked), f"refresh {record.name}")
            elif tracked.reason is WorkspaceReason.PREPARING or (
                tracked.reason is not WorkspaceReason.SETUP_FAILED
                and now - tracked.checked_at >= self.retry_interval
            ):
                tracked.task = self._spawn(self._prepare(tracked), f"prepare {record.name}")
        for uid in set(self.tracked) - set(records):
            gone = self.tracked.pop(uid)
            if gone.task is not None:
                gone.task.cancel()
            self.retiring[uid] = self._spawn(self._retire(gone), f"retire {gone.identity.name}")
        for uid in [uid for uid, task in self.retiring.items() if task.done()]:
            del self.retiring[uid]
        for repo in {t.workspace.repo for t in self.tracked.values()} - self.swept:
            self.swept.add(repo)
            self._spawn(self._sweep(repo), f"sweep {repo}")

    async def close(self) -> None:
        tasks = [t.task for t in self.tracked.values() if t.task is not None] + list(self.retiring.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        async def run() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("workspace task %s failed", name)
            finally:
                self.wake.set()

        return asyncio.create_task(run(), name=f"workspace {name}")

    def _lock(self, repo: str) -> asyncio.Lock:
        return self.locks.setdefault(repo, asyncio.Lock())

    # -- background work ---------------------------------------------------------------------------------

    async def _prepare(self, tracked: _Tracked) -> None:
        workspace, identity = tracked.workspace, tracked.identity
        async with self._lock(workspace.repo):
            repository, plan = await self._plan(identity, workspace)
            if repository is None or plan.blocked is not None:
                self._settle(tracked, plan.blocked or WorkspaceReason.NOT_A_REPOSITORY, plan.message)
                log.info("workspace of %s blocked: %s", identity.name, plan.message)
                return
            for step in plan.steps:
                failure = await _apply_step(step, repository, workspace, tracked.obj, identity)
                if failure is not None:
                    self._settle(tracked, *failure)
                    log.info("workspace of %s: %s", identity.name, failure[1])
                    return
        assert plan.path is not None
        tracked.path = plan.path
        tracked.status = await _status_of(plan.path, workspace)
        self._settle(tracked, WorkspaceReason.READY, _ready_message(plan, workspace, identity))

    async def _plan(
        self, identity: AgentIdentity, workspace: AgentWorkspace
    ) -> tuple[g.Repository | None, WorkspacePlan]:
        repository = await g.open_repository(workspace.repo)
        if isinstance(repository, str):
            return None, plan_workspace(identity, workspace, _not_a_repository(repository))
        branch = branch_name(workspace, identity.name)
        facts = await g.observe_repo(
            repository,
            base=workspace.base_branch,
            branch=branch,
            path=worktree_path(repository.toplevel, identity.name),
        )
        return repository, plan_workspace(identity, workspace, facts)

    async def _refresh(self, tracked: _Tracked) -> None:
        assert tracked.path is not None
        status = await _status_of(tracked.path, tracked.workspace)
        tracked.checked_at = time.monotonic()
        if status is None:
            # The worktree vanished under the agent: prepare it again (the branch still has its commits).
            message = f"{tracked.path} is gone; adding it again"
            tracked.path, tracked.status = None, None
            tracked.reason, tracked.message = WorkspaceReason.PREPARING, message
        elif status != tracked.status:
            tracked.status = status

    def _settle(self, tracked: _Tracked, reason: WorkspaceReason, message: str) -> None:
        tracked.reason, tracked.message = reason, message
        tracked.checked_at = time.monotonic()

    async def _retire(self, gone: _Tracked) -> None:
        if not uses_worktree(gone.workspace, gone.identity.role):
            return
        repository = await g.open_repository(gone.workspace.repo)
        if isinstance(repository, str):
            return
        async with self._lock(gone.workspace.repo):
            if any(t.identity.owner == gone.identity.owner for t in self.tracked.values()):
                return  # deleted and created again under the same name: the new Agent keeps the worktree
            path = worktree_path(repository.toplevel, gone.identity.name)
            entry = next((w for w in await g.list_worktrees(repository) if w.path == path), None)
            await self._retire_entry(repository, entry, gone.identity.owner, _regarding(gone.obj))

    async def _sweep(self, repo: str) -> None:
        """Worktrees of agents deleted while this node agent was not running."""
        repository = await g.open_repository(repo)
        if isinstance(repository, str):
            return
        async with self._lock(repo):
            # Who is live is read under the lock, not when the sweep was started: agents that arrived since
            # then may have had their worktrees added by prepares queued on this lock ahead of the sweep.
            live = {t.identity.owner for t in self.tracked.values()}
            for entry in orphaned_worktrees(await g.list_worktrees(repository), self.node, live):
                assert entry.owner is not None
                _, namespace, name = entry.owner.split("/", 2)
                regarding: KubeObject = {
                    "apiVersion": API_VERSION,
                    "kind": "Agent",
                    "metadata": {"name": name, "namespace": namespace},
                }
                await self._retire_entry(repository, entry, entry.owner, regarding)

    async def _retire_entry(
        self, repository: g.Repository, entry: WorktreeEntry | None, owner: str, regarding: KubeObject
    ) -> None:
        dirty = False
        if entry is not None and not entry.prunable:
            state = await g.read_checkout(entry.path, "HEAD")
            dirty = state is not None and state.dirty
        plan = plan_retirement(entry, owner, dirty)
        if entry is None or not plan.remove:
            if plan.message:
                await self._event(regarding, "Warning", "WorktreeKept", plan.message)
            return
        note = ""
        if plan.commit_wip:
            saved = await _commit_wip(entry.path, owner)
            if saved is None:
                await self._event(
                    regarding, "Warning", "WorktreeKept", f"could not commit the changes in {entry.path}"
                )
                return
            note = f"uncommitted changes committed to {entry.branch} as WIP commit {saved[:12]}; "
            await self._event(
                regarding,
                "Normal",
                "WorkInProgressCommitted",
                f"{note}worktree {entry.path} removed, branch {entry.branch} kept",
            )
        removed = await g.git("-C", repository.toplevel, "worktree", "remove", entry.path)
        if not removed.ok:
            await self._event(
                regarding, "Warning", "WorktreeKept", f"git worktree remove {entry.path}: {removed.message}"
            )
            return
        log.info("removed worktree %s (branch %s kept)", entry.path, entry.branch)
        if not plan.commit_wip:
            await self._event(
                regarding,
                "Normal",
                "WorktreeRemoved",
                f"worktree {entry.path} removed, branch {entry.branch} kept",
            )

    async def _event(self, regarding: KubeObject, type_: str, reason: str, note: str) -> None:
        now = datetime.datetime.now(datetime.UTC)
        digest = hashlib.sha256(f"{note}\n{now.isoformat()}".encode()).hexdigest()[:10]
        body = event_body(
            regarding,
            name=f"{regarding['metadata']['name']}.{reason.lower()}-{digest}",
            type_=type_,
            reason=reason,
            note=note,
            action="Workspace",
            controller=f"{GROUP}/node-agent",
            component="node-agent",
            instance=self.node,
            now=now,
        )
        try:
            await self.kube.create_event(body["metadata"]["namespace"], body)
        except Exception as error:  # best effort: the worktree work is done either way
            log.info("event %s not posted: %s", reason, describe_error(error))


# -- steps -------------------------------------------------------------------------------------------------


async def _apply_step(
    step: Step, repository: g.Repository, workspace: AgentWorkspace, obj: KubeObject, identity: AgentIdentity
) -> tuple[WorkspaceReason, str] | None:
    """Carry out one planned step; a failure is (reason, message) and stops the preparation."""
    top = repository.toplevel
    if step.kind is StepKind.EXCLUDE:
        exclude = Path(repository.common_dir) / "info" / "exclude"
        exclude.parent.mkdir(parents=True, exist_ok=True)
        text = exclude.read_text() if exclude.is_file() else ""
        exclude.write_text(text + ("" if text.endswith("\n") or not text else "\n") + g.EXCLUDE_LINE + "\n")
        return None
    if step.kind is StepKind.PRUNE:
        result = await g.git("-C", top, "worktree", "prune")
    elif step.kind is StepKind.ADD_NEW_BRANCH:
        result = await g.git(
            "-C", top, "worktree", "add", "--no-track", "-b", step.branch, step.path, step.base
        )
    elif step.kind is StepKind.ADD_EXISTING_BRANCH:
        result = await g.git("-C", top, "worktree", "add", step.path, step.branch)
    elif step.kind is StepKind.CLAIM:
        admin = g.admin_dir_of(step.path)
        if admin is None:
            return WorkspaceReason.GIT_FAILED, f"{step.path} is not a linked worktree"
        (admin / g.OWNER_MARKER).write_text(identity.owner + "\n")
        return None
    else:
        return await _run_setup(step.path, workspace, obj)
    if not result.ok:
        return WorkspaceReason.GIT_FAILED, f"git worktree {step.kind.value}: {result.message}"
    return None


async def _run_setup(
    path: str, workspace: AgentWorkspace, obj: KubeObject
) -> tuple[WorkspaceReason, str] | None:
    assert workspace.setup is not None
    env = dict(os.environ)
    for var in obj.get("spec", {}).get("template", {}).get("env") or []:
        env[var["name"]] = var.get("value", "")
    try:
        process = await asyncio.create_subprocess_exec(
            *workspace.setup,
            cwd=path,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
    except OSError as error:
        return WorkspaceReason.SETUP_FAILED, f"setup {workspace.setup[0]} could not start: {error.strerror}"
    try:
        out, _ = await process.communicate()
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        tail = "\n".join(out.decode(errors="replace").rstrip().splitlines()[-_SETUP_TAIL_LINES:])
        return (
            WorkspaceReason.SETUP_FAILED,
            f"setup {json.dumps(workspace.setup)} exited with status {process.returncode}: {tail}".rstrip(
                ": "
            ),
        )
    admin = g.admin_dir_of(path)
    if admin is not None:
        (admin / g.SETUP_MARKER).write_text(json.dumps(workspace.setup) + "\n")
    return None


async def _commit_wip(path: str, owner: str) -> str | None:
    """Commit everything in the worktree; the new head, or None when git refused."""
    added = await g.git("-C", path, "add", "-A")
    if not added.ok:
        return None
    message = f"WIP: uncommitted work of {owner.split('/', 1)[1]}, saved when its worktree was removed"
    committed = await g.git(
        "-C", path, *_WIP_IDENTITY, "-c", "commit.gpgsign=false", "commit", "--no-verify", "-q", "-m", message
    )
    if not committed.ok:
        return None
    head = await g.git("-C", path, "rev-parse", "HEAD")
    return head.out.strip() if head.ok else None


async def _status_of(path: str, workspace: AgentWorkspace) -> WorkspaceStatus | None:
    state = await g.read_checkout(path, workspace.base_branch)
    if state is None:
        return None
    return WorkspaceStatus(
        path=path, branch=state.branch, head=state.head, dirty=state.dirty, ahead_of_base=state.ahead_of_base
    )


def _ready_message(plan: WorkspacePlan, workspace: AgentWorkspace, identity: AgentIdentity) -> str:
    if not uses_worktree(workspace, identity.role):
        return f"working in the main checkout {plan.path}"
    return f"worktree {plan.path} on branch {plan.branch}"


def _not_a_repository(error: str) -> RepoFacts:
    return RepoFacts(is_repository=False, error=error)


def _regarding(obj: KubeObject) -> KubeObject:
    return {
        "apiVersion": obj.get("apiVersion", API_VERSION),
        "kind": obj.get("kind", "Agent"),
        "metadata": obj["metadata"],
    }
