"""`tmux-orchestrator team`: an agent (or its human) inside an agent pane talks to its team.

TARGET: an agent by member-ordinal (dev-1), a member (dev: each of its replicas), a role (@developer) or all.
The node agent knows who is asking from the process itself, not from the environment: an agent can only
speak as itself, and only to its own team."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from tmux_sidecar.localapi.client import NoLocalApiError, call
from tmux_sidecar.localapi.protocol import LocalApiError, Operation

_STATES = ("working", "blocked", "needs-review", "done")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """`90`, `5s`, `10m`, `1h30m`, `2d` → seconds; ValueError otherwise."""
    compact = text.strip().lower().replace(" ", "")
    if not compact:
        raise ValueError("empty duration")
    total, position = 0.0, 0
    for match in _DURATION.finditer(compact):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(compact) or total <= 0:
        raise ValueError(f"not a duration: {text!r} (examples: 90, 5s, 10m, 1h30m)")
    return total


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
        _print_sent(result)
    elif verb == "reply":
        _print_sent(call(Operation.REPLY, {"text": _text(args.text)}))
    elif verb == "checkin":
        seconds = parse_duration(args.after)
        request: dict[str, Any] = {"seconds": seconds, "text": " ".join(args.text)}
        if args.target:
            request["target"] = args.target
        _print_sent(call(Operation.CHECKIN, request))
    elif verb == "report":
        result = call(Operation.REPORT, {"state": args.state, "note": " ".join(args.note) or None})
        told = result.get("told")
        print(f"reported {args.state}" + (f"; told {told['to']} ({told['message']})" if told else ""))
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


def _print_sent(result: dict[str, Any]) -> None:
    when = f" (delivered after {result['deliverAfter']})" if result.get("deliverAfter") else ""
    for item in result["sent"]:
        print(f"sent to {item['to']}: agentmessage/{item['message']}{when}")


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header, *rows]
    ]
    return "\n".join(lines)


def render_status(result: dict[str, Any]) -> str:
    rows = []
    for agent in result["agents"]:
        report = agent.get("report") or {}
        last = agent.get("lastMessage") or {}
        rows.append(
            [
                agent["agent"] + (" (you)" if agent.get("you") else ""),
                agent["role"],
                agent.get("phase") or "-",
                agent.get("activity") or "-",
                agent.get("since") or "-",
                (report.get("state", "-") + (f": {report['note']}" if report.get("note") else "")),
                f"{last['from']}: {last['text']} [{last['phase']}]" if last else "-",
            ]
        )
    header = ["AGENT", "ROLE", "PHASE", "ACTIVITY", "SINCE", "REPORT", "LAST MESSAGE"]
    return f"team {result['team']}\n" + _table(header, rows)


def render_inbox(result: dict[str, Any]) -> str:
    if not result["messages"]:
        return "no messages"
    rows = [
        [
            m["created"],
            m["from"] if m["direction"] == "in" else f"→ {m['to']}",
            m["phase"]
            + (f" (after {m['deliverAfter']})" if m.get("deliverAfter") and m["phase"] == "Pending" else ""),
            " ".join(m["text"].split()),
        ]
        for m in result["messages"]
    ]
    return _table(["TIME", "FROM/TO", "PHASE", "TEXT"], rows)
