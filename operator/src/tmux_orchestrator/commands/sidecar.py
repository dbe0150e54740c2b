"""`tmux-orchestrator sidecar`: the node agent for one tmux server (a DaemonSet pod or a process per host)."""

from __future__ import annotations

import argparse
import logging
import os


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--node", default=os.environ.get("NODE_NAME"), help="TmuxNode name (default $NODE_NAME)"
    )
    parser.add_argument("--tmux-socket", help="tmux socket name (tmux -L); default tmux's own default socket")
    parser.add_argument("--tmux-socket-path", help="tmux socket path (tmux -S), e.g. on a shared hostPath")
    parser.add_argument("--capacity", type=int, help="agents this node may run (sets TmuxNode spec.capacity)")
    parser.add_argument(
        "--node-label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="label for the TmuxNode (repeatable), matched by a team's placement.nodeSelector",
    )
    parser.add_argument("--kubeconfig", help="kubeconfig file (default $KUBECONFIG, then in-cluster)")
    parser.add_argument(
        "--observe-interval", type=float, default=1.0, help="seconds between observation passes"
    )
    parser.add_argument(
        "--agent-nice",
        type=int,
        default=10,
        metavar="N",
        help="run every agent process at this CPU nice (0-19), below the node agent and tmux, and its"
        " session's autogroup too where the kernel schedules by autogroups; 0 leaves agents as tmux starts"
        " them (default 10)",
    )
    parser.add_argument(
        "--agent-cpu-weight",
        type=int,
        default=100,
        metavar="W",
        help="on a bare machine, put this node's agents into one cpu cgroup (tmux-orchestrator-agents.NODE)"
        " of this weight (1-10000, cgroup v2's scale: 100 weighs as one service), so that together they never"
        " outweigh the node agent, tmux and a local control plane; 0: agents stay in the node agent's cgroup."
        " Where cgroups are not writable (a pod) this does nothing (default 100)",
    )
    parser.add_argument(
        "--api-socket",
        help="unix socket of the local API agents talk to (default: under $XDG_RUNTIME_DIR or /tmp)",
    )
    parser.add_argument(
        "--screen-port",
        type=int,
        help="serve the agents' screens over HTTP on this port (0: any free port); default: not served",
    )
    parser.add_argument("--screen-host", default="0.0.0.0", help="address the screen endpoint listens on")
    parser.add_argument(
        "--screen-advertise",
        default=os.environ.get("POD_IP"),
        metavar="HOST",
        help="host written into TmuxNode status.screenEndpoint (default $POD_IP, else the listen address"
        " or the host name)",
    )
    parser.add_argument("--log-level", default="INFO")


def _label(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise SystemExit(f"sidecar: --node-label wants KEY=VALUE, got {item!r}")
    return key, value


def run(args: argparse.Namespace) -> int:
    import asyncio
    import contextlib
    import signal
    import sys
    from pathlib import Path

    from tmux_orchestrator.asgi import EmbeddedServer, bind
    from tmux_orchestrator.kube import connect
    from tmux_sidecar.cpu_group import check_agent_cpu_weight
    from tmux_sidecar.localapi.server import SocketInUseError, claim_socket_path, default_socket_path
    from tmux_sidecar.node import NodeAgent, NodeAgentConfig
    from tmux_sidecar.node.screens import screen_app, screen_url
    from tmux_sidecar.priority import check_agent_nice

    if not args.node:
        raise SystemExit("sidecar: --node or $NODE_NAME is required")
    try:
        agent_nice = check_agent_nice(args.agent_nice)
    except ValueError as error:
        raise SystemExit(f"sidecar: --agent-nice: {error}") from None
    try:
        agent_cpu_weight = check_agent_cpu_weight(args.agent_cpu_weight)
    except ValueError as error:
        raise SystemExit(f"sidecar: --agent-cpu-weight: {error}") from None
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    screen_socket = bind(args.screen_host, args.screen_port) if args.screen_port is not None else None
    config = NodeAgentConfig(
        node=args.node,
        screen_endpoint=screen_url(screen_socket, args.screen_advertise) if screen_socket else None,
        socket_name=args.tmux_socket,
        socket_path=args.tmux_socket_path,
        capacity=args.capacity,
        labels=dict(_label(item) for item in args.node_label),
        observe_interval=args.observe_interval,
        agent_nice=agent_nice,
        agent_cpu_weight=agent_cpu_weight,
        api_socket=args.api_socket or default_socket_path(args.node),
    )

    async def main() -> None:
        # SIGTERM (a pod being stopped) ends the node agent cleanly: its tmux control client is closed and the
        # tmux server, with every agent in it, keeps running for the next node agent to adopt.
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        kube = await connect(args.kubeconfig)
        async with kube:
            node_agent = NodeAgent(kube, config)
            server = EmbeddedServer(screen_app(kube, node_agent), screen_socket) if screen_socket else None
            if server is not None:
                server.start()
                logging.getLogger(__name__).info("screens served at %s", config.screen_endpoint)
            try:
                with contextlib.suppress(asyncio.CancelledError):
                    await node_agent.run()
            finally:
                if server is not None:
                    await server.stop()

    if config.api_socket:
        try:  # before the node registers: a second node agent of the same node must not start at all
            claim_socket_path(Path(config.api_socket))
        except SocketInUseError as error:
            print(f"sidecar: {error}", file=sys.stderr)
            return 1
    asyncio.run(main())
    return 0
