"""The project's cache directory and how things are published into it: built once under a file lock, in a
staging directory that appears at its final place by one atomic rename (a half-done build is never used).
Shared by the control plane build (devcluster.build) and the agent CLI install (realagents.install)."""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def cache_root() -> Path:
    override = os.environ.get("TMUX_ORCHESTRATOR_CACHE")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tmux-orchestrator"


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Exclusive across processes: concurrent callers wait for one build instead of racing."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def staged(target: Path) -> Iterator[Path]:
    """A fresh directory beside `target` to build into. If the block completes, it replaces `target` in one
    rename; if it raises, the staging directory is removed and `target` is left as it was."""
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=target.parent))
    try:
        yield staging
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
