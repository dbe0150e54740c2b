"""tmux-orchestrator: a Kubernetes operator for teams of AI coding agents that live in tmux."""

from __future__ import annotations

__version__ = "0.1.0"
