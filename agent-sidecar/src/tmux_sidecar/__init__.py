"""The node agent (agent-sidecar): turns Agents into tmux windows and reports what really happens."""

from __future__ import annotations
