"""git for the node agent: run it (argv, never a shell) and read what the workspace decisions need."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from tmux_sidecar.workspace import WORKTREES_DIR, RepoFacts, WorktreeEntry

OWNER_MARKER = "tmux-orchestrator-owner"
SETUP_MARKER = "tmux-orchestrator-setup"
EXCLUDE_LINE = f"/{WORKTREES_DIR}/"

# No prompts, stable messages, and no index lock taken by our status reads while an agent commits.
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}


@dataclass(frozen=True)
class GitResult:
    code: int
    out: str
    err: str

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def message(self) -> str:
        return (self.err or self.out).strip()


async def git(*args: str, cwd: str | None = None) -> GitResult:
    process = await asyncio.create_subprocess_exec(
        "git",
        *args,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **_GIT_ENV},
    )
    talk = asyncio.ensure_future(process.communicate())
    try:
        out, err = await asyncio.shield(talk)
    except asyncio.CancelledError:
        # Never leave git half way through a change while the next step (or a retirement) starts: let it
        # finish (its output still drained), then give up. The caller's repository lock is held until then.
        await asyncio.wait([talk])
        raise
    assert process.returncode is not None
    return GitResult(process.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


def parse_worktree_list(text: str) -> list[WorktreeEntry]:
    """`git worktree list --porcelain`: blocks of `key value` lines separated by blank lines."""
    entries: list[WorktreeEntry] = []
    for block in text.strip().split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            key, _, value = line.partition(" ")
            fields[key] = value
        if "worktree" not in fields:
            continue
        branch = fields.get("branch")
        entries.append(
            WorktreeEntry(
                path=fields["worktree"],
                head=fields.get("HEAD"),
                branch=branch.removeprefix("refs/heads/") if branch else None,
                prunable="prunable" in fields,
            )
        )
    return entries


def admin_dirs(common_dir: str) -> dict[str, Path]:
    """Worktree path → its administrative directory in the common git directory (works for missing paths)."""
    found: dict[str, Path] = {}
    root = Path(common_dir) / "worktrees"
    if not root.is_dir():
        return found
    for admin in root.iterdir():
        gitdir = admin / "gitdir"
        if gitdir.is_file():
            found[str(Path(gitdir.read_text().strip()).parent)] = admin
    return found


def read_marker(admin: Path | None, name: str) -> str | None:
    if admin is None:
        return None
    marker = admin / name
    return marker.read_text().strip() if marker.is_file() else None


def admin_dir_of(worktree: str) -> Path | None:
    """The administrative directory a linked worktree's `.git` file points to."""
    dot_git = Path(worktree) / ".git"
    if not dot_git.is_file():
        return None
    text = dot_git.read_text().strip()
    if not text.startswith("gitdir:"):
        return None
    return (Path(worktree) / text.removeprefix("gitdir:").strip()).resolve()


@dataclass(frozen=True)
class Repository:
    toplevel: str
    common_dir: str


async def open_repository(repo: str) -> Repository | str:
    """The repository at `repo`, or git's reason why it is not one."""
    if not Path(repo).is_dir():
        return f"no directory {repo}"
    found = await git("-C", repo, "rev-parse", "--show-toplevel", "--git-common-dir")
    lines = found.out.splitlines()
    if not found.ok or len(lines) != 2:
        return found.message or "git rev-parse failed"
    toplevel, common = lines
    return Repository(toplevel=toplevel, common_dir=str((Path(repo) / common).resolve()))


async def list_worktrees(repository: Repository) -> list[WorktreeEntry]:
    listed = await git("-C", repository.toplevel, "worktree", "list", "--porcelain")
    admins = admin_dirs(repository.common_dir)
    entries = []
    for entry in parse_worktree_list(listed.out):
        admin = admins.get(entry.path)
        owner = read_marker(admin, OWNER_MARKER)
        setup = read_marker(admin, SETUP_MARKER)
        entries.append(
            WorktreeEntry(
                path=entry.path,
                head=entry.head,
                branch=entry.branch,
                prunable=entry.prunable,
                owner=owner,
                setup_done=setup is not None,
            )
        )
    return entries


async def observe_repo(repository: Repository, *, base: str, branch: str, path: str) -> RepoFacts:
    """Everything `plan_workspace` reads about the repository, for an agent with `branch` at `path`."""
    top = repository.toplevel
    # Read-only queries, run side by side.
    worktrees, main_branch, dirty, base_head, branch_head = await asyncio.gather(
        list_worktrees(repository),
        git("-C", top, "symbolic-ref", "--short", "-q", "HEAD"),
        git("-C", top, "status", "--porcelain", "--untracked-files=no"),
        git("-C", top, "rev-parse", "--verify", "-q", f"{base}^{{commit}}"),
        git("-C", top, "rev-parse", "--verify", "-q", f"refs/heads/{branch}"),
    )
    related = False
    if base_head.ok and branch_head.ok:
        related = (await git("-C", top, "merge-base", base_head.out.strip(), branch_head.out.strip())).ok
    registered = any(w.path == path for w in worktrees)
    target = Path(path)
    occupied = not registered and (target.is_file() or (target.is_dir() and any(target.iterdir())))
    exclude = Path(repository.common_dir) / "info" / "exclude"
    excluded = exclude.is_file() and EXCLUDE_LINE in exclude.read_text().splitlines()
    return RepoFacts(
        is_repository=True,
        toplevel=top,
        main_branch=main_branch.out.strip() or None if main_branch.ok else None,
        main_dirty=tuple(line[3:] for line in dirty.out.splitlines() if line.strip()),
        worktrees=tuple(worktrees),
        base_exists=base_head.ok,
        branch_head=branch_head.out.strip() if branch_head.ok else None,
        branch_related=related,
        path_occupied=occupied,
        excluded=excluded,
    )


@dataclass(frozen=True)
class CheckoutState:
    branch: str | None
    head: str | None
    dirty: bool
    ahead_of_base: int | None


async def read_checkout(path: str, base: str) -> CheckoutState | None:
    """Branch, head, uncommitted changes and commits ahead of `base` of a checkout; None when unreadable."""
    status = await git("-C", path, "status", "--porcelain=v2", "--branch")
    if not status.ok:
        return None
    head: str | None = None
    branch: str | None = None
    dirty = False
    for line in status.out.splitlines():
        if line.startswith("# branch.oid "):
            value = line.removeprefix("# branch.oid ")
            head = None if value == "(initial)" else value
        elif line.startswith("# branch.head "):
            value = line.removeprefix("# branch.head ")
            branch = None if value == "(detached)" else value
        elif line and not line.startswith("#"):
            dirty = True
    ahead: int | None = None
    if head is not None:
        counted = await git("-C", path, "rev-list", "--count", f"{base}..HEAD")
        ahead = int(counted.out.strip()) if counted.ok and counted.out.strip().isdigit() else None
    return CheckoutState(branch=branch, head=head, dirty=dirty, ahead_of_base=ahead)
