"""The messages every delivery test and benchmark sends, and the fake agent's input modes they run against."""

from __future__ import annotations

import re
from typing import Any

from support.kube import Kubectl, wait_for

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


# Claude Code 2.1.332 sends a collapsed paste to the model wrapped in its own tags (seen in the fake model's
# record): "\n\n<pasted_content id="1229">\n<the text>\n</pasted_content id="1229">\n".
_CLAUDE_CODE_PASTE = re.compile(
    r'\A\s*<pasted_content id="[^"]*">\n(?P<text>.*)\n</pasted_content id="[^"]*">\s*\Z', re.DOTALL
)


def prompt_as_sent(prompt: str) -> str:
    """A prompt the model received, as the message text it came from (Claude Code's paste tags taken off)."""
    match = _CLAUDE_CODE_PASTE.match(prompt)
    return match["text"] if match else prompt


def message_manifest(name: str, node: str, agent: str, text: str, **spec: Any) -> dict[str, Any]:
    """An AgentMessage routed to `node` (as the operator labels it) for `agent`."""
    return {
        "apiVersion": "orchestrator.tmux.dev/v1alpha1",
        "kind": "AgentMessage",
        "metadata": {"name": name, "labels": {"orchestrator.tmux.dev/node": node}},
        "spec": {"agent": agent, "text": text, "deliver": "WhenIdle", **spec},
    }


def send_now_into_open_dialog(kube: Kubectl, node: str, agent: str, text: str, ttl_seconds: int) -> None:
    """With `agent` showing a dialog: a message `short` sent Now with `ttl_seconds` expires, naming the
    dialog, while a message `held` (`text`, sent Now too) stays Pending: neither is pasted into it."""
    kube.apply(message_manifest("short", node, agent, "yes", deliver="Now", ttlSeconds=ttl_seconds))
    kube.apply(message_manifest("held", node, agent, text, deliver="Now"))
    expired = wait_for(
        lambda: (
            (s := kube.get("agentmessage", "short").get("status") or {}).get("phase") not in (None, "Pending")
            and s
        ),
        timeout=30,
        message="short out of Pending",
    )
    assert expired["phase"] == "Expired", expired
    assert expired["reason"] == "ttlSeconds passed while the agent waited for an answer to a dialog"
    assert (kube.get("agentmessage", "held").get("status") or {}).get("phase") in (None, "Pending")
