"""Prometheus metrics of the node agent (the default registry), served at /metrics beside its screens."""

from __future__ import annotations

from prometheus_client import Counter

_PREFIX = "tmux_orchestrator_node"

ACTIVITY_DISAGREEMENTS = Counter(
    f"{_PREFIX}_activity_disagreements",
    "Times an agent's hooks and its screen reading disagreed for longer than a few seconds (each once), "
    "by detector profile and the two activities: a sign that the profile no longer matches the CLI.",
    ["profile", "hook", "screen"],
)
