"""`tmux-orchestrator operator`: reconcile AgentTeams into Agents on TmuxNodes (kopf)."""

from __future__ import annotations

import argparse
import os


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--namespace",
        "-n",
        dest="namespaces",
        action="append",
        default=[],
        metavar="NS",
        help="serve only this namespace (repeatable); default: all namespaces",
    )
    parser.add_argument("--kubeconfig", help="kubeconfig file (default $KUBECONFIG, then in-cluster)")
    parser.add_argument(
        "--metrics-port",
        type=int,
        default=int(os.environ.get("METRICS_PORT", "8080")),
        help="serve Prometheus /metrics on this port; 0 disables (default 8080)",
    )
    parser.add_argument(
        "--workers", type=int, default=8, help="teams reconciled concurrently (one pass per team at a time)"
    )
    parser.add_argument(
        "--dashboard-port",
        type=int,
        default=int(os.environ.get("DASHBOARD_PORT", "0")) or None,
        help="serve the web dashboard on this port (default: not served)",
    )
    parser.add_argument("--dashboard-host", default="0.0.0.0", help="address the dashboard listens on")
    parser.add_argument(
        "--dashboard-actions",
        action="store_true",
        help="allow promote, abort, restart and send from the dashboard (each audited as an Event)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    import kopf

    from tmux_orchestrator.controller.app import OperatorOptions, run_operator

    kopf.configure(verbose=args.verbose, log_format=kopf.LogFormat.PLAIN)
    if not args.verbose:  # kopf logs every handler call ("Handler ... succeeded") at INFO
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    options = OperatorOptions(
        kubeconfig=args.kubeconfig,
        namespaces=tuple(dict.fromkeys(args.namespaces)),
        metrics_port=args.metrics_port,
        team_workers=args.workers,
        dashboard_port=args.dashboard_port,
        dashboard_host=args.dashboard_host,
        dashboard_actions=args.dashboard_actions,
    )
    asyncio.run(run_operator(options))
    return 0
