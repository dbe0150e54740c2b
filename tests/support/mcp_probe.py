"""An MCP client run inside an agent pane by a test: starts `tmux-orchestrator mcp` over stdio, lists its
tools, calls the ones given, and writes what it saw as JSON.

    python mcp_probe.py CALLS.json OUT.json      (CALLS: [[tool, {arguments}], ...])
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

from mcp import ClientSession, StdioServerParameters, stdio_client


async def probe(calls: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    # An MCP client starts servers with a reduced environment; the socket is handed over as a CLI would.
    env = {"TMUX_ORCHESTRATOR_SOCKET": os.environ.get("TMUX_ORCHESTRATOR_SOCKET", "")}
    server = StdioServerParameters(command="tmux-orchestrator", args=["mcp"], env=env)
    async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        listed = await session.list_tools()
        results = []
        for name, arguments in calls:
            result: Any = await session.call_tool(name, arguments)
            texts = [getattr(item, "text", "") for item in result.content]
            results.append({"tool": name, "isError": bool(result.is_error), "text": "\n".join(texts)})
    return {"tools": sorted(tool.name for tool in listed.tools), "calls": results}


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as source:
        calls = [(name, arguments) for name, arguments in json.load(source)]
    seen = asyncio.run(probe(calls))
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        json.dump(seen, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
