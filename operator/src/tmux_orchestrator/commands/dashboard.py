"""`tmux-orchestrator dashboard`: the web dashboard on this machine, for the cluster of a kubeconfig."""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", help="kubeconfig file (default $KUBECONFIG, then in-cluster)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to listen on; 0 picks a free one")
    parser.add_argument(
        "--namespace",
        "-n",
        dest="namespaces",
        action="append",
        default=[],
        metavar="NS",
        help="show only this namespace (repeatable); default: all namespaces",
    )
    parser.add_argument(
        "--actions",
        action="store_true",
        help="allow promote, abort, restart and send from the pages (each audited as an Event)",
    )
    parser.add_argument(
        "--screen-token-file",
        help="bearer token shown to the node agents' screen endpoints (default: the kubeconfig's token)",
    )


def run(args: argparse.Namespace) -> int:
    import asyncio
    import contextlib
    import logging

    from tmux_orchestrator.dashboard import DashboardOptions, run_dashboard
    from tmux_orchestrator.kube import connect

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    options = DashboardOptions(actions=args.actions, screen_token_file=args.screen_token_file)

    async def main() -> None:
        async with await connect(args.kubeconfig) as kube:
            await run_dashboard(
                kube, args.host, args.port, namespaces=tuple(dict.fromkeys(args.namespaces)), options=options
            )

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0
