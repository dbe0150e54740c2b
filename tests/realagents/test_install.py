"""`tmux-orchestrator dev agents`: the pinned CLIs are installed once, in the cache, and really run."""

from __future__ import annotations

import subprocess
from pathlib import Path

from support.processes import BIN
from tmux_orchestrator.devcluster.cachedir import cache_root
from tmux_orchestrator.realagents.versions import VERSIONS, versions_key


def dev_agents(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "tmux-orchestrator"), "dev", "agents", *args],
        capture_output=True,
        text=True,
        timeout=900,  # a first install downloads the CLIs
        check=True,
    )


def test_dev_agents_installs_the_pinned_versions_once() -> None:
    first = dev_agents("--check")
    bin_dir = Path(first.stdout.strip())
    assert bin_dir == cache_root() / "agents" / versions_key() / "bin"
    assert sorted(p.name for p in bin_dir.iterdir()) == ["aider", "claude", "codex"]
    # Each CLI ran and said its version.
    said = dict(line.split(": ", 1) for line in first.stderr.splitlines() if ": " in line)
    assert said["claude"] == f"{VERSIONS['claude-code']} (Claude Code)"
    assert said["codex"] == f"codex-cli {VERSIONS['codex']}"
    assert said["aider"] == f"aider {VERSIONS['aider']}"
    again = dev_agents()
    assert again.stdout == first.stdout
    assert "installing" not in again.stderr  # the cached install is used as it is
    # Nothing half-done is left next to it.
    assert [p.name for p in bin_dir.parent.parent.iterdir() if p.name.startswith(versions_key() + ".")] == []
