"""`tmux-orchestrator team`: an agent (or its human) inside an agent pane talks to its team.

TARGET: an agent by member-ordinal (dev-1), a member (dev: each of its replicas), a role (@developer) or all.
The node agent knows who is asking from the process itself, not from the environment: an agent can only
speak as itself, and only to its own team."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tmux_orchestrator.team_view import (
    parse_duration,
    render_inbox,
    render_report,
    render_sent,
    render_status,
)
from tmux_sidecar.localapi.client import NoLocalApiError, call
from tmux_sidecar.localapi.protocol import LocalApiError, Operation

_STATES = ("working", "blocked", "needs-review", "done")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    send = sub.add_parser("send", help="send TEXT to TARGET (TEXT - or omitted: read stdin)")
    send.add_argument("target", metavar="TARGET")
    send.add_argument("text", nargs="*", metavar="TEXT")
    reply = sub.add_parser("reply", help="answer the teammate who sent you the last message")
    reply.add_argument("text", nargs="*", metavar="TEXT")
    status = sub.add_parser("status", help="the team: each agent's phase, activity, report, last message")
    status.add_argument("--json", action="store_true", help="print the answer as JSON")
    report = sub.add_parser("report", help="report your state (blocked, needs-review, done tell the PM)")
    report.add_argument("state", choices=_STATES, metavar="STATE", help=" | ".join(_STATES))
    report.add_argument("note", nargs="*", metavar="NOTE")
    checkin = sub.add_parser("checkin", help="schedule a message, to yourself unless --to")
    checkin.add_argument("--in", dest="after", required=True, metavar="DURATION", help="e.g. 5s, 10m, 1h")
    checkin.add_argument("--to", dest="target", metavar="TARGET", help="default: yourself")
    checkin.add_argument("text", nargs="+", metavar="TEXT")
    inbox = sub.add_parser("inbox", help="messages you received and sent, with sender and phase")
    inbox.add_argument("--json", action="store_true", help="print the answer as JSON")
    sub.add_parser("whoami", help="which agent this pane is, as the node agent sees it")


def _text(words: list[str]) -> str:
    """TEXT as given (several words are joined by one space, as echo does); `-` or nothing: stdin."""
    if words and words != ["-"]:
        return " ".join(words)
    if sys.stdin.isatty():
        raise ValueError("TEXT is missing (give it as an argument, or pipe it in with -)")
    return sys.stdin.read()


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except (LocalApiError, NoLocalApiError, ValueError) as error:
        print(f"team {args.verb}: {error}", file=sys.stderr)
        return 2 if isinstance(error, ValueError) else 1


def _run(args: argparse.Namespace) -> int:
    verb = args.verb
    if verb == "send":
        result = call(Operation.SEND, {"target": args.target, "text": _text(args.text)})
        print(render_sent(result))
    elif verb == "reply":
        print(render_sent(call(Operation.REPLY, {"text": _text(args.text)})))
    elif verb == "checkin":
        seconds = parse_duration(args.after)
        request: dict[str, Any] = {"seconds": seconds, "text": " ".join(args.text)}
        if args.target:
            request["target"] = args.target
        print(render_sent(call(Operation.CHECKIN, request)))
    elif verb == "report":
        result = call(Operation.REPORT, {"state": args.state, "note": " ".join(args.note) or None})
        print(render_report(args.state, result))
    elif verb == "status":
        result = call(Operation.STATUS)
        print(json.dumps(result, indent=2) if args.json else render_status(result))
    elif verb == "inbox":
        result = call(Operation.INBOX)
        print(json.dumps(result, indent=2) if args.json else render_inbox(result))
    elif verb == "whoami":
        me = call(Operation.WHOAMI)
        print(f"{me['agent']} ({me['name']}): member {me['member']}, role {me['role']}, team {me['team']}")
    return 0
