"""Where an agent works: its own git worktree and branch, or the main checkout (pure decisions).

The node agent observes a repository (`RepoFacts`), and `plan_workspace` says what to do so the agent can
start: adopt the worktree already at its path, add one (from an existing branch, or a new branch from the
base), claim it, run the setup command once, or refuse with a reason that names the problem. Refusals never
delete anything. `plan_retirement` decides what happens when the agent goes away: uncommitted work becomes a
WIP commit on its branch, then the worktree is removed and the branch kept. The git I/O is in
`tmux_sidecar.node.workspaces`.

Paths are stable: `<main checkout>/.worktrees/<agent name>` on branch `<branchPrefix><agent name>`, so an
agent restart, a node-agent restart or a template change finds the same worktree again. An owner marker in the
worktree's git directory (not in its files) says which agent of which node the worktree belongs to, so two
agents never share one and a worktree left by a crash is adopted rather than added twice.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

from tmux_orchestrator.api import AgentStatus, AgentWorkspace, Condition, ConditionStatus, WorkspaceStatus
from tmux_orchestrator.api.constants import PM_ROLE

from .converge import ActionKind, DesiredAgent, TmuxAction

WORKTREES_DIR = ".worktrees"
CONDITION_TYPE = "WorkspaceReady"


class WorkspaceReason(StrEnum):
    """Reason of the WorkspaceReady condition; every refusal names its problem."""

    READY = "Ready"
    PREPARING = "Preparing"
    NOT_A_REPOSITORY = "NotAGitRepository"
    BASE_BRANCH_MISSING = "BaseBranchMissing"
    MAIN_CHECKOUT_DIRTY = "MainCheckoutDirty"
    BRANCH_UNRELATED = "BranchUnrelated"
    BRANCH_IN_USE = "BranchInUse"
    PATH_OCCUPIED = "WorktreePathOccupied"
    SETUP_FAILED = "SetupFailed"
    GIT_FAILED = "GitFailed"


class StepKind(StrEnum):
    PRUNE = "Prune"  # forget a registered worktree whose directory is gone
    EXCLUDE = "Exclude"  # keep .worktrees/ out of the main checkout's `git status` (info/exclude)
    ADD_NEW_BRANCH = "AddNewBranch"  # git worktree add -b <branch> <path> <base>
    ADD_EXISTING_BRANCH = "AddExistingBranch"  # git worktree add <path> <branch>
    CLAIM = "Claim"  # write the owner marker
    SETUP = "Setup"  # run the setup argv in the worktree, then mark it done


@dataclass(frozen=True)
class AgentIdentity:
    node: str
    namespace: str
    name: str
    role: str

    @property
    def owner(self) -> str:
        """The owner marker's content: the same agent name on another node or namespace is someone else."""
        return f"{self.node}/{self.namespace}/{self.name}"


@dataclass(frozen=True)
class WorktreeEntry:
    """One line group of `git worktree list --porcelain`."""

    path: str
    head: str | None = None
    branch: str | None = None  # short name, None when detached
    prunable: bool = False
    owner: str | None = None  # our marker in its git directory, if any
    setup_done: bool = False


@dataclass(frozen=True)
class RepoFacts:
    """What the node agent found in the repository for one agent."""

    is_repository: bool
    error: str = ""  # git's own words when it is not a repository
    toplevel: str | None = None  # the main checkout
    main_branch: str | None = None  # branch checked out in the main checkout
    main_dirty: tuple[str, ...] = ()  # tracked files changed in the main checkout
    worktrees: tuple[WorktreeEntry, ...] = ()
    base_exists: bool = False
    branch_head: str | None = None  # tip of the agent's branch, when the branch exists
    branch_related: bool = False  # the branch shares history with the base branch
    path_occupied: bool = False  # something that is not a registered worktree is at the agent's path
    excluded: bool = False  # .worktrees/ is already in info/exclude


@dataclass(frozen=True)
class Step:
    kind: StepKind
    path: str = ""
    branch: str = ""
    base: str = ""


@dataclass(frozen=True)
class WorkspacePlan:
    """Where the agent works and the steps to get there; `blocked` says why it cannot start."""

    path: str | None
    branch: str | None
    steps: tuple[Step, ...] = ()
    blocked: WorkspaceReason | None = None
    message: str = ""


def branch_name(workspace: AgentWorkspace, agent: str) -> str:
    return f"{workspace.branch_prefix}{agent}"


def worktree_path(toplevel: str, agent: str) -> str:
    return str(PurePosixPath(toplevel) / WORKTREES_DIR / agent)


def uses_worktree(workspace: AgentWorkspace, role: str) -> bool:
    """The PM works in the main checkout: it reviews and merges the others' branches there."""
    return workspace.worktrees and role != PM_ROLE


def plan_workspace(identity: AgentIdentity, workspace: AgentWorkspace, facts: RepoFacts) -> WorkspacePlan:
    """What to do so that `identity` can start in its workspace; nothing here ever deletes anything."""
    if not facts.is_repository or facts.toplevel is None:
        detail = f": {facts.error}" if facts.error else ""
        return _blocked(WorkspaceReason.NOT_A_REPOSITORY, f"{workspace.repo} is not a git repository{detail}")
    if not uses_worktree(workspace, identity.role):
        return WorkspacePlan(path=facts.toplevel, branch=facts.main_branch)
    branch = branch_name(workspace, identity.name)
    path = worktree_path(facts.toplevel, identity.name)
    if not facts.base_exists:
        return _blocked(
            WorkspaceReason.BASE_BRANCH_MISSING,
            f"base branch {workspace.base_branch} does not exist in {facts.toplevel}",
        )
    registered = next((w for w in facts.worktrees if w.path == path), None)
    steps: list[Step] = [] if facts.excluded else [Step(StepKind.EXCLUDE)]
    if registered is not None and registered.prunable:
        steps.append(Step(StepKind.PRUNE))
        registered = None
    if registered is not None:
        if registered.owner not in (None, identity.owner):
            return _blocked(
                WorkspaceReason.PATH_OCCUPIED, f"worktree {path} belongs to {registered.owner}", path, branch
            )
        # Ours (or left by a crash before it was claimed): adopt it on whatever branch the agent checked out.
        if registered.owner is None:
            steps.append(Step(StepKind.CLAIM, path=path))
        if workspace.setup and not registered.setup_done:
            steps.append(Step(StepKind.SETUP, path=path))
        return WorkspacePlan(path=path, branch=registered.branch or branch, steps=tuple(steps))
    if facts.path_occupied:
        return _blocked(
            WorkspaceReason.PATH_OCCUPIED,
            f"{path} exists and is not a worktree of {facts.toplevel}; move it away",
            path,
            branch,
        )
    elsewhere = next((w for w in facts.worktrees if w.branch == branch and not w.prunable), None)
    if elsewhere is not None:
        return _blocked(
            WorkspaceReason.BRANCH_IN_USE, f"branch {branch} is checked out in {elsewhere.path}", path, branch
        )
    if facts.branch_head is not None:
        if not facts.branch_related:
            return _blocked(
                WorkspaceReason.BRANCH_UNRELATED,
                f"branch {branch} exists but shares no history with {workspace.base_branch}",
                path,
                branch,
            )
        steps.append(Step(StepKind.ADD_EXISTING_BRANCH, path=path, branch=branch))
    else:
        if facts.main_dirty and facts.main_branch == workspace.base_branch:
            shown = ", ".join(facts.main_dirty[:5]) + (" …" if len(facts.main_dirty) > 5 else "")
            return _blocked(
                WorkspaceReason.MAIN_CHECKOUT_DIRTY,
                f"the main checkout {facts.toplevel} has uncommitted changes on {workspace.base_branch} "
                f"({shown}); commit or stash them so branch {branch} starts from what you see",
                path,
                branch,
            )
        steps.append(Step(StepKind.ADD_NEW_BRANCH, path=path, branch=branch, base=workspace.base_branch))
    steps.append(Step(StepKind.CLAIM, path=path))
    if workspace.setup:
        steps.append(Step(StepKind.SETUP, path=path))
    return WorkspacePlan(path=path, branch=branch, steps=tuple(steps))


def _blocked(
    reason: WorkspaceReason, message: str, path: str | None = None, branch: str | None = None
) -> WorkspacePlan:
    return WorkspacePlan(path=path, branch=branch, blocked=reason, message=message)


# -- retirement ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetirementPlan:
    commit_wip: bool
    remove: bool
    message: str = ""


def plan_retirement(entry: WorktreeEntry | None, owner: str, dirty: bool) -> RetirementPlan:
    """An agent went away: keep its work on its branch, then remove its worktree (never the branch).

    Only a worktree this agent owns is touched; a detached worktree keeps its files (a WIP commit there would
    sit on no branch and could be lost)."""
    if entry is None or entry.prunable:
        return RetirementPlan(commit_wip=False, remove=False)
    if entry.owner != owner:
        return RetirementPlan(False, False, f"worktree {entry.path} belongs to {entry.owner}; left alone")
    if entry.branch is None and dirty:
        return RetirementPlan(False, False, f"worktree {entry.path} is on no branch and has changes; kept")
    return RetirementPlan(commit_wip=dirty, remove=True)


def orphaned_worktrees(
    entries: Iterable[WorktreeEntry], node: str, live_owners: Collection[str]
) -> list[WorktreeEntry]:
    """Worktrees this node created for agents that no longer exist (deleted while the node agent was down)."""
    prefix = f"{node}/"
    return [
        entry
        for entry in entries
        if entry.owner is not None and entry.owner.startswith(prefix) and entry.owner not in live_owners
    ]


# -- windows and status ----------------------------------------------------------------------------------


def hold_until_ready(actions: Iterable[TmuxAction], workspaces: Mapping[str, str | None]) -> list[TmuxAction]:
    """Drop the starts of agents whose workspace is not ready and start the others in their workspace.

    `workspaces` maps the uid of each agent that has a workspace to its directory, or None while it is not
    ready; agents without a workspace are not in it and pass unchanged. Kills always go through."""
    held: list[TmuxAction] = []
    for action in actions:
        agent = action.agent
        if action.kind is ActionKind.KILL or agent is None or agent.uid not in workspaces:
            held.append(action)
            continue
        path = workspaces[agent.uid]
        if path is not None:
            held.append(TmuxAction(action.kind, action.reason, in_directory(agent, path), action.window))
    return held


def in_directory(agent: DesiredAgent, path: str) -> DesiredAgent:
    if agent.template.working_dir == path:
        return agent
    template = agent.template.model_copy(update={"working_dir": path})
    return DesiredAgent(
        uid=agent.uid,
        namespace=agent.namespace,
        name=agent.name,
        session=agent.session,
        window=agent.window,
        revision=agent.revision,  # the hash of the spec's template: the directory is not a new revision
        template=template,
        desired_state=agent.desired_state,
        restarted_at=agent.restarted_at,
    )


@dataclass(frozen=True)
class WorkspaceReport:
    """What status says about the agent's workspace."""

    reason: WorkspaceReason
    message: str = ""
    workspace: WorkspaceStatus | None = None

    @property
    def ready(self) -> bool:
        return self.reason is WorkspaceReason.READY


def with_workspace(
    status: AgentStatus, report: WorkspaceReport | None, previous: AgentStatus | None, now: str
) -> AgentStatus:
    """`status` with the workspace and its WorkspaceReady condition, whose transition time `previous` keeps
    (the status of an agent without a workspace is returned unchanged)."""
    if report is None:
        return status
    conditions = [c for c in status.conditions or () if c.type != CONDITION_TYPE]
    conditions.append(workspace_condition(report, previous.conditions or () if previous else (), now))
    return status.model_copy(update={"workspace": report.workspace, "conditions": conditions})


def workspace_condition(report: WorkspaceReport, previous: Iterable[Condition], now: str) -> Condition:
    status = ConditionStatus.TRUE if report.ready else ConditionStatus.FALSE
    before = next((c for c in previous if c.type == CONDITION_TYPE), None)
    keep = before is not None and before.status is status and before.last_transition_time
    return Condition(
        type=CONDITION_TYPE,
        status=status,
        reason=report.reason.value,
        message=report.message or None,
        last_transition_time=before.last_transition_time if keep and before else now,
    )
