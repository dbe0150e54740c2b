"""Subcommands of the `tmux-orchestrator` command line (edge modules: they may do I/O)."""

from __future__ import annotations
