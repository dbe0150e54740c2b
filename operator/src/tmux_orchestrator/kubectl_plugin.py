"""`kubectl agentteam status|promote|abort|restart|pause|resume|send|checkin|screen|attach`.

Installed as `kubectl-agentteam`, so kubectl finds it as a plugin. Speaks only the public API: control
annotations, spec.paused and AgentMessages; `screen` and `attach` reach the team's tmux on its node: here
when the node is this host, else through `kubectl exec` into the node agent's pod on that node.

TARGET (send, checkin): an agent by member-ordinal (dev-1), a member (dev: each replica), a role
(@developer) or all."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from .api.constants import LABEL_TEAM
from .core.clock import format_micro_time, format_time
from .core.targets import UnknownTargetError
from .kube import ApiError, Kube, Resource, connect, is_not_found
from .node_exec import NODE_AGENT_SELECTOR, NodeCommand, plan_node_command
from .plugin_view import attach_command, control_patch, message_bodies, render_status, screen_command
from .team_view import parse_duration


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
        ("attach", "attach to the team's tmux session (kubectl exec into its node agent pod in a cluster)"),
    ):
        child = sub.add_parser(verb, help=help_text)
        child.add_argument("team")
        if verb == "attach":
            _node_agent_namespace(child)
    send = sub.add_parser("send", help="type a message into agents of the team (creates AgentMessages)")
    send.add_argument("team")
    send.add_argument("target", metavar="TARGET", help="dev-1, dev, @developer or all")
    send.add_argument("text", nargs="?", default=None, metavar="TEXT", help="the text; - reads stdin")
    send.add_argument("-f", "--file", help="read the text from FILE")
    checkin = sub.add_parser("checkin", help="schedule a message: delivered after --in DURATION")
    checkin.add_argument("team")
    checkin.add_argument("text", metavar="TEXT")
    checkin.add_argument("--in", dest="after", required=True, metavar="DURATION", help="e.g. 30s, 10m, 1h")
    checkin.add_argument("--to", dest="target", default="@pm", metavar="TARGET", help="default: @pm")
    screen = sub.add_parser("screen", help="print an agent's current screen (tmux on its node)")
    screen.add_argument("team")
    screen.add_argument("agent", metavar="AGENT", help="member-ordinal (dev-1) or the Agent's name")
    _node_agent_namespace(screen)
    return parser


def _node_agent_namespace(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--node-agent-namespace",
        metavar="NS",
        help="where the node agent pods run (default: looked for in every namespace)",
    )


def _send_text(args: argparse.Namespace) -> str:
    if args.file is not None:
        if args.text is not None:
            raise ValueError("give TEXT or -f FILE, not both")
        with open(args.file, encoding="utf-8") as source:
            return source.read()
    if args.text is None or args.text == "-":
        if args.text is None and sys.stdin.isatty():
            raise ValueError("TEXT is missing (give it, -f FILE, or - to read stdin)")
        return sys.stdin.read()
    return str(args.text)


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
    if args.verb in ("send", "checkin"):
        text = _send_text(args) if args.verb == "send" else args.text
        if not text.strip():
            raise ValueError("the text is empty")
        due = None
        if args.verb == "checkin":
            moment = datetime.datetime.now(datetime.UTC) + datetime.timedelta(
                seconds=parse_duration(args.after)
            )
            due = format_time(moment + datetime.timedelta(microseconds=999_999))
        agents, _ = await kube.list(Resource.AGENTS, namespace, label_selector=f"{LABEL_TEAM}={args.team}")
        try:
            bodies = message_bodies(team, args.target, text, agents, deliver_after=due)
        except UnknownTargetError as error:
            raise ValueError(str(error)) from None
        for body in bodies:
            created = await kube.create(Resource.AGENT_MESSAGES, body, namespace)
            when = f" (delivered after {due})" if due else ""
            print(f"agentmessage.orchestrator.tmux.dev/{created['metadata']['name']} created{when}")
        return 0
    if args.verb == "screen":
        return await _screen(kube, team, args, namespace)
    if args.verb == "attach":
        return await _attach(kube, team, args)
    nonce = format_micro_time(datetime.datetime.now(datetime.UTC))
    await kube.patch(Resource.AGENT_TEAMS, args.team, control_patch(args.verb, nonce), namespace)
    print(f"agentteam.orchestrator.tmux.dev/{args.team} {args.verb} requested ({nonce})")
    return 0


async def _node_agent_pods(kube: Kube, node_name: str, namespace: str | None) -> list[dict[str, Any]]:
    """The node agent pods scheduled on `node_name` (by the DaemonSet's labels), as plain objects."""
    labels, fields = NODE_AGENT_SELECTOR, f"spec.nodeName={node_name}"
    try:
        if namespace:
            found = await kube.core.list_namespaced_pod(
                namespace, label_selector=labels, field_selector=fields
            )
        else:
            found = await kube.core.list_pod_for_all_namespaces(label_selector=labels, field_selector=fields)
    except ApiError as error:
        if error.status != 403:
            raise
        where = (
            f"in namespace {namespace}" if namespace else "in all namespaces (or give --node-agent-namespace)"
        )
        raise ValueError(
            f"not allowed to list pods {where}: needed to find the node agent pod of node {node_name}"
        ) from None
    return [kube.api_client.sanitize_for_serialization(pod) for pod in found.items]


async def _node_command(
    kube: Kube,
    tmux_argv: list[str],
    node_name: str,
    node: dict[str, Any] | None,
    args: argparse.Namespace,
    *,
    interactive: bool,
) -> NodeCommand:
    here = socket.gethostname()
    on_this_host = ((node or {}).get("status") or {}).get("hostname") == here
    pods = [] if on_this_host else await _node_agent_pods(kube, node_name, args.node_agent_namespace)
    return plan_node_command(
        tmux_argv,
        node_name=node_name,
        node=node,
        pods=pods,
        this_host=here,
        interactive=interactive,
        kubectl_flags=["--kubeconfig", args.kubeconfig] if args.kubeconfig else [],
    )


async def _attach(kube: Kube, team: dict[str, Any], args: argparse.Namespace) -> int:
    node_name = (team.get("status") or {}).get("node")
    session = str((team.get("spec") or {}).get("session") or team["metadata"]["name"])
    if not node_name:
        raise ValueError(f"team {team['metadata']['name']} runs on no node yet")
    node = await kube.get(Resource.TMUX_NODES, str(node_name))
    plan = await _node_command(
        kube, attach_command(session, node), str(node_name), node, args, interactive=True
    )
    if not sys.stdout.isatty() or shutil.which(plan.argv[0]) is None:
        print(shlex.join(plan.argv))  # not a terminal to attach: the command to run in one
        return 0
    os.execvp(plan.argv[0], plan.argv)


async def _screen(kube: Kube, team: dict[str, Any], args: argparse.Namespace, namespace: str) -> int:
    agent = str(args.agent)
    prefix = f"{team['metadata']['name']}-"
    name = agent if agent.startswith(prefix) else prefix + agent
    try:
        found = await kube.get(Resource.AGENTS, name, namespace)
    except Exception as error:
        if not is_not_found(error):
            raise
        raise ValueError(f"agent {name!r} not found in team {team['metadata']['name']!r}") from None
    pane = (found.get("status") or {}).get("paneId")
    node_name = (found.get("spec") or {}).get("nodeName")
    if not pane or not node_name:
        raise ValueError(f"agent {name} has no pane yet (phase {(found.get('status') or {}).get('phase')})")
    node = await kube.get(Resource.TMUX_NODES, str(node_name))
    plan = await _node_command(
        kube, screen_command(str(pane), node), str(node_name), node, args, interactive=False
    )
    result = subprocess.run(plan.argv, capture_output=True, text=True, check=False, timeout=30)
    if result.returncode != 0:
        where = f"in node agent pod {plan.pod} " if plan.pod else ""
        raise ValueError(
            f"could not capture {name}'s pane {pane} {where}({shlex.join(plan.argv)},"
            f" exit {result.returncode}): {result.stderr.strip()}"
        )
    sys.stdout.write(result.stdout)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    namespace = _namespace(args)

    async def go() -> int:
        kube = await connect(args.kubeconfig)
        async with kube:
            try:
                return await run_verb(kube, args, namespace)
            except (ValueError, OSError) as error:
                print(f"Error: {error}", file=sys.stderr)
                return 1
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
