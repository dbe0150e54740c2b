"""`tmux-orchestrator dev build|up|down|status|gomod|agents|real-team|capture`: the local control plane
and the real agent CLIs for development, tests and `make demo-real`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tmux_orchestrator.core.cpu_group import CONTROL_PLANE_WEIGHT, check_cpu_weight


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser("build", help="build (or find cached) etcd, kube-apiserver, kube-controller-manager")
    up = sub.add_parser("up", help="start the control plane; returns once /readyz answers")
    up.add_argument(
        "--kubeconfig", type=Path, help="write the admin kubeconfig here (default: in the state dir)"
    )
    up.add_argument(
        "--cpu-weight",
        type=_cpu_weight,
        default=CONTROL_PLANE_WEIGHT,
        metavar="W",
        help="run the control plane in a cpu cgroup of its own with this weight (cgroup v2's scale, 1-10000;"
        f" default {CONTROL_PLANE_WEIGHT}: ten services' worth against the agents' sessions; 0: off)",
    )
    down = sub.add_parser("down", help="stop every process `dev up` started")
    status = sub.add_parser("status", help="say whether the control plane runs, and where")
    for child in (up, down, status):
        child.add_argument("--state-dir", type=Path, help="where certificates, etcd data and logs live")
    sub.add_parser("gomod", help="regenerate the pinned Go modules after changing devcluster/versions.py")
    agents = sub.add_parser(
        "agents",
        help="install (or find cached) the pinned Claude Code, Codex and Aider; prints their bin dir",
    )
    agents.add_argument("--check", action="store_true", help="also run each CLI and print its version")
    real_team = sub.add_parser(
        "real-team",
        help="print the AgentTeam of `make demo-real` (Claude Code, Codex, Aider against a fake model)",
    )
    real_team.add_argument("--model-url", required=True, help="the fake model server, http://127.0.0.1:PORT")
    real_team.add_argument("--dir", type=Path, required=True, help="where the agents' HOMEs and projects go")
    real_team.add_argument("--name", default="demo-real", help="the team's name (default demo-real)")
    capture = sub.add_parser(
        "capture", help="capture the real CLIs' screens in every state into tests/data/screens (slow)"
    )
    capture.add_argument("--out", type=Path, default=Path("tests/data/screens"), help="where screens go")
    capture.add_argument(
        "--cli", action="append", choices=["claude-code", "codex", "aider"], help="only this CLI (repeatable)"
    )


def _cpu_weight(text: str) -> int:
    try:
        return check_cpu_weight(int(text), "the control plane's cpu weight")
    except ValueError as error:
        message = str(error) if text.strip().lstrip("+-").isdigit() else f"want a whole number, got {text!r}"
        raise argparse.ArgumentTypeError(message) from None


def run(args: argparse.Namespace) -> int:
    from tmux_orchestrator.devcluster import build, cluster

    if args.action == "build":
        binaries = build.ensure_binaries()
        print(binaries.directory)
        return 0
    if args.action in ("agents", "real-team"):
        return _with_agents(args)
    if args.action == "capture":
        from tmux_orchestrator.realagents import capture as screens

        try:
            written = screens.capture_all(args.out, args.cli or ["claude-code", "codex", "aider"])
        except screens.CaptureError as error:
            print(f"dev capture: {error}", file=sys.stderr)
            return 1
        print(f"{len(written)} screens under {args.out}")
        return 0
    if args.action == "gomod":
        build.regenerate_gomods()
        return 0
    state_dir: Path = args.state_dir or cluster.default_state_dir()
    if args.action == "up":
        running = cluster.start_cluster(state_dir, kubeconfig=args.kubeconfig, cpu_weight=args.cpu_weight)
        print(f"export KUBECONFIG={running.kubeconfig}")
        return 0
    if args.action == "down":
        cluster.stop_cluster(state_dir)
        return 0
    recorded = cluster.read_cluster(state_dir.resolve())
    if recorded is None or not cluster.is_running(recorded):
        print("not running", file=sys.stderr)
        return 1
    print(f"running at {recorded.server}; KUBECONFIG={recorded.kubeconfig}")
    return 0


def _with_agents(args: argparse.Namespace) -> int:
    """`dev agents` (install, print the bin dir) and `dev real-team` (print the demo team using them)."""
    import yaml

    from tmux_orchestrator.realagents import install, team

    try:
        agents = install.ensure_agents()
    except install.InstallError as error:
        print(f"dev {args.action}: {error}", file=sys.stderr)
        return 1
    if args.action == "real-team":
        manifest = team.demo_team(
            args.name, binaries=agents, root=args.dir.resolve(), base_url=args.model_url
        )
        print(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True), end="")
        return 0
    if args.check:
        for command, version in install.installed_versions(agents).items():
            print(f"{command}: {version}", file=sys.stderr)
    print(agents.directory)
    return 0
