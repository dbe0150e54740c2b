"""`tmux-orchestrator classify --profile P`: classify one pane snapshot read from stdin, print JSON.

The screen text comes on stdin (e.g. `tmux capture-pane -p -t %3 | tmux-orchestrator classify`); process
facts come from flags. The verdict is computed by the same profile code the node agent runs.
"""

from __future__ import annotations

import argparse
import json
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default="claude-code", help="detector profile (default: claude-code)")
    parser.add_argument("--list", action="store_true", help="list the available profiles and exit")
    parser.add_argument("--dead", action="store_true", help="the pane's process has ended")
    parser.add_argument("--exit-status", type=int, metavar="N", help="exit status of the ended process")
    parser.add_argument("--exit-signal", type=int, metavar="N", help="signal that ended the process")
    parser.add_argument("--command", metavar="NAME", help="foreground command (pane_current_command)")
    parser.add_argument("--pid", type=int, help="pid of the pane's process")


def run(args: argparse.Namespace) -> int:
    from tmux_sidecar.classification import PaneSnapshot, ProcessFacts
    from tmux_sidecar.profile_plugins import available_profiles, load_profile
    from tmux_sidecar.profiles import UnknownProfileError

    if args.list:
        print("\n".join(available_profiles()))
        return 0
    try:
        profile = load_profile(args.profile)
    except UnknownProfileError as error:
        print(f"classify: {error}", file=sys.stderr)
        return 2
    process = ProcessFacts(
        dead=args.dead or args.exit_status is not None or args.exit_signal is not None,
        exit_status=args.exit_status,
        exit_signal=args.exit_signal,
        current_command=args.command,
        pid=args.pid,
    )
    lines = tuple(sys.stdin.read().splitlines())
    verdict = profile.classify(PaneSnapshot(lines, process))
    print(json.dumps({"profile": profile.name, **verdict.to_json()}, ensure_ascii=False))
    return 0
