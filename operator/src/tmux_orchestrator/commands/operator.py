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
        "--resync-seconds",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="every watched kind is listed again (dropping objects whose deletion a watch gap hid) and every "
        "team reconciled this often (default 300)",
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
    parser.add_argument(
        "--liveness-port",
        type=int,
        default=0,
        help="serve kopf's liveness endpoint /healthz on this port (for probes); default 0: not served",
    )
    parser.add_argument(
        "--leader-elect",
        action="store_true",
        help="run as one of several replicas: only the holder of a coordination Lease acts, the others "
        "wait as standbys and take over when it stops renewing",
    )
    parser.add_argument(
        "--leader-election-namespace",
        default=os.environ.get("POD_NAMESPACE", "default"),
        metavar="NS",
        help="namespace of the leader election Lease (default $POD_NAMESPACE, else default)",
    )
    parser.add_argument(
        "--leader-election-lease",
        default="tmux-orchestrator-operator",
        metavar="NAME",
        help="name of the leader election Lease (default tmux-orchestrator-operator)",
    )
    parser.add_argument(
        "--leader-election-id",
        default=None,
        metavar="ID",
        help="this replica's identity in the Lease (default: host name plus a random suffix)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging
    import socket
    import uuid

    import kopf

    from tmux_orchestrator.controller.app import LeaderElection, OperatorOptions, run_operator
    from tmux_orchestrator.controller.leader import LeadershipLost

    kopf.configure(verbose=args.verbose, log_format=kopf.LogFormat.PLAIN)
    if not args.verbose:  # kopf logs every handler call ("Handler ... succeeded") at INFO
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    options = OperatorOptions(
        kubeconfig=args.kubeconfig,
        namespaces=tuple(dict.fromkeys(args.namespaces)),
        metrics_port=args.metrics_port,
        team_workers=args.workers,
        resync_seconds=args.resync_seconds,
        dashboard_port=args.dashboard_port,
        dashboard_host=args.dashboard_host,
        dashboard_actions=args.dashboard_actions,
        liveness_port=args.liveness_port,
        leader_election=LeaderElection(
            namespace=args.leader_election_namespace,
            lease=args.leader_election_lease,
            # Unique per process: a restarted replica must not mistake the Lease of its past life for its own.
            identity=args.leader_election_id or f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}",
        )
        if args.leader_elect
        else None,
    )
    try:
        asyncio.run(run_operator(options))
    except LeadershipLost as lost:
        logging.getLogger("tmux_orchestrator.operator").error("exiting: %s", lost)
        return 1
    return 0
