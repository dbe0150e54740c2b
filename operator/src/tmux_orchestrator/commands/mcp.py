"""`tmux-orchestrator mcp`: the team's tools as an MCP server on stdio, for the agent CLI in this pane."""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__


def run(args: argparse.Namespace) -> int:
    from tmux_orchestrator.team_mcp import build_server

    build_server().run("stdio")
    return 0
