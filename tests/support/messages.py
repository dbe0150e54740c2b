"""The messages every delivery test and benchmark sends, and the fake agent's input modes they run against."""

from __future__ import annotations

from typing import Any

# A one-liner with everything a shell, tmux or a terminal could misread; a 5-line text; 1,500 characters.
ONE_LINER = 'say "hi" to $(whoami) and `id`, keep #{pane_id} and ##; literal — ünïcödé ✓ 🙂 \\ $HOME ~'
FIVE_LINES = "Plan for today:\n1. read the failing test\n2. fix 'parse()'\n3. run `make test`\n4. report back"
LONG = ("".join(f"[{i:03d}] lorem ipsum dolor sit amet; " for i in range(48)))[:1496] + " END"
MESSAGES = [ONE_LINER, FIVE_LINES, LONG]

# fake-agent flags that play each real CLI's input behaviour (see tmux_sidecar.fake_agent_input).
INPUT_MODES: dict[str, list[str]] = {
    "plain": [],
    "codex-paste-burst": ["--paste-burst", "0.05"],
    "aider-submit-each-line": ["--submit-each-line"],
    "claude-collapsed-pastes": ["--collapse-pastes", "2"],
    "busy-after-each-message": ["--busy-on-message", "0.5"],
}


def message_manifest(name: str, node: str, agent: str, text: str, **spec: Any) -> dict[str, Any]:
    """An AgentMessage routed to `node` (as the operator labels it) for `agent`."""
    return {
        "apiVersion": "orchestrator.tmux.dev/v1alpha1",
        "kind": "AgentMessage",
        "metadata": {"name": name, "labels": {"orchestrator.tmux.dev/node": node}},
        "spec": {"agent": agent, "text": text, "deliver": "WhenIdle", **spec},
    }
