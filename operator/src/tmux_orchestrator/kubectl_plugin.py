"""`kubectl agentteam status|promote|abort|restart|pause|resume|send|attach`.

Installed as `kubectl-agentteam`, so kubectl finds it as a plugin. Speaks only the public API: control
annotations, spec.paused and AgentMessages."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import shlex
import shutil
import socket
import sys
from collections.abc import Sequence

from .api.constants import LABEL_TEAM
from .core.clock import format_micro_time
from .kube import Kube, Resource, connect, is_not_found
from .plugin_view import attach_command, control_patch, message_body, render_status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kubectl agentteam", description=__doc__)
    parser.add_argument("-n", "--namespace", help="namespace of the team (default: the kubeconfig's)")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default $KUBECONFIG)")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb, help_text in (
        ("status", "show the rollout step, weights and agents per revision"),
        ("promote", "end the current pause of the rollout (skips the wait)"),
        ("abort", "roll every agent back to the stable revision now"),
        ("restart", "restart every agent of the team (rolling, like kubectl rollout restart)"),
        ("pause", "freeze the rollout where it is (spec.paused: true)"),
        ("resume", "continue a paused rollout (spec.paused: false)"),
        ("attach", "attach to the team's tmux session, or print the command to run on its node"),
    ):
        child = sub.add_parser(verb, help=help_text)
        child.add_argument("team")
    send = sub.add_parser("send", help="type a message into a member's agent (creates an AgentMessage)")
    send.add_argument("team")
    send.add_argument("member")
    send.add_argument("text")
    return parser


def _namespace(args: argparse.Namespace) -> str:
    if args.namespace:
        return str(args.namespace)
    try:
        from kubernetes_asyncio.config import list_kube_config_contexts

        _, active = list_kube_config_contexts(config_file=args.kubeconfig)
        return str((active or {}).get("context", {}).get("namespace") or "default")
    except Exception:
        return "default"


async def run_verb(kube: Kube, args: argparse.Namespace, namespace: str) -> int:
    team = await kube.get(Resource.AGENT_TEAMS, args.team, namespace)
    if args.verb == "status":
        agents, _ = await kube.list(Resource.AGENTS, namespace, label_selector=f"{LABEL_TEAM}={args.team}")
        sys.stdout.write(render_status(team, agents))
        return 0
    if args.verb == "send":
        name = f"{args.team}-{args.member}-0"
        try:
            agent = await kube.get(Resource.AGENTS, name, namespace)
        except Exception as error:
            if not is_not_found(error):
                raise
            agent = None
        created = await kube.create(
            Resource.AGENT_MESSAGES, message_body(team, args.member, args.text, agent), namespace
        )
        print(f"agentmessage.orchestrator.tmux.dev/{created['metadata']['name']} created")
        return 0
    if args.verb == "attach":
        return await _attach(kube, team)
    nonce = format_micro_time(datetime.datetime.now(datetime.UTC))
    await kube.patch(Resource.AGENT_TEAMS, args.team, control_patch(args.verb, nonce), namespace)
    print(f"agentteam.orchestrator.tmux.dev/{args.team} {args.verb} requested ({nonce})")
    return 0


async def _attach(kube: Kube, team: dict[str, object]) -> int:
    status = team.get("status") or {}
    spec = team.get("spec") or {}
    assert isinstance(status, dict) and isinstance(spec, dict)
    node_name = status.get("node")
    metadata = team["metadata"]
    assert isinstance(metadata, dict)
    session = str(spec.get("session") or metadata["name"])
    node = await kube.get(Resource.TMUX_NODES, str(node_name)) if node_name else None
    argv = attach_command(session, node)
    hostname = ((node or {}).get("status") or {}).get("hostname")
    if hostname and hostname != socket.gethostname():
        print(f"The team runs on node {node_name} (host {hostname}). On that host run:\n  {shlex.join(argv)}")
        return 0
    if not sys.stdout.isatty() or shutil.which("tmux") is None:
        print(shlex.join(argv))
        return 0
    os.execvp(argv[0], argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    namespace = _namespace(args)

    async def go() -> int:
        kube = await connect(args.kubeconfig)
        async with kube:
            try:
                return await run_verb(kube, args, namespace)
            except Exception as error:
                if is_not_found(error):
                    print(
                        f"Error: agentteam {args.team!r} not found in namespace {namespace!r}",
                        file=sys.stderr,
                    )
                    return 1
                raise

    return asyncio.run(go())


if __name__ == "__main__":
    sys.exit(main())
