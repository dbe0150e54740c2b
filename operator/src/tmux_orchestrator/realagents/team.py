"""Team members that run the real agent CLIs against a fake model server, and the team of `make demo-real`.

Each member gets its own git project and prepared HOME (`homes.prepare`), so no first-run dialog blocks it
and no API key is needed. Used by `tmux-orchestrator dev real-team` (the demo) and the real-CLI tests.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from .homes import prepare
from .install import AgentBinaries

# The demo team: Claude Code leads, Codex and Aider develop (member name → CLI, role, briefing).
DEMO_MEMBERS: tuple[tuple[str, str, str, str], ...] = (
    (
        "pm",
        "claude-code",
        "pm",
        "You are the PM of the demo-real team. Codex and Aider are your developers.",
    ),
    ("codex", "codex", "developer", "You are a developer on the demo-real team. Take tasks from the PM."),
    ("aider", "aider", "developer", "You are a developer on the demo-real team. Take tasks from the PM."),
)


def real_cli_member(
    cli: str,
    *,
    name: str,
    role: str,
    binaries: AgentBinaries,
    root: Path,
    base_url: str,
    briefing: str | None = None,
) -> dict[str, Any]:
    """A member running `cli` in `root/<name>/project` (a new git repository) with HOME `root/<name>/home`."""
    workdir = root / name / "project"
    workdir.mkdir(parents=True, exist_ok=True)
    if not (workdir / ".git").exists():
        subprocess.run(["git", "init", "-q", str(workdir)], check=True)
    launch = prepare(cli, binaries=binaries, home=root / name / "home", workdir=workdir, base_url=base_url)
    member: dict[str, Any] = {
        "name": name,
        "role": role,
        "command": list(launch.argv),
        "profile": cli,
        "env": [{"name": key, "value": value} for key, value in sorted(launch.env.items())],
        "workingDir": str(workdir),
    }
    if cli == "codex":
        # Opted in (Codex's default is off): this prepared CODEX_HOME holds no one's hooks but ours, so the
        # trust bypass Codex's hooks need skips no review of anything else.
        member["tools"] = {"hooks": True}
    if briefing:
        member["briefing"] = briefing
    return member


def demo_team(name: str, *, binaries: AgentBinaries, root: Path, base_url: str) -> dict[str, Any]:
    """The AgentTeam of `make demo-real`: Claude Code as PM, Codex and Aider as developers."""
    members = [
        real_cli_member(
            cli, name=member, role=role, binaries=binaries, root=root, base_url=base_url, briefing=briefing
        )
        for member, cli, role, briefing in DEMO_MEMBERS
    ]
    return {
        "apiVersion": "orchestrator.tmux.dev/v1alpha1",
        "kind": "AgentTeam",
        "metadata": {"name": name},
        "spec": {
            "mission": "Build a todo web app with tests: the PM plans, Codex writes the API, Aider tests.",
            "members": members,
            "restartPolicy": "Always",
            "recovery": {
                "backoffSeconds": 2,
                "maxBackoffSeconds": 30,
                "maxRestarts": 5,
                "windowSeconds": 300,
            },
            "monitoring": {"idleAfterSeconds": 300, "notifyPM": True},
        },
    }
