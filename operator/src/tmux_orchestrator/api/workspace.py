"""Workspaces: each agent in its own git worktree of the team's repository (issue 14).

`Workspace` is what users write on the team and, as an override, on a member; every field is optional there so
a member can change one field and inherit the rest. The operator merges the two into `AgentWorkspace`, the
effective settings carried in each Agent's template, with the defaults filled in.
"""

from __future__ import annotations

from pydantic import Field
from pydantic.config import JsonDict

from .common import ApiModel

DEFAULT_BASE_BRANCH = "main"
DEFAULT_BRANCH_PREFIX = "agents/"

# A git ref component: no spaces, no `..`, no `~^:?*[\`, no leading `-` or `/` (git check-ref-format).
_BRANCH_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._/-]*$"
_PREFIX_PATTERN = r"^([A-Za-z0-9_][A-Za-z0-9._/-]*)?$"
_ABSOLUTE_PATH_PATTERN = r"^/"

_SETUP_ITEMS: JsonDict = {"items": {"type": "string", "minLength": 1, "maxLength": 4096}}


class Workspace(ApiModel):
    """The git repository the agents work in. With worktrees on, every agent except the PM gets its own
    worktree and branch; the PM works in the main checkout."""

    repo: str | None = Field(
        default=None,
        max_length=4096,
        pattern=_ABSOLUTE_PATH_PATTERN,
        description="Absolute path of the main checkout of a git repository on the node.",
    )
    worktrees: bool | None = Field(
        default=None,
        description="Give each non-PM agent its own git worktree and branch (default true).",
    )
    base_branch: str | None = Field(
        default=None,
        max_length=255,
        pattern=_BRANCH_PATTERN,
        description="Branch new agent branches start from (default main).",
    )
    branch_prefix: str | None = Field(
        default=None,
        max_length=128,
        pattern=_PREFIX_PATTERN,
        description="Agent branches are named <branchPrefix><agent name> (default agents/).",
    )
    setup: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="argv run once in each new worktree before its agent starts (not a shell line).",
        json_schema_extra=_SETUP_ITEMS,
    )


class AgentWorkspace(ApiModel):
    """The effective workspace of one agent (team settings overridden by its member's)."""

    repo: str = Field(
        max_length=4096, pattern=_ABSOLUTE_PATH_PATTERN, description="Main checkout of the repository."
    )
    worktrees: bool = Field(default=True, description="The agent works in its own worktree (not the PM).")
    base_branch: str = Field(
        default=DEFAULT_BASE_BRANCH, max_length=255, pattern=_BRANCH_PATTERN, description="Base branch."
    )
    branch_prefix: str = Field(
        default=DEFAULT_BRANCH_PREFIX, max_length=128, pattern=_PREFIX_PATTERN, description="Branch prefix."
    )
    setup: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="argv run once in each new worktree.",
        json_schema_extra=_SETUP_ITEMS,
    )


def effective_workspace(team: Workspace | None, member: Workspace | None) -> AgentWorkspace | None:
    """Member fields over team fields; None when neither names a repository."""
    layers = [layer for layer in (team, member) if layer is not None]
    merged: dict[str, object] = {}
    for layer in layers:
        merged.update(layer.model_dump(exclude_none=True))
    if "repo" not in merged:
        return None
    return AgentWorkspace.model_validate(merged)


class WorkspaceStatus(ApiModel):
    """Where the agent works and how far its branch is."""

    path: str | None = Field(default=None, description="Directory the agent runs in.")
    branch: str | None = Field(default=None, description="Branch checked out there.")
    head: str | None = Field(default=None, description="Commit at the branch's tip.")
    dirty: bool | None = Field(default=None, description="Uncommitted changes to tracked or new files.")
    ahead_of_base: int | None = Field(
        default=None, ge=0, description="Commits on the branch that the base branch does not have."
    )
