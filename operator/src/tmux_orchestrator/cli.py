"""The `tmux-orchestrator` command.

Each subcommand lives in its own module exposing `configure(parser)` and `run(args) -> int`; those modules
keep heavy imports (kopf, the Kubernetes client) inside `run`, so `crds` or `fake-agent` start fast."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

# name → (module, help). The module exposes `configure(parser)` and `run(args) -> int`.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "crds": (
        "tmux_orchestrator.commands.crds",
        "print the CustomResourceDefinitions (or write them with -o)",
    ),
    "dev": ("tmux_orchestrator.commands.dev", "build, start and stop a local Kubernetes control plane"),
    "fake-agent": ("tmux_orchestrator.commands.fake_agent", "run the simulated agent CLI"),
    "fake-model": ("tmux_orchestrator.commands.fake_model", "run the scripted fake model server (no keys)"),
    "classify": ("tmux_orchestrator.commands.classify", "classify a pane screen read from stdin"),
    "sidecar": ("tmux_orchestrator.commands.sidecar", "run the node agent for one tmux server"),
    "docs": ("tmux_orchestrator.commands.docs", "print the API reference (or write it with -o)"),
    "operator": ("tmux_orchestrator.commands.operator", "run the operator (reconciles AgentTeams; kopf)"),
    "mcp": (
        "tmux_orchestrator.commands.mcp",
        "inside an agent pane: the team's tools as an MCP server (stdio)",
    ),
    "team": ("tmux_orchestrator.commands.team", "inside an agent pane: message, see and schedule your team"),
    "hook": ("tmux_orchestrator.commands.hook", "inside an agent pane: forward a CLI hook event"),
    "dashboard": ("tmux_orchestrator.commands.dashboard", "serve the web dashboard (prints its URL)"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only `command`'s module is imported (every subcommand is listed in --help regardless)."""
    parser = argparse.ArgumentParser(prog="tmux-orchestrator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        child = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            module = importlib.import_module(module_name)
            module.configure(child)
            child.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    command = next((word for word in words if not word.startswith("-")), None)
    args = build_parser(command).parse_args(words)
    run: Callable[[argparse.Namespace], int] = args._run
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
