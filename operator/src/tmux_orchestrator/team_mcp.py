"""`tmux-orchestrator mcp`: the team's tools for an agent CLI, as an MCP server on stdio (DESIGN §8).

Tools: send_message, reply, team_status, report_status, schedule_checkin, read_inbox. Each is one request
to the node agent's local API, exactly as the `team` command makes it: the node agent knows the caller from
its process (this server runs as a child of the agent CLI, inside the agent's pane), never from arguments.
"""

from __future__ import annotations

import json
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from tmux_sidecar.localapi.client import NoLocalApiError, call
from tmux_sidecar.localapi.protocol import LocalApiError, Operation

from .team_view import parse_duration, render_inbox, render_report, render_sent, render_status

TOOL_NAMES = ("send_message", "reply", "team_status", "report_status", "schedule_checkin", "read_inbox")

_TARGETS = "an agent by member-ordinal (dev-1), a member (dev: each replica), a role (@developer) or all"
INSTRUCTIONS = (
    "You are one agent of a team of AI coding agents, each in its own tmux window. These tools reach your "
    "teammates: send them messages, answer the last one who wrote to you, see the team, report your state "
    "(the PM hears about blocked, needs-review and done) and schedule a check-in. Messages you receive from "
    "a teammate start with [from NAME]; answer with reply or send_message to NAME."
)


def _ask(operation: Operation, args: dict[str, Any] | None = None) -> Any:
    try:
        return call(operation, args)
    except (LocalApiError, NoLocalApiError) as error:
        raise ToolError(str(error)) from None


def build_server() -> MCPServer[Any]:
    server: MCPServer[Any] = MCPServer("tmux-orchestrator-team", instructions=INSTRUCTIONS)

    @server.tool(description=f"Send a message to teammates. target: {_TARGETS}.")
    def send_message(target: str, text: str) -> str:
        return render_sent(_ask(Operation.SEND, {"target": target, "text": text}))

    @server.tool(description="Answer the teammate who sent you the last message.")
    def reply(text: str) -> str:
        return render_sent(_ask(Operation.REPLY, {"text": text}))

    @server.tool(
        description="The team: each agent's role, phase, activity and since when, report, last message."
    )
    def team_status() -> str:
        return render_status(_ask(Operation.STATUS))

    @server.tool(
        description="Report your state: working, blocked, needs-review or done, with a note. The PM is told "
        "about blocked, needs-review and done."
    )
    def report_status(state: str, note: str = "") -> str:
        return render_report(state, _ask(Operation.REPORT, {"state": state, "note": note or None}))

    @server.tool(
        description="Schedule a message for later (a check-in), to yourself unless target is given. "
        f"delay: a duration such as 90, 5s, 10m or 1h30m. target: {_TARGETS}."
    )
    def schedule_checkin(delay: str, text: str, target: str = "") -> str:
        try:
            seconds = parse_duration(delay)
        except ValueError as error:
            raise ToolError(str(error)) from None
        request: dict[str, Any] = {"seconds": seconds, "text": text}
        if target:
            request["target"] = target
        return render_sent(_ask(Operation.CHECKIN, request))

    @server.tool(description="Messages you received and sent, with sender, receiver and delivery phase.")
    def read_inbox() -> str:
        return render_inbox(_ask(Operation.INBOX))

    return server


def mcp_config(command: str = "tmux-orchestrator") -> dict[str, Any]:
    """The `mcpServers` entry an MCP client is given (Claude Code --mcp-config takes it as JSON)."""
    return {"mcpServers": {"tmux-orchestrator": {"command": command, "args": ["mcp"]}}}


def mcp_config_json(command: str = "tmux-orchestrator") -> str:
    return json.dumps(mcp_config(command), separators=(",", ":"))
