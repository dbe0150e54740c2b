"""Install the pinned agent CLIs into ~/.cache/tmux-orchestrator/agents/<versions>/ (once).

npm packages go to `npm/`, Aider to its own venv `aider/`, and `bin/` holds `claude`, `codex` and `aider`.
Like the control plane build, the install happens in a temporary directory under a file lock and appears by
an atomic rename, so a half-done install is never used and concurrent callers wait for one install. Each
CLI is run with `--version` before the directory is published; nothing is downloaded at run time.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tmux_orchestrator.devcluster.cachedir import cache_root, locked, staged

from .versions import AIDER_VERSION, CLAUDE_CODE_VERSION, CODEX_VERSION, versions_key

Progress = Callable[[str], None]
COMMANDS = ("claude", "codex", "aider")
# What `<command> --version` prints, as a pattern that must find the pinned version.
_VERSION_OUTPUT = {
    "claude": rf"^{re.escape(CLAUDE_CODE_VERSION)} \(Claude Code\)",
    "codex": rf"^codex-cli {re.escape(CODEX_VERSION)}$",
    "aider": rf"^aider {re.escape(AIDER_VERSION)}$",
}


# Aider's console script, spelled out (the script itself names the venv's build path); argv[0] is "aider".
_AIDER_MAIN = "'import sys; from aider.main import main; sys.argv[0] = \"aider\"; sys.exit(main())'"


class InstallError(RuntimeError):
    """An agent CLI could not be installed; the message carries the installer's own output."""


@dataclass(frozen=True)
class AgentBinaries:
    directory: Path  # the bin directory with claude, codex, aider

    def path(self, command: str) -> Path:
        return self.directory / command


def stderr_progress(message: str) -> None:
    print(f"[agents] {message}", file=sys.stderr, flush=True)


def install_root() -> Path:
    return cache_root() / "agents" / versions_key()


def cached_agents() -> AgentBinaries | None:
    root = install_root()
    if (root / "versions.json").is_file() and all((root / "bin" / c).exists() for c in COMMANDS):
        return AgentBinaries(root / "bin")
    return None


def ensure_agents(progress: Progress = stderr_progress) -> AgentBinaries:
    """The pinned agent CLIs, installed first if they are not cached yet."""
    found = cached_agents()
    if found is not None:
        return found
    target = install_root()
    target.parent.mkdir(parents=True, exist_ok=True)
    with locked(target.parent / ".install.lock"):
        found = cached_agents()  # another process may have installed them while we waited
        if found is not None:
            return found
        return _install(target, progress)


def _install(target: Path, progress: Progress) -> AgentBinaries:
    npm = shutil.which("npm")
    if npm is None:
        raise InstallError("npm (Node.js >= 20) is needed to install Claude Code and Codex")
    python = shutil.which("python3.11") or sys.executable
    started = time.monotonic()
    with staged(target) as staging:
        progress(f"installing Claude Code {CLAUDE_CODE_VERSION} and Codex {CODEX_VERSION} (npm)")
        _run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--loglevel=error",
                "--prefix",
                str(staging / "npm"),
                f"@anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}",
                f"@openai/codex@{CODEX_VERSION}",
            ],
            "npm install",
        )
        progress(f"installing Aider {AIDER_VERSION} (PyPI, own venv)")
        _run([python, "-m", "venv", str(staging / "aider")], "python -m venv")
        pip = [str(staging / "aider" / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        _run([*pip, "install", "--quiet", f"aider-chat=={AIDER_VERSION}"], "pip install aider-chat")
        bin_dir = staging / "bin"
        bin_dir.mkdir()
        # Relative links survive the rename; claude is the platform package's native binary itself, so
        # no install script has to have run.
        (bin_dir / "claude").symlink_to(Path("..") / "npm" / "node_modules" / _claude_native(staging))
        (bin_dir / "codex").symlink_to(Path("../npm/node_modules/@openai/codex/bin/codex.js"))
        # A venv's scripts name the venv's path in their first line, which the rename changes: start
        # Aider through the venv's python at its final place instead.
        wrapper = bin_dir / "aider"
        wrapper.write_text(f'#!/bin/sh\nexec "{target}/aider/bin/python" -c {_AIDER_MAIN} "$@"\n')
        wrapper.chmod(0o755)
        _verify(bin_dir, staging, target)
        (staging / "versions.json").write_text(
            json.dumps(
                {"claude-code": CLAUDE_CODE_VERSION, "codex": CODEX_VERSION, "aider": AIDER_VERSION}, indent=1
            )
            + "\n"
        )
    progress(f"installed in {time.monotonic() - started:.0f}s into {target}")
    return AgentBinaries(target / "bin")


def _claude_native(staging: Path) -> Path:
    """The platform package with Claude Code's native binary (npm installs only the matching one)."""
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower()
    )
    if arch is None:
        raise InstallError(f"Claude Code has no native package for {platform.machine()}")
    scope = staging / "npm" / "node_modules" / "@anthropic-ai"
    for name in (f"claude-code-linux-{arch}", f"claude-code-linux-{arch}-musl"):
        if (scope / name / "claude").is_file():
            return Path("@anthropic-ai") / name / "claude"
    found = sorted(p.name for p in scope.iterdir()) if scope.is_dir() else []
    raise InstallError(f"npm installed no Claude Code native package for linux-{arch} (found: {found})")


def _verify(bin_dir: Path, staging: Path, target: Path) -> None:
    """Run each CLI's --version; Aider's wrapper points at the final place, so run its module directly."""
    for command, pattern in _VERSION_OUTPUT.items():
        argv = [str(bin_dir / command), "--version"]
        if command == "aider":
            argv = [str(staging / "aider" / "bin" / "python"), "-c", _AIDER_MAIN.strip("'"), "--version"]
        output = _run(argv, f"{command} --version", env={**os.environ, "HOME": str(staging)}).strip()
        if not re.search(pattern, output, re.MULTILINE):
            raise InstallError(f"`{command} --version` printed {output!r}, expected the pinned version")


def _run(argv: list[str], what: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
        raise InstallError(f"{what} failed (exit {result.returncode}):\n{tail}")
    return result.stdout


def installed_versions(binaries: AgentBinaries) -> dict[str, str]:
    """What each installed CLI says its version is (for `dev agents --check`)."""
    found = {}
    for command in COMMANDS:
        output = _run([str(binaries.path(command)), "--version"], f"{command} --version")
        found[command] = output.strip().splitlines()[-1] if output.strip() else ""
    return found
