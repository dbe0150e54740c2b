"""The pinned versions of the real agent CLIs. Screens under tests/data/screens/<cli>/<version> were
captured from exactly these; a new version means new captures (`tmux-orchestrator dev capture`)."""

from __future__ import annotations

CLAUDE_CODE_VERSION = "2.1.332"  # npm @anthropic-ai/claude-code (native binary in a platform package)
CODEX_VERSION = "0.171.0"  # npm @openai/codex
AIDER_VERSION = "0.86.2"  # PyPI aider-chat, in its own venv

# The profile name each CLI is read with, and the version its screens were captured from.
VERSIONS: dict[str, str] = {
    "claude-code": CLAUDE_CODE_VERSION,
    "codex": CODEX_VERSION,
    "aider": AIDER_VERSION,
}


def versions_key() -> str:
    return f"claude-code-{CLAUDE_CODE_VERSION}_codex-{CODEX_VERSION}_aider-{AIDER_VERSION}"
