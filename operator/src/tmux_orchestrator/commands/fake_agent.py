"""`tmux-orchestrator fake-agent`: the simulated agent CLI (see tmux_sidecar.fake_agent for its script)."""

from __future__ import annotations

import argparse

from tmux_sidecar import fake_agent


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = fake_agent.__doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    fake_agent.configure_parser(parser)


def run(args: argparse.Namespace) -> int:
    return fake_agent.run(args)
