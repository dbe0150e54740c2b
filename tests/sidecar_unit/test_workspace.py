"""Workspace decisions: where each agent works, what is done to get there, and what is refused (pure)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tmux_orchestrator.api import (
    AgentStatus,
    AgentTemplate,
    AgentWorkspace,
    Condition,
    ConditionStatus,
    WorkspaceStatus,
)
from tmux_sidecar.converge import ActionKind, ActionReason, DesiredAgent, ObservedWindow, TmuxAction
from tmux_sidecar.localapi.messages import report_text
from tmux_sidecar.node.git import parse_worktree_list
from tmux_sidecar.workspace import (
    AgentIdentity,
    RepoFacts,
    StepKind,
    WorkspaceReason,
    WorkspaceReport,
    WorktreeEntry,
    hold_until_ready,
    orphaned_worktrees,
    plan_retirement,
    plan_workspace,
    with_workspace,
)

TOP = "/src/app"
PATH = f"{TOP}/.worktrees/team-dev-0"
DEV = AgentIdentity(node="n1", namespace="ns", name="team-dev-0", role="developer")
PM = replace(DEV, name="team-pm-0", role="pm")
OURS = DEV.owner
WS = AgentWorkspace(repo=TOP)
SETUP = AgentWorkspace(repo=TOP, setup=["make", "deps"])
MAIN = WorktreeEntry(path=TOP, head="aaa", branch="main")
# A repository where a new worktree can be added: base exists, nothing in the way, .worktrees/ excluded.
CLEAN = RepoFacts(
    is_repository=True, toplevel=TOP, main_branch="main", worktrees=(MAIN,), base_exists=True, excluded=True
)


def facts(**changes: Any) -> RepoFacts:
    return replace(CLEAN, **changes)


def mine(**changes: Any) -> WorktreeEntry:
    return replace(WorktreeEntry(path=PATH, head="bbb", branch="agents/team-dev-0", owner=OURS), **changes)


K = StepKind
PLANS = [
    pytest.param(DEV, WS, CLEAN, PATH, [K.ADD_NEW_BRANCH, K.CLAIM], id="new-branch-from-base"),
    pytest.param(DEV, SETUP, CLEAN, PATH, [K.ADD_NEW_BRANCH, K.CLAIM, K.SETUP], id="new-with-setup"),
    pytest.param(
        DEV, WS, facts(excluded=False), PATH, [K.EXCLUDE, K.ADD_NEW_BRANCH, K.CLAIM], id="first-excludes"
    ),
    pytest.param(
        DEV,
        WS,
        facts(branch_head="ccc", branch_related=True),
        PATH,
        [K.ADD_EXISTING_BRANCH, K.CLAIM],
        id="existing-related-branch-reused",
    ),
    pytest.param(DEV, WS, facts(worktrees=(MAIN, mine())), PATH, [], id="own-worktree-adopted"),
    pytest.param(
        DEV, SETUP, facts(worktrees=(MAIN, mine(setup_done=True))), PATH, [], id="setup-done-not-rerun"
    ),
    pytest.param(DEV, SETUP, facts(worktrees=(MAIN, mine())), PATH, [K.SETUP], id="setup-not-done-runs"),
    pytest.param(
        DEV,
        WS,
        facts(worktrees=(MAIN, mine(owner=None))),
        PATH,
        [K.CLAIM],
        id="unclaimed-adopted",
    ),
    pytest.param(
        DEV,
        WS,
        facts(worktrees=(MAIN, mine(branch="feature-x"))),
        PATH,
        [],
        id="switched-branch-adopted",
    ),
    pytest.param(
        DEV,
        WS,
        facts(worktrees=(MAIN, mine(prunable=True)), branch_head="bbb", branch_related=True),
        PATH,
        [K.PRUNE, K.ADD_EXISTING_BRANCH, K.CLAIM],
        id="directory-gone-readded",
    ),
    pytest.param(PM, SETUP, facts(main_dirty=("a.py",)), TOP, [], id="pm-main-checkout-even-dirty"),
    pytest.param(DEV, AgentWorkspace(repo=TOP, worktrees=False), CLEAN, TOP, [], id="worktrees-off"),
    pytest.param(
        DEV,
        WS,
        facts(main_dirty=("a.py",), main_branch="feature"),
        PATH,
        [K.ADD_NEW_BRANCH, K.CLAIM],
        id="dirty-checkout-of-another-branch-is-no-risk",
    ),
    pytest.param(
        DEV,
        WS,
        facts(main_dirty=("a.py",), branch_head="ccc", branch_related=True),
        PATH,
        [K.ADD_EXISTING_BRANCH, K.CLAIM],
        id="dirty-main-does-not-block-an-existing-branch",
    ),
]


@pytest.mark.parametrize(("identity", "workspace", "observed", "path", "steps"), PLANS)
def test_plans(
    identity: AgentIdentity, workspace: AgentWorkspace, observed: RepoFacts, path: str, steps: list[StepKind]
) -> None:
    plan = plan_workspace(identity, workspace, observed)
    assert plan.blocked is None, plan.message
    assert plan.path == path
    assert [step.kind for step in plan.steps] == steps


def test_a_new_branch_is_named_after_the_agent_and_starts_at_the_base() -> None:
    workspace = AgentWorkspace(repo=TOP, base_branch="develop", branch_prefix="ai/")
    plan = plan_workspace(DEV, workspace, CLEAN)
    add = plan.steps[0]
    assert (add.kind, add.path, add.branch, add.base) == (K.ADD_NEW_BRANCH, PATH, "ai/team-dev-0", "develop")
    assert plan.branch == "ai/team-dev-0"


OTHER = WorktreeEntry(path="/elsewhere", head="ccc", branch="agents/team-dev-0")
REFUSALS = [
    pytest.param(
        facts(is_repository=False, toplevel=None, error="fatal: not a git repository"),
        WorkspaceReason.NOT_A_REPOSITORY,
        "/src/app is not a git repository: fatal: not a git repository",
        id="not-a-repository",
    ),
    pytest.param(
        facts(base_exists=False), WorkspaceReason.BASE_BRANCH_MISSING, "base branch main", id="base-missing"
    ),
    pytest.param(
        facts(main_dirty=("a.py", "b.py")),
        WorkspaceReason.MAIN_CHECKOUT_DIRTY,
        "uncommitted changes on main (a.py, b.py)",
        id="dirty-main-checkout",
    ),
    pytest.param(
        facts(branch_head="ccc", branch_related=False),
        WorkspaceReason.BRANCH_UNRELATED,
        "branch agents/team-dev-0 exists but shares no history with main",
        id="branch-unrelated",
    ),
    pytest.param(
        facts(worktrees=(MAIN, OTHER), branch_head="ccc", branch_related=True),
        WorkspaceReason.BRANCH_IN_USE,
        "branch agents/team-dev-0 is checked out in /elsewhere",
        id="branch-checked-out-elsewhere",
    ),
    pytest.param(
        facts(worktrees=(MAIN, mine(owner="n2/ns/team-dev-0"))),
        WorkspaceReason.PATH_OCCUPIED,
        "belongs to n2/ns/team-dev-0",
        id="worktree-of-another-node",
    ),
    pytest.param(
        facts(path_occupied=True), WorkspaceReason.PATH_OCCUPIED, "is not a worktree", id="path-occupied"
    ),
]


@pytest.mark.parametrize(("observed", "reason", "message"), REFUSALS)
def test_refusals_name_the_problem_and_do_nothing(
    observed: RepoFacts, reason: WorkspaceReason, message: str
) -> None:
    plan = plan_workspace(DEV, WS, observed)
    assert plan.blocked is reason
    assert message in plan.message
    assert plan.steps == ()


RETIREMENTS = [
    pytest.param(mine(), True, (True, True), id="dirty-committed-then-removed"),
    pytest.param(mine(), False, (False, True), id="clean-removed"),
    pytest.param(None, True, (False, False), id="nothing-there"),
    pytest.param(mine(prunable=True), False, (False, False), id="already-gone"),
    pytest.param(mine(owner="n1/ns/someone-else"), True, (False, False), id="not-ours-left-alone"),
    pytest.param(mine(branch=None), True, (False, False), id="detached-with-changes-kept"),
    pytest.param(mine(branch=None), False, (False, True), id="detached-clean-removed"),
]


@pytest.mark.parametrize(("entry", "dirty", "expected"), RETIREMENTS)
def test_retirement(entry: WorktreeEntry | None, dirty: bool, expected: tuple[bool, bool]) -> None:
    plan = plan_retirement(entry, OURS, dirty)
    assert (plan.commit_wip, plan.remove) == expected


def test_orphans_are_this_nodes_worktrees_of_agents_that_are_gone() -> None:
    gone = mine(path="/a", owner="n1/ns/gone")
    entries = [MAIN, mine(), gone, mine(path="/b", owner="n2/ns/gone"), mine(path="/c", owner=None)]
    assert orphaned_worktrees(entries, "n1", {OURS}) == [gone]


def desired(uid: str, working_dir: str | None = "/tmpl") -> DesiredAgent:
    template = AgentTemplate(command=["x"], working_dir=working_dir)
    return DesiredAgent(
        uid=uid, namespace="ns", name=uid, session="s", window=uid, revision="r", template=template
    )


def test_starts_wait_for_the_workspace_and_run_in_it() -> None:
    window = ObservedWindow(window_id="@1", session="s", name="old", pane_id="%1", agent_uid="old")
    actions = [
        TmuxAction(ActionKind.CREATE, ActionReason.MISSING, agent=desired("ready")),
        TmuxAction(ActionKind.CREATE, ActionReason.MISSING, agent=desired("waiting")),
        TmuxAction(ActionKind.CREATE, ActionReason.MISSING, agent=desired("plain")),
        TmuxAction(
            ActionKind.RESPAWN, ActionReason.REVISION_CHANGED, agent=desired("waiting2"), window=window
        ),
        TmuxAction(ActionKind.KILL, ActionReason.DELETED, window=window),
    ]
    held = hold_until_ready(actions, {"ready": "/wt/ready", "waiting": None, "waiting2": None})
    assert [(a.kind, a.agent.uid if a.agent else None) for a in held] == [
        (ActionKind.CREATE, "ready"),
        (ActionKind.CREATE, "plain"),
        (ActionKind.KILL, None),
    ]
    assert held[0].agent is not None and held[0].agent.template.working_dir == "/wt/ready"
    assert held[0].agent.revision == "r"  # the directory is not a new template
    assert held[1].agent is not None and held[1].agent.template.working_dir == "/tmpl"


NOW = "2026-01-01T00:00:00Z"
EARLIER = "2025-12-31T00:00:00Z"


def test_status_carries_the_workspace_and_a_condition_that_keeps_its_transition_time() -> None:
    workspace = WorkspaceStatus(path=PATH, branch="agents/x", head="bbb", dirty=False, ahead_of_base=2)
    report = WorkspaceReport(WorkspaceReason.READY, "worktree ready", workspace)
    ready = Condition(type="Ready", status=ConditionStatus.TRUE, reason="Running", last_transition_time=NOW)
    before = Condition(
        type="WorkspaceReady", status=ConditionStatus.TRUE, reason="Ready", last_transition_time=EARLIER
    )
    status = with_workspace(AgentStatus(conditions=[ready]), report, AgentStatus(conditions=[before]), NOW)
    assert status.workspace == workspace
    conditions = {c.type: c for c in status.conditions or []}
    assert conditions["Ready"] == ready
    assert conditions["WorkspaceReady"].last_transition_time == EARLIER
    failed = WorkspaceReport(WorkspaceReason.SETUP_FAILED, "setup exited with status 4")
    status = with_workspace(AgentStatus(conditions=[ready]), failed, AgentStatus(conditions=[before]), NOW)
    condition = {c.type: c for c in status.conditions or []}["WorkspaceReady"]
    assert (condition.status, condition.reason, condition.last_transition_time) == (
        ConditionStatus.FALSE,
        "SetupFailed",
        NOW,
    )
    assert condition.message == "setup exited with status 4"


def test_an_agent_without_a_workspace_has_no_workspace_status() -> None:
    status = AgentStatus(phase=None)
    assert with_workspace(status, None, None, NOW) is status


def test_worktree_list_porcelain_is_parsed() -> None:
    text = (
        "worktree /src/app\nHEAD aaa\nbranch refs/heads/main\n\n"
        "worktree /src/app/.worktrees/x\nHEAD bbb\nbranch refs/heads/agents/x\n\n"
        "worktree /gone\nHEAD ccc\ndetached\nprunable gitdir file points to non-existent location\n"
    )
    assert parse_worktree_list(text) == [
        WorktreeEntry(path="/src/app", head="aaa", branch="main"),
        WorktreeEntry(path="/src/app/.worktrees/x", head="bbb", branch="agents/x"),
        WorktreeEntry(path="/gone", head="ccc", branch=None, prunable=True),
    ]


@pytest.mark.parametrize(
    ("workspace", "text"),
    [
        pytest.param(None, "report needs-review: see PR", id="no-workspace"),
        pytest.param({"path": "/src/app"}, "report needs-review: see PR", id="no-branch"),
        pytest.param(
            {"branch": "agents/x", "aheadOfBase": 2, "dirty": True},
            "report needs-review: see PR (branch agents/x, 2 commit(s) ahead, uncommitted changes)",
            id="branch-ahead-dirty",
        ),
        pytest.param(
            {"branch": "agents/x", "aheadOfBase": 0, "dirty": False},
            "report needs-review: see PR (branch agents/x, 0 commit(s) ahead)",
            id="branch-clean",
        ),
    ],
)
def test_a_report_to_the_pm_names_the_branch(workspace: dict[str, Any] | None, text: str) -> None:
    assert report_text("needs-review", "see PR", workspace) == text
