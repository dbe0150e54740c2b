"""A prepared HOME per real agent CLI: pointed at the fake model server, no API key, no first-run dialog.

What each CLI needs (found by running the pinned versions, see docs/operations.md):

- Claude Code: `ANTHROPIC_BASE_URL` and `ANTHROPIC_API_KEY`; in `~/.claude.json` `hasCompletedOnboarding`
  (else onboarding: a theme picker, then "Security notes: … Press Enter to continue"), the key's last 20
  characters under `customApiKeyResponses.approved` (else "Detected a custom API key … Do you want to use
  this API key?", preselected No), and `hasTrustDialogAccepted` for the working directory (else "Quick
  safety check: Is this a project you created or one you trust?", preselected "No, exit"), and
  `hasSeenAutoDefaultNudge` (else "Make auto mode your default permission mode?"). `~/.claude/settings.json`
  sets the permission mode to manual ("default"), so tool calls ask for approval (auto mode is the default).
- Codex: `CODEX_HOME/config.toml` with a `model_providers` entry whose `base_url` is the fake server and
  `wire_api = "responses"`, the key in the env var named by `env_key`, `approval_policy = "on-request"`, and
  the working directory `trust_level = "trusted"` (else "Trust this folder?" in a git repository); started
  with `--no-daemon`, else it leaves an app-server daemon running after it exits.
- Aider: `--model openai/<name> --openai-api-base URL --openai-api-key KEY` and, in `~/.aider.conf.yml`, no
  model warning ("Open documentation url for more info?"), no release notes question, no .gitignore question
  and no update check; `~/.aider.model.metadata.json` describes the fake model (else Aider tries to fetch
  litellm's price list from the internet at every start, prints the failure, and warns of an unknown model);
  `LITELLM_LOCAL_MODEL_COST_MAP` keeps litellm itself from fetching it. Aider asks 10% of its users (by the
  uuid in `~/.aider/analytics.json`) "Allow collection of anonymous analytics to help improve aider?".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .install import AgentBinaries

FAKE_KEY = "sk-fake-model-key-0000000000"  # any string: the fake model accepts every key
CLIS = ("claude-code", "codex", "aider")
AIDER_MODEL = "fake-model"


@dataclass(frozen=True)
class AgentLaunch:
    """How to start one CLI: argv, the environment to add, and where it runs."""

    cli: str  # also the detector profile's name
    argv: tuple[str, ...]
    env: dict[str, str]
    home: Path
    workdir: Path

    def env_argv(self) -> list[str]:
        """`env K=V … argv`: one command line for places that take argv only (a member's command)."""
        return ["env", *(f"{key}={value}" for key, value in sorted(self.env.items())), *self.argv]


def prepare(
    cli: str,
    *,
    binaries: AgentBinaries,
    home: Path,
    workdir: Path,
    base_url: str,
    skip: frozenset[str] = frozenset(),
) -> AgentLaunch:
    """Write the CLI's config into `home` (created) and say how to start it in `workdir`.

    `skip` leaves first-run answers out, to see the dialogs: "trust" (the folder), "apikey" (Claude Code's
    key question), "nudge" (Claude Code's auto mode offer), "onboarding" (Claude Code's theme picker and
    security notes), "config" (Codex's whole config: its sign-in screen; Aider's config file), "analytics"
    (Aider: an analytics id in the share it asks, so with "config" the question always comes)."""
    home.mkdir(parents=True, exist_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    base_url = base_url.rstrip("/")
    if cli == "claude-code":
        return _claude_code(binaries, home, workdir.resolve(), base_url, skip)
    if cli == "codex":
        return _codex(binaries, home, workdir.resolve(), base_url, skip)
    if cli == "aider":
        return _aider(binaries, home, workdir.resolve(), base_url, skip)
    raise ValueError(f"unknown agent CLI {cli!r}; expected one of {', '.join(CLIS)}")


def _claude_code(
    binaries: AgentBinaries, home: Path, workdir: Path, base_url: str, skip: frozenset[str]
) -> AgentLaunch:
    # hasSeenAutoDefaultNudge: else, with the manual permission mode set, "Make auto mode your default
    # permission mode?" is asked at start.
    state: dict[str, object] = {
        "hasCompletedOnboarding": "onboarding" not in skip,
        "hasSeenAutoDefaultNudge": "nudge" not in skip,
    }
    if "apikey" not in skip:
        state["customApiKeyResponses"] = {"approved": [FAKE_KEY[-20:]], "rejected": []}
    if "trust" not in skip:
        state["projects"] = {str(workdir): {"hasTrustDialogAccepted": True, "allowedTools": []}}
    (home / ".claude.json").write_text(json.dumps(state, indent=1) + "\n")
    settings_dir = home / ".claude"
    settings_dir.mkdir(exist_ok=True)
    settings = {"permissions": {"defaultMode": "default"}}
    (settings_dir / "settings.json").write_text(json.dumps(settings, indent=1) + "\n")
    env = {
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": FAKE_KEY,
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    return AgentLaunch("claude-code", (str(binaries.path("claude")),), env, home, workdir)


def _codex(
    binaries: AgentBinaries, home: Path, workdir: Path, base_url: str, skip: frozenset[str]
) -> AgentLaunch:
    codex_home = home / ".codex"
    codex_home.mkdir(exist_ok=True)
    config = f"""\
model = "gpt-5-codex"
model_provider = "fake"
approval_policy = "on-request"
sandbox_mode = "workspace-write"

[model_providers.fake]
name = "Fake model"
base_url = "{base_url}/v1"
wire_api = "responses"
env_key = "FAKE_MODEL_API_KEY"
# Retry a failing model long enough (5 s apart) for a test to see it retry and then recover.
request_max_retries = 20
stream_max_retries = 20

[tui]
screen_reader_detection_done = true
"""
    if "trust" not in skip:
        config += f'\n[projects."{workdir}"]\ntrust_level = "trusted"\n'
    if "config" not in skip:
        (codex_home / "config.toml").write_text(config)
    env = {"HOME": str(home), "CODEX_HOME": str(codex_home), "FAKE_MODEL_API_KEY": FAKE_KEY}
    # Without --no-daemon Codex starts a detached app-server daemon per CODEX_HOME that outlives the CLI
    # (two processes, ~250 MB, never stopped); with it the TUI runs its server in-process and looks the same.
    return AgentLaunch("codex", (str(binaries.path("codex")), "--no-daemon"), env, home, workdir)


def _aider(
    binaries: AgentBinaries, home: Path, workdir: Path, base_url: str, skip: frozenset[str]
) -> AgentLaunch:
    conf = """\
show-model-warnings: false
show-release-notes: false
check-update: false
analytics-disable: true
gitignore: false
"""
    if "config" not in skip:
        (home / ".aider.conf.yml").write_text(conf)
        metadata = {
            f"openai/{AIDER_MODEL}": {
                "max_input_tokens": 128000,
                "max_output_tokens": 8192,
                "input_cost_per_token": 0.0,
                "output_cost_per_token": 0.0,
                "litellm_provider": "openai",
                "mode": "chat",
            }
        }
        (home / ".aider.model.metadata.json").write_text(json.dumps(metadata, indent=1) + "\n")
    if "analytics" in skip:
        # Aider asks when the id's first 6 hex digits are within its 10% share (aider/analytics.py).
        analytics = {"uuid": "00000000-0000-4000-8000-000000000000", "asked_opt_in": False}
        (home / ".aider").mkdir(exist_ok=True)
        (home / ".aider" / "analytics.json").write_text(json.dumps(analytics) + "\n")
    env = {"HOME": str(home), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    argv = (
        str(binaries.path("aider")),
        "--model",
        f"openai/{AIDER_MODEL}",
        "--openai-api-base",
        f"{base_url}/v1",
        "--openai-api-key",
        FAKE_KEY,
        "--edit-format",  # the diff format offers to run the shell blocks of an answer
        "diff",
    )
    return AgentLaunch("aider", argv, env, home, workdir)
