"""`tmux-orchestrator hook EVENT`: the agent CLI's hook command; forwards the event's JSON (stdin) to the
node agent, which records it as the calling agent's activity.

It never holds the CLI up and never fails it: a short timeout, and every error (no socket, a refusal,
unreadable input) is swallowed with exit status 0. The node agent knows the caller from the process.

When the node agent answers with context for the CLI (a SessionStart after compaction: the briefing and the
team roster), it is printed as the hook's JSON output, which Claude Code adds to the session
(`hookSpecificOutput.additionalContext`); otherwise nothing is printed."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tmux_sidecar.localapi.client import NoLocalApiError, call
from tmux_sidecar.localapi.protocol import LocalApiError, Operation

_TIMEOUT = 2.0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("event", metavar="EVENT", help="the hook event, e.g. UserPromptSubmit, Stop")


def _payload(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def run(args: argparse.Namespace) -> int:
    try:
        payload = _payload(sys.stdin.read())
        answer = call(Operation.HOOK, {"event": args.event, "payload": payload}, timeout=_TIMEOUT)
    except (LocalApiError, NoLocalApiError, OSError, ValueError):
        return 0  # the CLI must go on whatever happens here; the screen is the fallback
    context = answer.get("additionalContext") if isinstance(answer, dict) else None
    if isinstance(context, str) and context:
        output = {"hookSpecificOutput": {"hookEventName": args.event, "additionalContext": context}}
        sys.stdout.write(json.dumps(output) + "\n")
    return 0
