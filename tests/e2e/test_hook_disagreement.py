"""Issue 12: when an agent's hooks and its screen disagree for more than a few seconds, the node agent's
metrics say so (a sign that a detector profile went stale). Here the hooks keep saying Busy (a loop in the
agent's pane reports UserPromptSubmit every second) while the screen, the fake agent at its prompt, says
Idle: the fresh hook state wins the status, and the disagreement is counted (once: the pure decision's
table tests)."""

from __future__ import annotations

import urllib.request

import pytest

from support.e2e import System, member, team, wait_team_ready
from support.kube import wait_for

# The loop runs inside the pane (a child of the pane's process), so the local API takes its reports.
LYING_HOOKS = (
    "(while sleep 1; do echo '{}' | tmux-orchestrator hook UserPromptSubmit; done) & "
    "exec tmux-orchestrator fake-agent"
)
COUNTER = (
    'tmux_orchestrator_node_activity_disagreements_total{hook="Busy",profile="claude-code",screen="Idle"}'
)


def metrics(system: System, node: str) -> dict[str, float]:
    endpoint = system.kube.get("tmuxnode", node)["status"]["screenEndpoint"]
    with urllib.request.urlopen(f"{endpoint}/metrics", timeout=10) as response:
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


@pytest.mark.timeout(120)
def test_hooks_and_screen_at_odds_are_counted(system: System) -> None:
    kube = system.kube
    kube.apply(team("odds", system.pool, [member("dev", command=["sh", "-c", LYING_HOOKS])]))
    wait_team_ready(kube, "odds")
    node = system.nodes[0].name
    wait_for(
        lambda: (
            (s := kube.get("agent", "odds-dev-0").get("status") or {}).get("activitySource") == "Hook"
            and s.get("activity") == "Busy"
        ),
        timeout=30,
        message="Busy by hook",
    )
    wait_for(
        lambda: metrics(system, node).get(COUNTER) == 1.0, timeout=30, message="the disagreement counted"
    )
